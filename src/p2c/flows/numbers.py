"""Natural keys the CRM lacks, and keys it has twice: shared by the accounts and contacts flows.

- **Numbers**: a record without one gets ``<prefix>-<sequence>-<6 capitals>``
  (:class:`p2c.rules.NumberGenerator`), written back to the CRM *before* anything goes to the ERP
  (a blocking :class:`~p2c.flows.base.SideWrite`: if the CRM refuses it, the record fails). The
  random part is seeded by the record's id, so a plan shows the number the run then writes; the
  highest sequence used is stored (the ``sequences`` table) so numbers keep rising across runs.
  The parts of a split load number at once: each takes its block of the sequence from the store
  in one statement (:meth:`p2c.store.StateStore.reserve_sequence`) before it numbers a page.
- **Duplicates**: records of one company sharing a number — in this page of the read, or with a
  record synchronised before — fail, naming each other; nothing is merged. Records of two
  companies may share a number (two customers: usmf/C1 and demf/C1). A read comes page by page:
  :class:`SeenNumbers` keeps the numbers of the earlier pages (as hashes, not rows), so a record
  whose number another record of an earlier page had fails too (that one may already be written;
  the next run, reading the failed one again, names it from its link).

Both are called once per page of a read; the flow keeps what spans pages (the numbers seen, the
highest sequence used, so a plan, which commits nothing, does not give a number twice).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from p2c.connectors import OpKind, WriteOp
from p2c.errors import P2CError, RecordError
from p2c.flows.base import FlowContext, Prepared, SideWrite, SideWriteKind
from p2c.rules import NumberGenerator, find_duplicates, next_sequence
from p2c.settings import System

__all__ = ["SeenNumbers", "duplicate_numbers", "generate_numbers"]

KeyOf = Callable[[Mapping[str, Any]], str]


class SeenNumbers:
    """The numbers of one run's read so far, per company: which record had each (hashes only).

    Only the latest ``limit`` are kept (the flow's :attr:`~p2c.flows.base.FlowContext.unsettled`:
    a page and the chunks in flight). A record read before those is committed — its link names
    its number, and :func:`duplicate_numbers` finds it there — or it failed, and the next run,
    reading it again, finds the other one linked. So memory stays flat however many records a run
    reads, and is the same for 20 000 records as for 1 000 000."""

    def __init__(self, limit: int | None = None) -> None:
        self._owner: OrderedDict[int, int] = OrderedDict()
        self.limit = limit
        #: the highest sequence a generated number used in this run
        self.sequence: int | None = None

    def other(self, company: str, number: Any, key: str) -> bool:
        """Note ``number`` on ``key``; True when another record of the read had it before."""
        mine = hash(key)
        owner = self._owner.setdefault(hash((company.casefold(), str(number).strip().casefold())), mine)
        if self.limit is not None and len(self._owner) > self.limit:
            self._owner.popitem(last=False)  # the oldest
        return owner != mine


def generate_numbers(
    ctx: FlowContext,
    rows: Sequence[dict[str, Any]],
    key_of: KeyOf,
    field: str,
    prefix: str,
    seen: SeenNumbers,
) -> Prepared:
    """A number in ``field`` for every row without one, and its write-back to the CRM."""
    out = Prepared()
    missing = [r for r in rows if not str(r.get(field) or "").strip()]
    if not missing:
        return out
    existing = [r.get(field) for r in rows]
    if ctx.store.shared:  # other parts of a split load number at once: take a block from the store
        floor = next_sequence(existing, prefix, ctx.project.settings.number_start)
        start = ctx.store.reserve(prefix, floor, len(missing))
    else:
        stored = max(ctx.store.sequence(prefix) or -1, seen.sequence if seen.sequence is not None else -1)
        start = max(ctx.project.settings.number_start, stored + 1)
    gen = NumberGenerator(prefix, existing, start=start)
    entity = ctx.task.source.entity
    pk = ctx.project.catalog.entity(System.CRM, entity).primary_key or ""
    for row in missing:
        key = key_of(row)
        number = gen.next(seed=key)
        row[field] = number
        out.writes.append(
            SideWrite(
                SideWriteKind.NUMBER_WRITE_BACK,
                System.CRM,
                entity,
                WriteOp(OpKind.UPDATE, {pk: row[pk]}, {field: number}, ref=key),
                f"write the generated number {number} back to the CRM",
                record=key,
                blocking=True,
                field=field,
            )
        )
    out.sequence = (prefix, gen.sequence - 1)
    seen.sequence = gen.sequence - 1
    return out


def duplicate_numbers(
    ctx: FlowContext, rows: Sequence[dict[str, Any]], key_of: KeyOf, field: str, seen: SeenNumbers
) -> Prepared:
    """Rows whose ``field`` another row of the read shares, or another record was synced with, fail."""
    out = Prepared()
    entity = ctx.task.source.entity
    errors: dict[str, P2CError] = {}
    # a number is unique per company: with several legal entities, accounts of two business units
    # may share one (usmf/C1 and demf/C1 are two customers); a record of no company is skipped later
    router = ctx.cache.router(ctx.project)
    by_company: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        company = router.route(r)
        if isinstance(company, str):
            by_company.setdefault(company, []).append({"id": key_of(r), field: r.get(field)})
    for ids in by_company.values():
        for number, keys in find_duplicates(ids, field).items():
            for key in keys:
                others = ", ".join(k for k in keys if k != key)
                errors[key] = RecordError(
                    f"{field} {number!r} is not unique in the CRM (also on {others}); not merged — give each "
                    "record its own number",
                    entity=entity,
                    key=key,
                    field=field,
                )
    for company, ids in by_company.items():  # a number an earlier page of the read had
        for item in ids:
            value, key = item[field], str(item["id"] or "")
            if value and str(value).strip() and seen.other(company, value, key) and key not in errors:
                errors[key] = RecordError(
                    f"{field} {value!r} is not unique in the CRM (also on a record read earlier in this run); "
                    "not merged — give each record its own number",
                    entity=entity,
                    key=key,
                    field=field,
                )
    # one bulk query, not one per record: a 20 000-account load would spend seconds here
    wanted = [
        (c, str(i[field])) for c, ids in by_company.items() for i in ids if i[field] and i["id"] not in errors
    ]
    synced = ctx.store.linked_targets(ctx.task.name, wanted)
    for company, ids in by_company.items():
        for item in ids:
            value, key = item[field], str(item["id"] or "")
            if key in errors or not value:
                continue
            owner = synced.get((company.casefold(), str(value).casefold()))
            if owner is not None and owner != key:
                errors[key] = RecordError(
                    f"{field} {value!r} already belongs to {owner}, synchronised before; not merged",
                    entity=entity,
                    key=key,
                    field=field,
                )
    for row in rows:
        error = errors.get(key_of(row))
        if error is not None:
            out.fail(row, error)
    return out
