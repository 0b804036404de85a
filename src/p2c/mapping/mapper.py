"""The mapper: one task's field expressions applied to one source row. Pure: dicts in, dicts out.

Create and update payloads come from the same definition. Related records' keys are never fetched
here: the engine resolves every :meth:`Mapper.lookups` in bulk first and hands the results in as
``related[spec.key][input value] -> value``. A record the mapping cannot handle raises
``RecordError`` (terminal) or, for a related record not synchronised yet, ``WaitingForParentError``
(transient), both naming the target entity, the source key and the target field.

Example::

    >>> from p2c.mapping.expression import parse_expression as p
    >>> task = SimpleTask("Accounts", "CustomersV3", ("accountnumber",), {
    ...     "CustomerAccount": p("accountnumber"),
    ...     "AddressCountryRegionISOCode": p({"source": "address1_country", "value_map": "country"}),
    ...     "SalesCurrencyCode": p({"lookup": {"source": "_transactioncurrencyid_value",
    ...         "entity": "transactioncurrencies", "by": "transactioncurrencyid", "field": "isocurrencycode"}}),
    ... })
    >>> m = Mapper(task, {"country": {"": "US", "Canada": "CA"}}, {"CustomerGroupId": "10"})
    >>> related = {("transactioncurrencies", "transactioncurrencyid", "isocurrencycode"): {"c1": "CAD"}}
    >>> m.map({"accountnumber": "ACC-1", "address1_country": "canada", "_transactioncurrencyid_value": "c1"}, related)
    {'CustomerAccount': 'ACC-1', 'AddressCountryRegionISOCode': 'CA', 'SalesCurrencyCode': 'CAD', 'CustomerGroupId': '10'}
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, DecimalException
from typing import Any, Protocol

from p2c.catalog import FieldSpec, FieldType
from p2c.errors import RecordError, WaitingForParentError
from p2c.mapping.arithmetic import evaluate_arithmetic
from p2c.mapping.expression import (
    Arithmetic,
    Concat,
    Const,
    ContextValue,
    Defaulted,
    Expr,
    First,
    Lookup,
    LookupSpec,
    Missing,
    Source,
    Split,
    ValueMapped,
    iter_nodes,
    source_fields,
)
from p2c.mapping.expression import lookups as expr_lookups
from p2c.mapping.transforms import TransformError, ValueMap, coerce, concat, is_empty, split, to_decimal

__all__ = ["Mapper", "MappingTask", "Related", "SimpleTask"]

Related = Mapping[tuple[str, str, str], Mapping[Any, Any]]
#: the field types whose every value is taken as it is (:func:`~p2c.mapping.transforms.coerce`)
_ANY_VALUE = frozenset({FieldType.GUID, FieldType.LOOKUP})
#: the field types whose values of one Python type are taken as they are
_KEPT: dict[FieldType, type] = {FieldType.DECIMAL: Decimal, FieldType.MONEY: Decimal, FieldType.BOOL: bool}
#: an expression built for rows (:meth:`Mapper._value`): its value for a row and its related records
_Value = Callable[[Mapping[str, Any], Related], Any]
#: the same with the entity of the lookup that gave the value (:meth:`Mapper._tagged`)
_Tagged = Callable[[Mapping[str, Any], Related], tuple[Any, "str | None"]]


class MappingTask(Protocol):
    """What a mapper needs of a task (``p2c.project.Task`` is one)."""

    @property
    def name(self) -> str: ...

    @property
    def target_entity(self) -> str: ...

    @property
    def source_key(self) -> tuple[str, ...]: ...

    @property
    def fields(self) -> Mapping[str, Expr]: ...

    @property
    def extra_source_fields(self) -> tuple[str, ...]: ...


@dataclass(frozen=True)
class SimpleTask:
    """A minimal :class:`MappingTask` for tests and tools."""

    name: str
    target_entity: str
    source_key: tuple[str, ...]
    fields: Mapping[str, Expr]
    extra_source_fields: tuple[str, ...] = field(default=())


class _Waiting(Exception):
    def __init__(self, reason: str) -> None:
        self.reason = reason


class _NotFound(TransformError):
    """A ``missing: fail`` lookup found nothing: ``first`` tries its next item before failing."""


class Mapper:
    """Maps source rows of one task to target payloads.

    ``value_maps`` are ValueMap objects or plain ``{from: to}`` mappings; ``defaults`` fill target
    fields left empty; ``context`` holds the engine's per-run values (``company``,
    ``business_unit``); ``target_fields`` (from the catalog) make each value the target's type.
    """

    def __init__(
        self,
        task: MappingTask,
        value_maps: Mapping[str, ValueMap | Mapping[Any, Any]] | None = None,
        defaults: Mapping[str, Any] | None = None,
        context: Mapping[str, Any] | None = None,
        *,
        target_fields: Mapping[str, FieldSpec] | None = None,
        enums: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        self.task = task
        self.entity = task.target_entity
        self.fields = dict(task.fields)
        self.value_maps = {
            name: vm if isinstance(vm, ValueMap) else ValueMap(name, vm)
            for name, vm in (value_maps or {}).items()
        }
        self.defaults = dict(defaults or {})
        self.context = dict(context or {})
        self.types = dict(target_fields or {})
        self.enums = dict(enums or {})
        self._folded: dict[int, tuple[Mapping[Any, Any], int, dict[str, Any]]] = {}
        #: per target field with a type: the type and its enum's members (asked for every value);
        #: a lookup or an id takes any value as it is
        self._typing = {
            target: (spec, self.enums.get(spec.enum or "", ()))
            for target, spec in self.types.items()
            if spec.type not in _ANY_VALUE
        }
        #: per target text field: its longest value (a text within it is taken as it is)
        self._text = {
            target: spec.max_length if spec.max_length is not None else float("inf")
            for target, spec in self.types.items()
            if spec.type is FieldType.STRING
        }
        #: per target number or flag field: the type its values already have when taken as they are
        self._kept = {target: _KEPT[spec.type] for target, spec in self.types.items() if spec.type in _KEPT}
        for target, expr in self.fields.items():
            for node in iter_nodes(expr):
                if isinstance(node, ContextValue) and node.name not in self.context:
                    raise ValueError(
                        f"field {target}: context value {node.name!r} was not given to the mapper"
                    )
                maps = [node.map] if isinstance(node, ValueMapped) else []
                if isinstance(node, Lookup) and node.spec.value_map:
                    maps.append(node.spec.value_map)
                for name in maps:
                    if name not in self.value_maps:
                        raise ValueError(f"field {target}: value map {name!r} was not given to the mapper")
        #: per target field: the source field it copies as read, or (None) its expression built
        #: once for every row (:meth:`_tagged`), so a row's fields are not walked node by node;
        #: then what :meth:`_typed` takes as it is: a text up to this length, a value of this type
        self._plan: list[tuple[str, str | None, _Tagged | None, float, type | None]] = [
            (
                target,
                expr.field if type(expr) is Source else None,
                None if type(expr) is Source else self._tagged(expr),
                self._text.get(target, -1 if target in self._typing else float("inf")),
                self._kept.get(target),
            )
            for target, expr in self.fields.items()
        ]
        #: the target fields of a polymorphic lookup (customerid): a value names its entity too
        self._polymorphic = {t for t, spec in self.types.items() if len(spec.targets) > 1}
        #: the defaults as their fields' types want them, made so once (the same for every row);
        #: a default its field refuses (False) is refused again for each row that needs it
        self._defaults: list[tuple[str, Any, bool]] = []
        for target, value in self.defaults.items():
            try:
                self._defaults.append((target, self._typed(target, value, {}), True))
            except RecordError:
                self._defaults.append((target, value, False))

    # -- what the engine asks before mapping --------------------------------------------------------

    def source_fields(self) -> set[str]:
        """The source fields to ``$select``: every field read, the key, and what the rules need."""
        out = set(self.task.source_key) | set(self.task.extra_source_fields)
        for expr in self.fields.values():
            out |= source_fields(expr)
        return {f for f in out if not f.startswith("$")}

    def lookups(self) -> list[LookupSpec]:
        """The related values the engine must resolve in bulk, one spec per distinct lookup
        (found once per mapper: the engine asks for every chunk)."""
        return list(self._lookup_specs)

    def lookup_values(self, rows: Iterable[Mapping[str, Any]]) -> dict[tuple[str, str, str], set[Any]]:
        """For each lookup, the distinct input values ``rows`` need (after the lookup's value map).

        The source values are gathered first and each distinct one mapped once (a chunk's rows
        share a few currencies and units; this runs for a page ahead and again per chunk). Values
        that equal 0 or 1 go row by row: ``True`` and ``1`` are one value in a set but two keys of
        a value map."""
        rows = rows if isinstance(rows, list | tuple) else list(rows)
        out: dict[tuple[str, str, str], set[Any]] = {}
        for spec in self._lookup_specs:
            values = out.setdefault(spec.key, set())
            try:
                distinct: Iterable[Any] = set(map(operator.methodcaller("get", spec.source), rows))
            except TypeError:  # a value that cannot be hashed: row by row
                distinct = [row.get(spec.source) for row in rows]
            else:
                if any(type(v) is not str and v in (0, 1) for v in distinct):
                    distinct = [row.get(spec.source) for row in rows]
            vmap = self.value_maps[spec.value_map] if spec.value_map else None
            for value in distinct:
                if vmap is not None:
                    try:
                        value = vmap.apply(value, spec.source)
                    except TransformError:
                        continue  # the mapping of each row with it reports it
                if not is_empty(value):
                    values.add(value)
        return out

    @functools.cached_property
    def _lookup_specs(self) -> tuple[LookupSpec, ...]:
        seen: dict[LookupSpec, None] = {}
        for expr in self.fields.values():
            for spec in expr_lookups(expr):
                seen.setdefault(spec, None)
        return tuple(seen)

    def key_of(self, row: Mapping[str, Any]) -> str:
        return ",".join("" if is_empty(row.get(k)) else str(row.get(k)) for k in self.task.source_key)

    # -- mapping ----------------------------------------------------------------------------------------

    def map(self, row: Mapping[str, Any], related: Related | None = None) -> dict[str, Any]:
        """The target payload for ``row``; raises RecordError or WaitingForParentError."""
        rel: Related = related or {}
        out: dict[str, Any] = {}
        get = row.get
        for target, copied, tagged, longest, kept in self._plan:
            if tagged is not None:
                out[target] = self._field(target, tagged, row, rel)
                continue
            value = get(copied)  # type: ignore[arg-type]  # a source field as read: most fields
            kind = type(value)
            if value is None or kind is kept or (kind is str and len(value) <= longest):
                out[target] = value  # what _typed takes as it is, without the call
            else:
                out[target] = self._typed(target, value, row)
        for target, value, typed in self._defaults:
            if is_empty(out.get(target)):
                out[target] = value if typed else self._typed(target, value, row)
        return out

    def _field(self, target: str, tagged: _Tagged, row: Mapping[str, Any], related: Related) -> Any:
        try:
            raw, entity = tagged(row, related)
            value = self._typed(target, raw, row)
            if value is not None and entity is not None and target in self._polymorphic:
                # a polymorphic lookup (customerid): the related entity tells which one
                value = (entity, value)
            return value
        except _Waiting as w:
            raise WaitingForParentError(
                w.reason, entity=self.entity, key=self.key_of(row), field=target
            ) from None
        except TransformError as e:
            raise RecordError(e.reason, entity=self.entity, key=self.key_of(row), field=target) from None

    def _typed(self, target: str, value: Any, row: Mapping[str, Any]) -> Any:
        """``value`` as the target field's type wants it (:func:`~p2c.mapping.transforms.coerce`);
        a value that is that already is taken as it is (most: text, amounts, flags)."""
        kind = type(value)
        if kind is str:
            if len(value) <= self._text.get(target, -1):
                return value
        elif kind is self._kept.get(target):
            return value
        typing = self._typing.get(target)
        if typing is None:
            return value
        try:
            return coerce(value, *typing)
        except TransformError as e:
            raise RecordError(e.reason, entity=self.entity, key=self.key_of(row), field=target) from None

    def _value(self, expr: Expr) -> _Value:
        """``expr`` built for rows: a function of a row and its related records, made once per
        mapper so that mapping a row calls what its fields need and walks no tree."""
        if isinstance(expr, Source):
            name = expr.field
            return lambda row, related: row.get(name)
        if isinstance(expr, Const):
            const = expr.value
            return lambda row, related: const
        if isinstance(expr, ContextValue):
            context, key = self.context, expr.name
            return lambda row, related: context[key]
        if isinstance(expr, Defaulted):
            default = expr.default
            if expr.input is None:
                return lambda row, related: default
            given = self._value(expr.input)

            def defaulted(row: Mapping[str, Any], related: Related) -> Any:
                value = given(row, related)
                return default if is_empty(value) else value

            return defaulted
        if isinstance(expr, ValueMapped):
            mapped, value_map = self._value(expr.input), self.value_maps[expr.map]
            where = expr.input.field if isinstance(expr.input, Source) else ""
            return lambda row, related: value_map.apply(mapped(row, related), where)
        if isinstance(expr, Concat):
            items, sep = [self._value(item) for item in expr.items], expr.sep
            return lambda row, related: concat((item(row, related) for item in items), sep)
        if isinstance(expr, Split):
            piece, split_sep, index = self._value(expr.input), expr.sep, expr.index
            return lambda row, related: split(piece(row, related), split_sep, index)
        if isinstance(expr, Arithmetic):
            arithmetic = expr
            return lambda row, related: self._arithmetic(arithmetic, row)
        if isinstance(expr, First):
            first = self._tagged(expr)
            return lambda row, related: first(row, related)[0]
        assert isinstance(expr, Lookup)
        spec = expr.spec
        return lambda row, related: self._lookup(spec, row, related)

    def _tagged(self, expr: Expr) -> _Tagged:
        """``expr`` built for rows (:meth:`_value`), giving with the value the entity of the
        lookup that gave it (None when no lookup did): a polymorphic CRM lookup (customerid →
        accounts or contacts) binds by that entity."""
        if isinstance(expr, Lookup):
            spec, entity = expr.spec, expr.spec.entity
            return lambda row, related: (self._lookup(spec, row, related), entity)
        if isinstance(expr, First):
            first, items = expr, [self._tagged(item) for item in expr.items]
            return lambda row, related: self._first(first, items, row, related)
        if isinstance(expr, Defaulted) and expr.input is not None:
            given, default = self._tagged(expr.input), expr.default

            def defaulted(row: Mapping[str, Any], related: Related) -> tuple[Any, str | None]:
                value, entity = given(row, related)
                return (default if is_empty(value) else value), entity

            return defaulted
        value = self._value(expr)
        return lambda row, related: (value(row, related), None)

    def _first(
        self, expr: First, items: Sequence[_Tagged], row: Mapping[str, Any], related: Related
    ) -> tuple[Any, str | None]:
        """The first item with a value (``items``: ``expr``'s items built). A lookup that finds
        nothing is only empty here; when no item gives a value, a waiting item makes the record
        wait (its parent may come later), else a failing one fails it, naming every lookup tried
        either way."""
        outcome: type[Exception] | None = None
        for item in items:
            try:
                value, entity = item(row, related)
            except _Waiting:
                outcome = _Waiting
                continue
            except _NotFound:
                outcome = outcome or _NotFound
                continue
            if not is_empty(value):
                return value, entity
        if outcome is None:
            return None, None
        misses = " and ".join(dict.fromkeys(self._misses(expr.items, row, related)))
        if outcome is _Waiting:
            raise _Waiting(f"{misses} yet")
        raise _NotFound(misses)

    def _misses(self, items: Iterable[Expr], row: Mapping[str, Any], related: Related) -> list[str]:
        """``no <entity> with <by> <value>`` for each lookup of ``items`` that finds no record."""
        out: list[str] = []
        for item in items:
            for spec in expr_lookups(item):
                try:
                    value = self._lookup_input(spec, row)
                except TransformError:
                    continue  # a lookup its item never reached (after one that waited)
                table = related.get(spec.key)
                if not is_empty(value) and (table is None or not self._find(table, value)[0]):
                    out.append(f"no {spec.entity} with {spec.by or 'key'} {value!r}")
        return out

    def _arithmetic(self, expr: Arithmetic, row: Mapping[str, Any]) -> Decimal:
        def value_of(name: str) -> Decimal:
            value = row.get(name)
            if is_empty(value):
                return Decimal(0)  # an empty money or quantity column counts as zero
            try:
                return to_decimal(value)
            except TransformError as e:
                raise TransformError(f"{name}: {e.reason} (in {expr.text!r})") from None

        try:
            return evaluate_arithmetic(expr.tree, value_of)
        except DecimalException as e:
            what = "division by zero" if "Division" in type(e).__name__ else type(e).__name__
            raise TransformError(f"arithmetic failed ({what}) in {expr.text!r}") from None

    def _lookup_input(self, spec: LookupSpec, row: Mapping[str, Any]) -> Any:
        value = row.get(spec.source)
        if spec.value_map:
            value = self.value_maps[spec.value_map].apply(value, spec.source)
        return value

    def _lookup(self, spec: LookupSpec, row: Mapping[str, Any], related: Related) -> Any:
        value = self._lookup_input(spec, row)
        if is_empty(value):
            return None
        table = related.get(spec.key)
        if table is None:
            raise ValueError(f"the engine did not resolve lookup {spec.key} (see Mapper.lookups())")
        found, result = self._find(table, value)
        if found:
            return result
        by = spec.by or "key"
        if spec.missing is Missing.WAIT:
            raise _Waiting(f"{spec.entity} with {by} {value!r} (from {spec.source}) is not synchronised yet")
        if spec.missing is Missing.FAIL:
            raise _NotFound(f"no {spec.entity} has {by} {value!r} (from {spec.source})")
        return None

    def _find(self, table: Mapping[Any, Any], value: Any) -> tuple[bool, Any]:
        if value in table:
            return True, table[value]
        if not isinstance(value, str):
            return False, None
        # Dataverse and F&O compare keys case-insensitively; so does the mapper. The engine adds to
        # a table as later chunks resolve more values (and another task's thread may be adding to it
        # now): the folded copy is made again when the table grew, from a snapshot of its items.
        cached = self._folded.get(id(table))
        if cached is None or cached[0] is not table or cached[1] != len(table):
            items = list(table.items())
            cached = (table, len(items), {str(k).casefold(): v for k, v in items})
            self._folded[id(table)] = cached
        folded = value.casefold()
        return (True, cached[2][folded]) if folded in cached[2] else (False, None)
