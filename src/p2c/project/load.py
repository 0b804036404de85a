"""Templates and projects: load the YAML, check everything, and hand the engine immutable objects.

A **template** (``p2c/templates/<name>.yaml``, or any file) is a list of tasks plus value maps; a
**project** (``p2c.yaml``) picks templates for a connection set and overrides pieces of them::

    name: contoso
    connections: connections.yaml          # or the connection set inline
    templates: [accounts, products]        # shipped names or paths to your own
    settings: {batch_size: 200, products_created_active: true}
    value_maps:                            # merged over the templates' maps
      country: {Narnia: "NA"}
    tasks:
      Accounts:
        filter: "statecode eq 0"           # ANDed with the template's built-in filter
        defaults: {CustomerGroupId: "20"}
        fields: {PaymentTerms: {source: paymenttermscode, value_map: payment_terms}}
    schedule: "*/15 * * * *"

Loading checks every name against the catalog, every expression, value map, filter, dependency
and type; the first problem is one ``ConfigError`` naming file:line, key path and reason. Nothing
runs when loading fails. ``docs/templates.md`` documents the format.

Example::

    >>> t = load_template("accounts")
    >>> t.task("Accounts").target, t.task("Accounts").key_target
    (Endpoint(system=<System.ERP: 'erp'>, entity='CustomersV3'), ('dataAreaId', 'CustomerAccount'))
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

from pydantic import ValidationError

from p2c.alerts import AlertSettings
from p2c.catalog import Catalog, FieldSpec, field_from_data, load_catalog
from p2c.errors import ConfigError
from p2c.mapping import Mapper, ValueMap
from p2c.project.build import Endpoint, Origin, Task, TaskDraft, build_task
from p2c.project.crm_schema import CrmSchema, crm_schema
from p2c.project.models import ProjectModel, ProjectSettings, TemplateModel
from p2c.project.schedule import Schedule
from p2c.settings import ConnectionSet, LegalEntity, System, load_connections, shared_business_unit
from p2c.yaml_doc import KeyPath, YamlDoc, load_yaml, parse_yaml, suggest, validation_error

__all__ = [
    "Endpoint",
    "Project",
    "ProjectSettings",
    "Task",
    "Template",
    "load_project",
    "load_template",
    "shipped_templates",
]

PROJECT_FILE = "p2c.yaml"
_CUSTOM_CRM_NAME = re.compile(r"^[a-z][a-z0-9]*_[a-z0-9_]+$")


@dataclass(frozen=True)
class Template:
    """A loaded template: its tasks in file order and its value maps."""

    name: str
    title: str
    description: str
    value_maps: Mapping[str, ValueMap] = field(repr=False)
    tasks: tuple[Task, ...] = field(repr=False)
    file: str = ""

    def task(self, name: str) -> Task:
        for t in self.tasks:
            if t.name == name:
                return t
        raise KeyError(f"template {self.name!r} has no task {name!r}")


@dataclass(frozen=True)
class Project:
    """A resolved project: connections, settings, merged value maps and tasks in dependency order."""

    name: str
    path: Path
    connections: ConnectionSet = field(repr=False)
    legal_entities: Mapping[str, LegalEntity]
    templates: tuple[str, ...]
    state_url: str
    settings: ProjectSettings
    value_maps: Mapping[str, ValueMap] = field(repr=False)
    tasks: tuple[Task, ...] = field(repr=False)
    schedule: Schedule | None = None
    alerts: AlertSettings = field(default_factory=AlertSettings, repr=False)
    catalog: Catalog = field(default_factory=load_catalog, repr=False)
    #: the ``crm_schema`` setting: which CRM columns p2c uses (p2c.project.crm_schema)
    crm_schema: CrmSchema = field(default_factory=CrmSchema, repr=False)

    def task(self, name: str) -> Task:
        for t in self.tasks:
            if t.name == name:
                return t
        raise KeyError(f"project {self.name!r} has no task {name!r}")

    def enabled_tasks(self) -> tuple[Task, ...]:
        return tuple(t for t in self.tasks if not t.disabled)

    def mapper(self, task: Task | str, company: str) -> Mapper:
        """The mapper of ``task`` for one legal entity (ERP company ``company``)."""
        t = self.task(task) if isinstance(task, str) else task
        company = company.lower()
        if company not in self.legal_entities:
            raise KeyError(
                f"company {company!r} is not among the legal entities ({', '.join(self.legal_entities)})"
            )
        entity = self.catalog.entity(t.target.system, t.target.entity)
        return Mapper(
            t,
            self.value_maps,
            t.defaults,
            {"company": company, "business_unit": self.legal_entities[company].business_unit},
            target_fields=entity.fields,
            enums=self.catalog.enums,
        )


def shipped_templates() -> list[str]:
    """Names of the templates that ship with p2c."""
    root = resources.files("p2c.templates")
    return sorted(
        p.name[:-5] for p in root.iterdir() if p.name.endswith(".yaml") and p.name != "catalog.yaml"
    )


def _template_doc(ref: str, base: Path | None) -> YamlDoc:
    if ref.endswith((".yaml", ".yml")) or "/" in ref or "\\" in ref:
        path = Path(ref)
        if not path.is_absolute() and base is not None:
            path = base / path
        return load_yaml(path)
    if ref not in shipped_templates():
        raise KeyError(ref)
    text = resources.files("p2c.templates").joinpath(f"{ref}.yaml").read_text(encoding="utf-8")
    return parse_yaml(text, f"p2c/templates/{ref}.yaml")


def _template_model(doc: YamlDoc) -> TemplateModel:
    if not isinstance(doc.data, Mapping):
        raise doc.error("a template is a mapping with name, title, description, value_maps and tasks")
    try:
        return TemplateModel.model_validate(doc.data)
    except ValidationError as exc:
        raise validation_error(exc, doc, TemplateModel) from None


def _value_maps(raw: Mapping[str, Mapping[Any, Any]], doc: YamlDoc, into: dict[str, ValueMap]) -> None:
    for name, entries in raw.items():
        try:
            vm = into[name].merged(entries) if name in into else ValueMap(name, entries)
        except ValueError as e:
            raise doc.error(f"value map '{name}': {e}", ("value_maps", name)) from None
        into[name] = vm


def load_template(name_or_path: str | Path, catalog: Catalog | None = None) -> Template:
    """A shipped template by name (``accounts``) or a template file, checked against the catalog.

    Dependencies on tasks of other templates are checked when a project uses the template.
    """
    ref = str(name_or_path)
    try:
        doc = _template_doc(ref, Path.cwd())
    except KeyError:
        raise ConfigError(f"unknown template '{ref}'; shipped: {', '.join(shipped_templates())}") from None
    model = _template_model(doc)
    maps: dict[str, ValueMap] = {}
    _value_maps(model.value_maps, doc, maps)
    cat = catalog or load_catalog()
    tasks = tuple(
        build_task(TaskDraft.from_model(n, model, t, doc), cat, maps) for n, t in model.tasks.items()
    )
    return Template(model.name, model.title, model.description, MappingProxyType(maps), tasks, doc.name)


def load_project(path: Path | str, catalog: Catalog | None = None) -> Project:
    """Load and check a project file; see the module docstring for the format."""
    path = Path(path)
    if path.is_dir():
        path = path / PROJECT_FILE
    doc = load_yaml(path)
    if not isinstance(doc.data, Mapping):
        raise doc.error("a project is a mapping with name, connections, templates, ...")
    try:
        model = ProjectModel.model_validate(doc.data)
    except ValidationError as exc:
        raise validation_error(exc, doc, ProjectModel) from None
    base = path.parent.resolve()
    connections = _connections(model.connections, doc, base)
    legal = _legal_entities(model, connections, doc)
    schema = crm_schema(model.crm_schema)
    cat = _with_custom_fields(schema.apply_catalog(catalog or load_catalog()), model.custom_fields, doc)

    drafts: dict[str, TaskDraft] = {}
    maps: dict[str, ValueMap] = {}
    map_origin: dict[str, str] = {}
    for i, ref in enumerate(model.templates):
        try:
            tdoc = _template_doc(ref, base)
        except KeyError:
            hint = suggest(ref, shipped_templates())
            raise doc.error(
                f"unknown template '{ref}'{hint}; shipped: {', '.join(shipped_templates())}", ("templates", i)
            ) from None
        tmodel = _template_model(tdoc)
        for name, entries in tmodel.value_maps.items():
            fresh: dict[str, ValueMap] = {}
            _value_maps({name: entries}, tdoc, fresh)
            if name in maps and maps[name] != fresh[name]:
                reason = f"value map '{name}' differs from the one in {map_origin[name]}; rename one of them"
                raise tdoc.error(reason, ("value_maps", name))
            maps[name], map_origin[name] = fresh[name], tdoc.name
        for name, tm in tmodel.tasks.items():
            if name in drafts:
                reason = f"task '{name}' is already defined by template '{drafts[name].template}'"
                raise tdoc.error(reason, ("tasks", name))
            drafts[name] = TaskDraft.from_model(name, tmodel, tm, tdoc)
    _value_maps(model.value_maps, doc, maps)
    for name, override in model.tasks.items():
        if name not in drafts:
            hint = suggest(name, list(drafts))
            raise doc.error(f"unknown task '{name}'{hint}; tasks: {', '.join(drafts)}", ("tasks", name))
        drafts[name].apply(override, doc)
    for draft in drafts.values():
        schema.apply_draft(draft)
    built = {name: build_task(d, cat, maps) for name, d in drafts.items()}
    ordered = _order(built, drafts)
    return Project(
        name=model.name,
        path=path.resolve(),
        connections=connections,
        legal_entities=MappingProxyType(legal),
        templates=tuple(model.templates),
        state_url=_state_url(model.state, base),
        settings=model.settings,
        value_maps=MappingProxyType(maps),
        tasks=ordered,
        schedule=_schedule(model.schedule, doc, [t.name for t in ordered]),
        alerts=AlertSettings.from_data(model.alerts, doc, ("alerts",)),
        catalog=cat,
        crm_schema=schema,
    )


def _connections(raw: Any, doc: YamlDoc, base: Path) -> ConnectionSet:
    if isinstance(raw, str):
        p = Path(raw)
        return load_connections(p if p.is_absolute() else base / p)
    if isinstance(raw, Mapping):
        return ConnectionSet.from_data(raw, doc, ("connections",))
    raise doc.error(
        "connections is the path of a connections.yaml or the connection set itself", ("connections",)
    )


def _legal_entities(model: ProjectModel, connections: ConnectionSet, doc: YamlDoc) -> dict[str, LegalEntity]:
    if model.legal_entities is None:
        return dict(connections.legal_entities)
    legal = dict(model.legal_entities)
    if not legal:
        raise doc.error(
            "name at least one legal entity (ERP company: CRM business unit)", ("legal_entities",)
        )
    known = set(connections.erp.companies)
    for company in legal:
        if known and company not in known:
            reason = f"company '{company}' is not among the erp companies ({', '.join(sorted(known))})"
            raise doc.error(reason, ("legal_entities", company))
    shared = shared_business_unit(legal)
    if shared:
        raise doc.error(shared[1], ("legal_entities", shared[0]))
    return legal


def _with_custom_fields(catalog: Catalog, raw: Mapping[str, Mapping[str, Any]], doc: YamlDoc) -> Catalog:
    extra: dict[tuple[System, str], list[FieldSpec]] = {}
    for entity_name, fields in raw.items():
        entity = catalog.find(entity_name)
        if entity is None:
            hint = suggest(entity_name, [n for s in System for n in catalog.names(s)])
            raise doc.error(f"unknown entity '{entity_name}'{hint}", ("custom_fields", entity_name))
        for fname, definition in fields.items():
            where: KeyPath = ("custom_fields", entity_name, fname)
            if entity.field(fname) is not None:
                raise doc.error(f"{entity.name} already has a field '{fname}'", where)
            if entity.system is System.CRM and not _CUSTOM_CRM_NAME.match(fname):
                raise doc.error(
                    "a custom CRM column is named <publisher prefix>_<name>, e.g. new_region", where
                )
            spec_data = {"type": definition} if isinstance(definition, str) else definition
            if not isinstance(spec_data, Mapping):
                raise doc.error("give a type (string, int, ...) or {type: ..., max_length: ...}", where)
            try:
                spec = field_from_data(fname, {**spec_data, "custom": True})
            except ValueError as e:
                raise doc.error(str(e), where) from None
            extra.setdefault((entity.system, entity.name), []).append(spec)
    return catalog.with_fields(extra) if extra else catalog


def _order(tasks: Mapping[str, Task], drafts: Mapping[str, TaskDraft]) -> tuple[Task, ...]:
    """Topological order (parents first); ties keep template order. Names a cycle if there is one."""
    names = list(tasks)
    for name, task in tasks.items():
        for i, dep in enumerate(task.depends_on):
            if dep not in tasks:
                hint = suggest(dep, names)
                raise drafts[name].origin.error(
                    f"unknown task '{dep}' in depends_on{hint}; tasks: {', '.join(names)}", "depends_on", i
                )
            if dep == name:
                raise drafts[name].origin.error(f"task '{name}' depends on itself", "depends_on", i)
    done: list[str] = []
    pending = list(names)
    while pending:
        ready = next((n for n in pending if all(d in done for d in tasks[n].depends_on)), None)
        if ready is None:
            cycle = _find_cycle(tasks, pending)
            origin: Origin = drafts[cycle[0]].origin
            raise origin.error(f"dependency cycle: {' → '.join(cycle)}", "depends_on")
        done.append(ready)
        pending.remove(ready)
    return tuple(tasks[n] for n in done)


def _find_cycle(tasks: Mapping[str, Task], among: Sequence[str]) -> list[str]:
    start = among[0]
    path: list[str] = [start]
    node = start
    while True:
        node = next(d for d in tasks[node].depends_on if d in among)
        if node in path:
            cycle = path[path.index(node) :]
            return [*cycle, node]
        path.append(node)


def _state_url(state: str | None, base: Path) -> str:
    value = state or "p2c.db"
    if "://" in value:
        return value
    p = Path(value)
    return f"sqlite:///{p if p.is_absolute() else (base / p)}"


def _schedule(value: Any, doc: YamlDoc, tasks: Sequence[str]) -> Schedule | None:
    if value is None:
        return None
    try:
        schedule = Schedule.parse(value)
    except ValueError as exc:
        raise doc.error(str(exc), ("schedule",)) from None
    unknown = [t for t in schedule.tasks if t not in tasks]
    if unknown:
        raise doc.error(f"unknown task {unknown[0]!r} (tasks: {', '.join(tasks)})", ("schedule", "tasks"))
    return schedule
