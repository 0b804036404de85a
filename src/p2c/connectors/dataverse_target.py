"""Writing into Dataverse tables whose rows cannot simply be upserted by alternate key.

Three things Dataverse does that a generic engine should not have to know:

- A key made of lookups (a price-list item: price list + product; an order line: order +
  sequence number) cannot be addressed as an alternate key everywhere, and a key the CRM sets
  itself (an order number) may be given on create but not on update: existing rows are found by
  their key (one ``read_by_values`` on the last lookup, ``_x_value`` columns), then updated by
  primary key or created.
- A document in a closed state (an Invoiced order, a Won quote, a Paid invoice) and its lines
  refuse every change: such a write is not sent but answered with a :class:`Refusal` saying why.
- An update may not change lookups that are not updatable (a price-list item's product).

Example::

    ops = crm.plan_writes(table, [TargetItem(ref, {"salesorderid": oid, "sequencenumber": 2}, wire)])
    [op if isinstance(op, WriteOp) else op.reason for op in ops]
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

from p2c.connectors.base import OpKind, WriteOp

__all__ = [
    "ParentTable",
    "Refusal",
    "TargetItem",
    "TargetTable",
    "fold_key",
    "owned",
    "plan_deletes",
    "plan_writes",
]

NO_ID = "00000000-0000-0000-0000-000000000000"


@dataclass(frozen=True)
class Refusal:
    """A write that is not sent, and why (the record's document refuses changes)."""

    reason: str


@dataclass(frozen=True)
class ParentTable:
    """The document a line table belongs to (``closed_with``), for its closed states."""

    entity: str
    primary_key: str
    closed_states: tuple[int, ...]
    state_labels: Mapping[int, str] = field(default_factory=dict)


@dataclass(frozen=True)
class TargetTable:
    """What the write path must know of a table: key, which key fields are lookups, closed states."""

    entity: str
    primary_key: str
    key: tuple[str, ...]
    lookup_keys: tuple[str, ...] = ()
    fixed_key: bool = False  # a key field that may be set on create but not changed (an order number)
    fixed_fields: frozenset[str] = frozenset()  # fields and lookups an update may not change
    closed_states: tuple[int, ...] = ()
    state_labels: Mapping[int, str] = field(default_factory=dict)
    closed_with: str | None = None  # the lookup to the document whose state closes this row
    parent: ParentTable | None = None

    @property
    def simple(self) -> bool:
        """Rows are upserted by alternate key as they are."""
        return not self.lookup_keys and not self.fixed_key and not self.closed_states

    def label(self, state: Any) -> str:
        return self.state_labels.get(state, str(state)) if isinstance(state, int) else str(state)


@dataclass(frozen=True)
class TargetItem:
    """One record to write: the caller's ``ref``, its key values (lookups as ids) and its wire payload.

    ``linked``: the caller wrote this record before (it has a link), so the row exists; ``False``:
    it never did, so the row is most likely new; ``None``: unknown (the row is looked up).
    The write ops keep ``key`` and ``payload`` as given when they are dicts (a chunk's are made
    for its write; copying each again cost every record two copies): the caller does not change
    them afterwards.
    """

    ref: Any
    key: Mapping[str, Any]
    payload: Mapping[str, Any]
    linked: bool | None = None


class _Reader(Protocol):
    def read_by_values(
        self, entity: str, field: str, values: Any, *, select: Sequence[str], filter: str | None = None
    ) -> Iterator[list[dict[str, Any]]]: ...


def owned(data: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` as a write op keeps it: a dict as it is, another mapping copied (:class:`TargetItem`)."""
    return data if type(data) is dict else dict(data)


def fold_key(value: Any) -> str:
    """A key value as compared across reads and payloads (GUIDs any case, 3 == 3.0)."""
    if isinstance(value, float | Decimal) and value == int(value):
        value = int(value)
    return str(value).lower()


def plan_writes(reader: _Reader, table: TargetTable, items: Sequence[TargetItem]) -> list[WriteOp | Refusal]:
    """One write per item, in order, or the :class:`Refusal` of an item whose document is closed."""
    if table.simple:
        return [
            WriteOp(OpKind.UPSERT, owned(i.key), owned(i.payload), ref=i.ref, exists=i.linked) for i in items
        ]
    existing = _existing(reader, table, [i.key for i in items])
    closed = _closed_parents(
        reader, table, [i.key.get(table.closed_with) for i in items] if table.closed_with else []
    )
    out: list[WriteOp | Refusal] = []
    for item in items:
        pk, state = existing.get(tuple(fold_key(item.key.get(k)) for k in table.key), (None, None))
        reason = closed.get(fold_key(item.key.get(table.closed_with))) if table.closed_with else None
        if pk and state in table.closed_states:
            shown = ",".join(str(item.key.get(k)) for k in table.key)
            reason = f"{table.entity} {shown} is {table.label(state)} in the CRM"
        if reason:
            out.append(
                Refusal(f"{reason}, which refuses changes from then on; this change is not synchronised")
            )
        elif pk:
            update = {n: v for n, v in item.payload.items() if n.split("@", 1)[0] not in table.fixed_fields}
            out.append(WriteOp(OpKind.UPDATE, {table.primary_key: pk}, update, ref=item.ref))
        else:
            out.append(
                WriteOp(OpKind.CREATE, {}, owned(item.payload), ref=item.ref, match=_match(table, item.key))
            )
    return out


def _match(table: TargetTable, key: Mapping[str, Any]) -> dict[str, Any] | None:
    """How a created row is found again by its key (lookups as ``_x_value`` ids), if all of it is known."""
    out: dict[str, Any] = {}
    for name in table.key:
        value = key.get(name)
        if value is None or value == "":
            return None
        if name in table.lookup_keys:
            try:
                out[f"_{name}_value"] = uuid.UUID(str(value))
            except ValueError:  # a plan's parent still to be created has no id yet
                return None
        else:
            out[name] = value
    return out


def plan_deletes(
    reader: _Reader, table: TargetTable, targets: Sequence[tuple[Any, Mapping[str, Any]]]
) -> list[WriteOp | Refusal]:
    """A delete per ``(ref, target key)``, or the refusal of a line whose document is closed.
    A row already gone is deleted too: the service's 404 counts as done."""
    keys = [k for _r, k in targets]
    closed = _closed_parents(
        reader, table, [k.get(table.closed_with) for k in keys] if table.closed_with else []
    )
    existing = _existing(reader, table, keys) if table.lookup_keys else {}
    out: list[WriteOp | Refusal] = []
    for ref, key in targets:
        reason = closed.get(fold_key(key.get(table.closed_with))) if table.closed_with else None
        if reason:
            out.append(Refusal(f"deleted in the source, but {reason}, which refuses changes: it is kept"))
        elif table.lookup_keys:  # an order line (order + sequence number): by the row's id
            pk, _state = existing.get(tuple(fold_key(key.get(k)) for k in table.key), (None, None))
            out.append(WriteOp(OpKind.DELETE, {table.primary_key: pk or NO_ID}, ref=ref))
        else:
            out.append(WriteOp(OpKind.DELETE, dict(key), ref=ref))
    return out


def _existing(
    reader: _Reader, table: TargetTable, keys: Sequence[Mapping[str, Any]]
) -> dict[tuple[str, ...], tuple[str, Any]]:
    """Existing rows by their whole key, read by the last lookup's values (or the first key field):
    (primary key, statecode — read for documents that can be closed, else None)."""
    names = table.lookup_keys
    last = names[-1] if names else table.key[0]
    columns = [f"_{n}_value" if n in names else n for n in table.key]
    select = [table.primary_key, *columns, *(["statecode"] if table.closed_states else [])]
    field_ = f"_{last}_value" if names else last
    out: dict[tuple[str, ...], tuple[str, Any]] = {}
    for page in reader.read_by_values(
        table.entity, field_, sorted({str(k.get(last)) for k in keys if k.get(last)}), select=select
    ):
        for row in page:
            out[tuple(fold_key(row.get(c)) for c in columns)] = (
                str(row[table.primary_key]),
                row.get("statecode"),
            )
    return out


def _closed_parents(reader: _Reader, table: TargetTable, ids: Sequence[Any]) -> dict[str, str]:
    """Document lines: the documents (by folded id) in a closed state, with the reason."""
    parent = table.parent
    if parent is None or not ids:
        return {}
    out: dict[str, str] = {}
    wanted = sorted({str(i) for i in ids if i})
    for page in reader.read_by_values(
        parent.entity, parent.primary_key, wanted, select=[parent.primary_key, "statecode"]
    ):
        for row in page:
            state = row.get("statecode")
            if state in parent.closed_states:
                label = parent.state_labels.get(state, str(state))
                out[fold_key(row[parent.primary_key])] = f"its {parent.entity} record is {label} in the CRM"
    return out
