"""From a task's raw YAML (template + project overrides) to a checked, immutable :class:`Task`.

Every check names the file and line the offending piece came from: a field overridden by the
project is reported in the project file, one from the template in the template file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

from p2c.catalog import NUMERIC_TYPES, Catalog, EntitySpec, FieldSpec, FieldType
from p2c.errors import ConfigError
from p2c.mapping import (
    Arithmetic,
    Const,
    Defaulted,
    Expr,
    ExpressionError,
    First,
    Lookup,
    LookupSpec,
    Source,
    TransformError,
    ValueMap,
    ValueMapped,
    arithmetic_names,
    coerce,
    iter_nodes,
    parse_expression,
    replace_lookups_at,
    source_fields,
)
from p2c.project.models import TaskModel, TaskOverrideModel, TemplateModel
from p2c.project.watermark import WATERMARK_KEYS, Watermark, build_watermark
from p2c.rules import FLOW_RULES, RULES, FlowName, RuleName, flows_of
from p2c.settings import System
from p2c.yaml_doc import KeyPath, YamlDoc, suggest

__all__ = ["Endpoint", "Origin", "Task", "TaskDraft", "build_task", "check_filter"]


@dataclass(frozen=True)
class Origin:
    """Where a piece of configuration was written: a file and a key path in it."""

    doc: YamlDoc
    path: KeyPath

    def error(self, reason: str, *sub: str | int) -> ConfigError:
        return self.doc.error(reason, (*self.path, *sub))


@dataclass(frozen=True)
class Endpoint:
    system: System
    entity: str


@dataclass(frozen=True)
class Task:
    """One resolved task: what to read, where to write, how to map. Immutable."""

    name: str
    template: str
    source: Endpoint
    target: Endpoint
    key_source: tuple[str, ...]
    key_target: tuple[str, ...]
    fields: Mapping[str, Expr] = field(repr=False)
    defaults: Mapping[str, Any] = field(repr=False)
    title: str = ""
    description: str = ""
    builtin_filter: str | None = None
    extra_filter: str | None = None
    depends_on: tuple[str, ...] = ()
    rules: tuple[RuleName, ...] = ()
    disabled: bool = False
    flow: FlowName = FlowName.GENERIC
    columns: Mapping[str, str] = field(default_factory=dict, repr=False)  # crm_schema: p2c's → used
    watermark: Watermark | None = None  # an ERP read narrowed on a date field (p2c.project.watermark)

    @property
    def target_entity(self) -> str:
        return self.target.entity

    @property
    def source_key(self) -> tuple[str, ...]:
        return self.key_source

    @property
    def extra_source_fields(self) -> tuple[str, ...]:
        """Source fields the task's rules read (the engine selects them too)."""
        return tuple(dict.fromkeys(self.columns.get(f, f) for r in self.rules for f in RULES[r].requires))

    @property
    def filter(self) -> str | None:
        """The built-in filter ANDed with the project's extra one (source system's $filter dialect)."""
        parts = [f for f in (self.builtin_filter, self.extra_filter) if f]
        return " and ".join(f"({p})" for p in parts) if len(parts) == 2 else (parts[0] if parts else None)

    def source_fields(self) -> set[str]:
        """Every source field to select: mapped, key and rule fields (not ``$`` pseudo-fields)."""
        out = set(self.key_source) | set(self.extra_source_fields)
        for expr in self.fields.values():
            out |= source_fields(expr)
        return {f for f in out if not f.startswith("$")}


@dataclass
class TaskDraft:
    """A task's raw pieces with their origins, while template and project are merged."""

    name: str
    template: str
    model: TaskModel
    origin: Origin
    fields: dict[str, tuple[Any, Origin]]
    defaults: dict[str, tuple[Any, Origin]]
    extra_filter: tuple[str, Origin] | None = None
    disabled: bool = False
    flow: str | None = None  # the template's ``flow:``
    #: ``watermark`` and ``watermark_overlap`` as written, with where (p2c.project.watermark)
    watermark: dict[str, tuple[Any, Origin]] = field(default_factory=dict)
    columns: dict[str, str] = field(default_factory=dict)  # set by p2c.project.crm_schema

    @classmethod
    def from_model(cls, name: str, template: TemplateModel, model: TaskModel, doc: YamlDoc) -> TaskDraft:
        base: KeyPath = ("tasks", name)
        return cls(
            name,
            template.name,
            model,
            Origin(doc, base),
            {t: (raw, Origin(doc, (*base, "fields", t))) for t, raw in model.fields.items()},
            {t: (v, Origin(doc, (*base, "defaults", t))) for t, v in model.defaults.items()},
            flow=template.flow,
            watermark={
                k: (getattr(model, k), Origin(doc, (*base, k)))
                for k in WATERMARK_KEYS
                if getattr(model, k) is not None
            },
        )

    def apply(self, override: TaskOverrideModel, doc: YamlDoc) -> None:
        base: KeyPath = ("tasks", self.name)
        # null removes a template's field mapping or default
        for t, raw in override.fields.items():
            if raw is None:
                self.fields.pop(t, None)
            else:
                self.fields[t] = (raw, Origin(doc, (*base, "fields", t)))
        for t, value in override.defaults.items():
            if value is None:
                self.defaults.pop(t, None)
            else:
                self.defaults[t] = (value, Origin(doc, (*base, "defaults", t)))
        if override.filter:
            self.extra_filter = (override.filter, Origin(doc, (*base, "filter")))
        self.disabled = override.disabled
        for k in WATERMARK_KEYS & override.model_fields_set:  # `watermark: null` turns it off
            self.watermark[k] = (getattr(override, k), Origin(doc, (*base, k)))


def build_task(draft: TaskDraft, catalog: Catalog, value_maps: Mapping[str, ValueMap]) -> Task:
    """Parse and check every piece of ``draft``; the first problem is a ConfigError at its origin."""
    return _Builder(draft, catalog, value_maps).build()


class _Builder:
    def __init__(self, draft: TaskDraft, catalog: Catalog, value_maps: Mapping[str, ValueMap]) -> None:
        self.d = draft
        self.catalog = catalog
        self.value_maps = value_maps
        m = draft.model
        self.src = self._entity(m.source.system, m.source.entity, "source")
        self.tgt = self._entity(m.target.system, m.target.entity, "target")
        if self.src.system is self.tgt.system:
            raise draft.origin.error(
                "source and target must be different systems (crm and erp)", "target", "system"
            )
        self.provided: set[str] = set()

    def _entity(self, system: System, name: str, side: str) -> EntitySpec:
        spec = self.catalog.get(system, name)
        if spec is None:
            hint = suggest(name, self.catalog.names(system))
            raise self.d.origin.error(f"unknown {system.value} entity '{name}'{hint}", side, "entity")
        return spec

    def build(self) -> Task:
        d, m = self.d, self.d.model
        flow = self._flow()
        rules = self._rules(flow)
        for i, name in enumerate(m.key.source):
            if name.startswith("$") or self.src.field(name) is None:
                raise d.origin.error(self._unknown(name, self.src, "source field"), "key", "source", i)
        for i, name in enumerate(m.key.target):
            if self.tgt.field(name) is None:
                raise d.origin.error(self._unknown(name, self.tgt, "field"), "key", "target", i)
            if name not in d.fields and name not in d.defaults:
                raise d.origin.error(
                    f"key field '{name}' is not mapped: add it to fields", "key", "target", i
                )
        fields = {target: self._field(target, raw, origin) for target, (raw, origin) in d.fields.items()}
        defaults = {
            target: self._default(target, value, origin) for target, (value, origin) in d.defaults.items()
        }
        if m.filter:
            check_filter(m.filter, self.src, self.catalog, d.origin.doc, (*d.origin.path, "filter"))
        extra = None
        if d.extra_filter:
            extra, origin = d.extra_filter
            check_filter(extra, self.src, self.catalog, origin.doc, origin.path)
        return Task(
            name=d.name,
            template=d.template,
            source=Endpoint(self.src.system, self.src.name),
            target=Endpoint(self.tgt.system, self.tgt.name),
            key_source=tuple(m.key.source),
            key_target=tuple(m.key.target),
            fields=MappingProxyType(fields),
            defaults=MappingProxyType(defaults),
            title=m.title,
            description=m.description,
            builtin_filter=m.filter,
            extra_filter=extra,
            depends_on=tuple(m.depends_on),
            rules=rules,
            disabled=d.disabled,
            flow=flow,
            columns=MappingProxyType(dict(d.columns)),
            watermark=build_watermark(self.src, d.watermark),
        )

    def _flow(self) -> FlowName:
        name = self.d.flow or FlowName.GENERIC.value
        if name not in set(FlowName):
            hint = suggest(name, list(FlowName))
            template = Origin(self.d.origin.doc, ())
            raise template.error(f"unknown flow '{name}'{hint}; known: {', '.join(FlowName)}", "flow")
        return FlowName(name)

    def _rules(self, flow: FlowName) -> tuple[RuleName, ...]:
        out: list[RuleName] = []
        for i, name in enumerate(self.d.model.rules):
            if name not in set(RuleName):
                hint = suggest(name, list(RuleName))
                raise self.d.origin.error(
                    f"unknown rule '{name}'{hint}; known: {', '.join(RuleName)}", "rules", i
                )
            rule = RULES[RuleName(name)]
            if rule.name not in FLOW_RULES[flow]:
                owners = " or ".join(flows_of(rule.name))
                reason = (
                    f"rule {name} belongs to the {owners} flow; this template's flow is {flow.value}"
                    f" (set `flow: {flows_of(rule.name)[0]}` at the top of the template)"
                )
                raise self.d.origin.error(reason, "rules", i)
            out.append(rule.name)
            for f in (self.d.columns.get(f, f) for f in rule.requires):
                if self.src.field(f) is None:
                    reason = f"rule {name} reads '{f}', which {self.src.name} ({self.src.system.value}) does not have"
                    raise self.d.origin.error(reason, "rules", i)
            self.provided.update(rule.provides)
        return tuple(out)

    def _unknown(self, name: str, entity: EntitySpec, what: str) -> str:
        hint = suggest(name, entity.names())
        return f"unknown {what} '{name}' on {entity.name} ({entity.system.value}){hint}"

    def _target(self, target: str, origin: Origin) -> FieldSpec:
        spec = self.tgt.field(target)
        if spec is None:
            raise origin.error(self._unknown(target, self.tgt, "field"))
        if spec.read_only:
            raise origin.error(f"{target} is read-only on {self.tgt.name}: it cannot be written")
        return spec

    def _field(self, target: str, raw: Any, origin: Origin) -> Expr:
        spec = self._target(target, origin)
        try:
            expr = parse_expression(raw)
        except ExpressionError as e:
            raise origin.error(e.message, *e.path) from None
        expr = replace_lookups_at(expr, lambda s, at: self._lookup(s, origin, *at))
        for node in iter_nodes(expr):
            if isinstance(node, Source):
                self._source(node.field, origin, "source" if isinstance(raw, Mapping) else None)
            elif isinstance(node, ValueMapped):
                self._value_map(node.map, origin, "value_map")
            elif isinstance(node, Arithmetic):
                self._arithmetic(node, spec, origin)
        self._types(expr, spec, origin)
        return expr

    def _source(self, name: str, origin: Origin, *sub: str | int | None) -> FieldSpec | None:
        path = [s for s in sub if s is not None]
        if name.startswith("$"):
            if name in self.provided:
                return None
            providers = [r.name for r in RULES.values() if name in r.provides]
            reason = (
                f"'{name}' is provided by rule {providers[0]}: add it to the task's rules"
                if providers
                else f"no rule provides '{name}'"
            )
            raise origin.error(reason, *path)
        spec = self.src.field(name)
        if spec is None:
            raise origin.error(self._unknown(name, self.src, "source field"), *path)
        return spec

    def _value_map(self, name: str, origin: Origin, *sub: str | int) -> ValueMap:
        vm = self.value_maps.get(name)
        if vm is None:
            hint = suggest(name, list(self.value_maps))
            known = ", ".join(self.value_maps) or "none"
            raise origin.error(f"unknown value map '{name}'{hint}; defined: {known}", *sub)
        return vm

    def _lookup(self, spec: LookupSpec, origin: Origin, *at: str | int) -> LookupSpec:
        """``spec`` checked against the catalog, ``by`` and ``system`` filled; ``at`` is where it
        sits in the expression (``first[1]``), so an error points at that lookup."""
        if spec.system:
            related = self.catalog.get(spec.system, spec.entity)
        else:
            related = self.catalog.get(self.src.system, spec.entity) or self.catalog.get(
                self.tgt.system, spec.entity
            )
        if related is None:
            raise origin.error(f"unknown entity '{spec.entity}' in lookup", *at, "lookup", "entity")
        by = spec.by or related.primary_key
        if not by:
            raise origin.error(f"a lookup into {related.name} needs 'by': the field to match", *at, "lookup")
        for attr, name in (("by", by), ("field", spec.field)):
            if related.field(name) is None:
                raise origin.error(self._unknown(name, related, "field"), *at, "lookup", attr)
        self._source(spec.source, origin, *at, "lookup", "source")
        if spec.value_map:
            self._value_map(spec.value_map, origin, *at, "lookup", "value_map")
        return replace(spec, by=by, system=related.system.value)

    def _arithmetic(self, node: Arithmetic, spec: FieldSpec, origin: Origin) -> None:
        if spec.type not in NUMERIC_TYPES | {FieldType.STRING}:
            raise origin.error(f"expr gives a number, but {spec.name} is {spec.type.value}", "expr")
        for name in sorted(arithmetic_names(node.tree)):
            source = self._source(name, origin, "expr")
            if source is not None and source.type not in NUMERIC_TYPES:
                raise origin.error(f"'{name}' in expr is {source.type.value}, not a number", "expr")

    def _types(self, expr: Expr, spec: FieldSpec, origin: Origin, *at: str | int) -> None:
        members = self.catalog.enum_members(spec.enum) if spec.enum else ()

        def fits(value: Any, what: str, *sub: str) -> None:
            if value is None:
                return
            try:
                coerce(value, spec, members)
            except TransformError as e:
                raise origin.error(
                    f"{what} does not fit {spec.name} ({spec.type.value}): {e.reason}", *at, *sub
                ) from None

        if isinstance(expr, Defaulted):
            fits(expr.default, f"default {expr.default!r}", "default")
            if expr.input is not None:
                self._types(expr.input, spec, origin, *at)
        elif isinstance(expr, Const):
            fits(expr.value, f"constant {expr.value!r}", "const")
        elif isinstance(expr, ValueMapped):
            for key, out in self.value_maps[expr.map].entries.items():
                fits(out, f"value map '{expr.map}' entry {key!r} → {out!r}", "value_map")
        elif isinstance(expr, First):
            for i, item in enumerate(expr.items):  # each item may be the value: each must fit
                self._types(item, spec, origin, *at, "first", i)
        elif isinstance(expr, Lookup) and spec.type is FieldType.LOOKUP:
            related = self.catalog.entity(expr.spec.system or "", expr.spec.entity)
            rfield = related.field(expr.spec.field)
            if spec.targets and related.name not in spec.targets:
                reason = f"{spec.name} refers to {', '.join(spec.targets)}, not {related.name}"
                raise origin.error(reason, *at, "lookup", "entity")
            if rfield is not None and rfield.type is not FieldType.GUID:
                reason = f"{spec.name} is a lookup: the lookup must give the id of a {related.name} record"
                raise origin.error(reason, *at, "lookup", "field")

    def _default(self, target: str, value: Any, origin: Origin) -> Any:
        spec = self._target(target, origin)
        if isinstance(value, Mapping | list):
            raise origin.error("a default is a single value (text, number, true/false)")
        members = self.catalog.enum_members(spec.enum) if spec.enum else ()
        try:
            return coerce(value, spec, members)
        except TransformError as e:
            raise origin.error(
                f"default {value!r} does not fit {target} ({spec.type.value}): {e.reason}"
            ) from None


def check_filter(text: str, entity: EntitySpec, catalog: Catalog, doc: YamlDoc, path: KeyPath) -> None:
    """Parse ``text`` in the entity's system dialect and check its fields and literals."""
    from p2c.odata import Dialect, FilterError, compile_filter, parse_filter

    dialect = Dialect.DATAVERSE if entity.system is System.CRM else Dialect.FNO
    try:
        compile_filter(parse_filter(text, dialect), entity.filter_schema(catalog.enums), dialect)
    except FilterError as e:
        raise doc.error(f"invalid filter: {e.message}", path) from None
