"""The outcomes of one task run's records — unchanged, filtered, skipped (with a reason), failed or
waiting — each counted in the task's report as it is made; source rows and payloads capped and
redacted before they are stored.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from p2c.connectors import Redactor
from p2c.engine.report import TaskReport
from p2c.errors import P2CError, ParentMissingError, TransientError, WaitingForParentError
from p2c.flows import SkipReason
from p2c.project import Endpoint
from p2c.settings import System
from p2c.store import Action, Outcome

__all__ = ["SOURCE_ROW_FIELDS", "Outcomes", "as_wait", "create_only"]

SOURCE_ROW_FIELDS = 60  # keep stored source rows readable
log = logging.getLogger("p2c.engine")


class Outcomes:
    def __init__(self, task: str, report: TaskReport, redactor: Redactor) -> None:
        self.task = task
        self.report = report
        self.redactor = redactor

    def unchanged(self, key: str) -> Outcome:
        """A record equal to what was last written: only counted (not stored as a row)."""
        self.report.unchanged += 1
        return Outcome.unchanged(self.task, key)

    def unchanged_all(self, keys: Sequence[str]) -> list[Outcome]:
        """:meth:`unchanged` of each of ``keys`` (a run with no change makes one per row it reads)."""
        self.report.unchanged += len(keys)
        task = self.task
        return [Outcome.unchanged(task, k) for k in keys]

    def filtered(self, key: str, message: str) -> Outcome:
        """A record the task's filter leaves out; ``message`` says which filter."""
        self.report.filtered += 1
        return Outcome(self.task, key, Action.FILTERED, message=message)

    def skip(self, key: str, reason: SkipReason, message: str) -> Outcome:
        """A record not written for ``reason``, which ``message`` explains to people."""
        self.report.skipped += 1
        return Outcome(self.task, key, Action.SKIPPED, message=message, reason=reason.value)

    def clean(self, data: Mapping[str, Any] | None) -> dict[str, Any] | None:
        """``data`` as stored: its first :data:`SOURCE_ROW_FIELDS` fields but annotations
        (``@odata.etag``), secrets masked."""
        if data is None:
            return None
        kept = _kept(tuple(data))  # a task's records have the same keys, record after record
        if kept is not None or not isinstance(data, dict):
            data = {k: data[k] for k in (data if kept is None else kept)}
        cleaned = self.redactor.data(data)  # a copy
        return cleaned if isinstance(cleaned, dict) else None

    def clean_all(self, payloads: Sequence[Mapping[str, Any]]) -> list[dict[str, Any] | None]:
        """:meth:`clean` of each of ``payloads`` (a chunk's, written): their secrets looked for at
        once (:meth:`p2c.connectors.Redactor.records`)."""
        kept: list[Mapping[str, Any]] = []
        for data in payloads:
            keys = _kept(tuple(data))
            kept.append(
                data
                if keys is None and isinstance(data, dict)
                else {k: data[k] for k in (data if keys is None else keys)}
            )
        return [c if isinstance(c, dict) else None for c in self.redactor.records(kept)]

    def failure(
        self, key: str, row: Mapping[str, Any], payload: Mapping[str, Any] | None, error: P2CError
    ) -> Outcome:
        """A failed record, or a waiting one when ``error`` is transient (a parent not there yet)."""
        waiting = isinstance(error, TransientError)
        action = Action.WAITING if waiting else Action.FAILED
        self.report.add(action)
        message = self.redactor.text(str(error))
        log.info("%s %s: %s", key, action.value, message, extra={"record": key})
        return Outcome(
            self.task,
            key,
            action,
            error_class=type(error).__name__,
            field=error.field,
            message=message,
            problem=self.redactor.text(
                f"{error.reason} (HTTP {error.status})" if error.status else error.reason
            ),
            source_row=self.clean(row),
            target_payload=self.clean(payload),
            transient=waiting,
        )


@functools.lru_cache(maxsize=1024)
def _kept(keys: tuple[Any, ...]) -> tuple[Any, ...] | None:
    """The keys :meth:`Outcomes.clean` keeps of ``keys``, or ``None`` when it keeps them all."""
    kept = tuple(k for k in keys[:SOURCE_ROW_FIELDS] if not str(k).startswith("@"))
    return None if kept == keys else kept


def as_wait(error: P2CError, parent_fields: Sequence[str], entity: str) -> P2CError:
    """A refusal naming a missing value in one of ``parent_fields`` (target fields that name a
    parent record) is a wait for that parent, not a failure; a missing customer group, which
    nobody synchronises, stays a failure."""
    if isinstance(error, ParentMissingError) and error.field in parent_fields:
        return WaitingForParentError(
            f"{entity} does not have the parent {error.value} ({error.field}) yet: {error.reason}",
            entity=entity,
            key=error.key,
            field=error.field,
            status=error.status,
        )
    return error


def create_only(target: Endpoint) -> str:
    """Why a changed record of a create-only task is skipped."""
    side = "CRM" if target.system is System.CRM else "ERP"
    return f"written once: the {side} owns the {target.entity} record since, so later changes are not sent"
