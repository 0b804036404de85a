"""What a task run reports: counts, and for a plan every write it would make.

Example::

    report = TaskReport("Accounts")
    report.add(Action.CREATED)
    report.written, report.side_writes        # 1, 0
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from p2c.store import Action, RunStatus, task_label

__all__ = ["PlannedRecord", "Progress", "TaskReport"]


@dataclass
class PlannedRecord:
    """One write a plan shows: a task's record (``operation`` None) or a side write it causes."""

    source_key: str
    action: Action
    target_key: str | None
    message: str | None = None
    payload: dict[str, Any] | None = field(default=None, repr=False)
    operation: str | None = None


@dataclass
class TaskReport:
    task: str
    status: RunStatus = RunStatus.SUCCEEDED
    read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    filtered: int = 0
    skipped: int = 0
    waiting: int = 0
    failed: int = 0
    deleted: int = 0
    #: writes besides the task's records (numbers and flags written back, consequences)
    side_writes: int = 0
    seconds: float = 0.0
    message: str | None = None
    planned: list[PlannedRecord] = field(default_factory=list)
    #: ``"2/4"``: this report is part 2 of a split load of 4 (:mod:`p2c.engine.share`)
    part: str | None = None

    @property
    def label(self) -> str:
        return task_label(self.task, self.part)

    @property
    def written(self) -> int:
        return self.created + self.updated + self.deleted

    @property
    def accounted(self) -> int:
        """Records given a fate so far; equals ``read`` once the task is done."""
        return self.written + self.unchanged + self.filtered + self.skipped + self.waiting + self.failed

    def add(self, action: Action) -> None:
        name = action.value
        setattr(self, name, getattr(self, name) + 1)


Progress = Callable[[TaskReport], None]
