"""What the console's pages show that the REST API does not need: a project's configuration in
words, the health of a project at a glance, the links of a record, and small SVG charts.

Pure functions of the service's views and the loaded project; the templates only lay them out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from p2c.mapping import expression as e
from p2c.project import Project
from p2c.service.views import ProjectView, RecordView, RunView
from p2c.settings import System
from p2c.web.links import crm_link, erp_link

__all__ = ["FATES", "TaskConfig", "bars", "expr_text", "health", "record_links", "spark", "task_configs"]

#: the fates of a record, in the order the pages show them, with their colours
FATES: tuple[tuple[str, str, str], ...] = (
    ("created", "new", "#2e7d32"),
    ("updated", "updated", "#1565c0"),
    ("deleted", "deleted", "#6a1b9a"),
    ("unchanged", "unchanged", "#9e9e9e"),
    ("filtered", "filtered", "#bdbdbd"),
    ("skipped", "skipped", "#f9a825"),
    ("waiting", "waiting", "#ef6c00"),
    ("failed", "failed", "#c62828"),
)


def health(view: ProjectView) -> str:
    """ok / attention / failing, for the overview."""
    last = view.last_run
    if view.error or view.paused or (last is not None and last.status in ("failed", "crashed")):
        return "failing"
    if view.open_failures or view.waiting or (last is not None and last.status in ("partial", "interrupted")):
        return "attention"
    if any(v != "ok" for v in view.health.values()):
        return "failing"
    return "ok"


def expr_text(expr: Any) -> str:
    """A field expression as a person reads it (``value_map country(address1_country)``)."""
    match expr:
        case e.Source(field=f):
            return f
        case e.Const(value=v):
            return repr(v)
        case e.ContextValue(name=n):
            return f"${n}"
        case e.Concat(items=items, sep=sep):
            return f"concat({', '.join(expr_text(i) for i in items)}; sep {sep!r})"
        case e.Split(input=i, sep=sep, index=n):
            return f"split({expr_text(i)}, {sep!r})[{n}]"
        case e.Arithmetic(text=t):
            return f"= {t}"
        case e.Lookup(spec=s):
            by = f" by {s.by}" if s.by else ""
            return f"lookup {s.entity}.{s.field}{by} of {s.source} (missing: {s.missing})"
        case e.First(items=items):
            return f"first of({', '.join(expr_text(i) for i in items)})"
        case e.ValueMapped(input=i, map=m):
            return f"value_map {m}({expr_text(i)})"
        case e.Defaulted(input=i, default=d):
            return f"{expr_text(i) if i is not None else ''} default {d!r}".strip()
    return str(expr)


@dataclass(frozen=True)
class TaskConfig:
    name: str
    flow: str
    source: str
    target: str
    key: str
    filter: str | None
    depends_on: tuple[str, ...]
    rules: tuple[str, ...]
    fields: list[tuple[str, str]]
    defaults: list[tuple[str, str]]
    disabled: bool


def task_configs(project: Project) -> list[TaskConfig]:
    out = []
    for t in project.tasks:
        out.append(
            TaskConfig(
                name=t.name,
                flow=str(t.flow),
                source=f"{t.source.system.value.upper()} {t.source.entity}",
                target=f"{t.target.system.value.upper()} {t.target.entity}",
                key=f"{', '.join(t.key_source)} → {', '.join(t.key_target)}",
                filter=t.filter,
                depends_on=t.depends_on,
                rules=tuple(str(r) for r in t.rules),
                fields=[(name, expr_text(x)) for name, x in t.fields.items()],
                defaults=[(k, repr(v)) for k, v in t.defaults.items()],
                disabled=t.disabled,
            )
        )
    return out


def record_links(project: Project, record: RecordView) -> dict[str, str]:
    """Links opening the record's source and target in the CRM and the ERP, where they are known."""
    try:
        task = project.task(record.task)
    except KeyError:
        return {}
    conns = project.connections
    out: dict[str, str] = {}
    for end, key, fields in (
        (task.source, record.source_key, task.key_source),
        (task.target, record.target_key, task.key_target),
    ):
        label = "source" if end is task.source else "target"
        if end.system is System.CRM:
            spec = project.catalog.entity(System.CRM, end.entity)
            link = crm_link(conns.crm.url, spec.logical_name, key)
        else:
            link = erp_link(conns.erp.url, end.entity, fields, key)
        if link:
            out[f"{label} in the {end.system.value.upper()}"] = link
    return out


def spark(runs: Sequence[RunView], width: int = 240, height: int = 40) -> str:
    """An SVG of records written (green) and failed (red) per run, oldest left; with a title."""
    runs = list(reversed(runs[:30]))
    if not runs:
        return ""
    top = max(max(r.counts.created + r.counts.updated + r.counts.deleted, r.counts.failed) for r in runs) or 1
    step = width / 30
    bars = []
    for i, r in enumerate(runs):
        written = r.counts.created + r.counts.updated + r.counts.deleted
        for n, (value, colour) in enumerate(((written, "#2e7d32"), (r.counts.failed, "#c62828"))):
            h = 0 if not value else max(1.5, value / top * (height - 2))
            x = i * step + n * step / 2
            bars.append(
                f'<rect x="{x:.1f}" y="{height - h:.1f}" width="{step / 2 - 1:.1f}" height="{h:.1f}" fill="{colour}">'
                f"<title>run {r.id}: {written} written, {r.counts.failed} failed</title></rect>"
            )
    return (
        f'<svg role="img" aria-label="records written and failed in the last {len(runs)} runs" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">{"".join(bars)}</svg>'
    )


def bars(tasks: Sequence[Any], width: int = 520) -> str:
    """An SVG bar per task, split by fate (what became of its records), with a legend."""
    if not tasks:
        return ""
    row, label = 22, 170
    top = max((t.counts.read for t in tasks), default=0) or 1
    parts = []
    for i, t in enumerate(tasks):
        y = i * row
        # a part of a split load, short for the label's 170 px: "Accounts 2/4"
        task = f"{t.task} {t.part}" if t.part else t.task
        parts.append(f'<text x="0" y="{y + 15}" font-size="12">{_esc(task)}</text>')
        x = float(label)
        for name, shown, colour in FATES:
            value = getattr(t.counts, name)
            if not value:
                continue
            w = max(1.0, value / top * (width - label - 10))
            parts.append(
                f'<rect x="{x:.1f}" y="{y + 4}" width="{w:.1f}" height="{row - 8}" fill="{colour}">'
                f"<title>{_esc(task)}: {value} {shown}</title></rect>"
            )
            x += w
    height = len(tasks) * row
    return (
        f'<svg role="img" aria-label="records of each task by what became of them" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}">{"".join(parts)}</svg>'
    )


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
