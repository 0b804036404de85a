"""What a chunk of a task carries through the pipeline (:mod:`p2c.engine.pipeline`): its records
mapped and ready to write, its plan, and what it will commit."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from p2c.connectors import Refusal, WriteOp
from p2c.errors import RecordError
from p2c.project import Task
from p2c.store import Link, Outcome

__all__ = ["Chunk", "Planned", "Ready", "checked"]


@dataclass
class Ready:
    """A record mapped, changed since its last write: to go to the target."""

    key: str
    row: dict[str, Any]
    payload: dict[str, Any]
    digest: str
    source: str  # the source hash (p2c.engine.hashing.source_hash)


@dataclass
class Chunk:
    """What a chunk commits: its outcomes and links, and the rows read it accounts for."""

    outcomes: list[Outcome] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    read: int = 0


@dataclass
class Planned:
    """A chunk mapped and planned on the pipeline's thread, its write to go to the target."""

    done: Chunk
    ready: list[Ready]
    links: Mapping[str, Link]
    plans: list[WriteOp | Refusal]
    sends: list[WriteOp]


def checked(task: Task, payload: dict[str, Any]) -> dict[str, Any]:
    """A payload whose key has a value with leading or trailing blanks is refused before it is
    sent: services trim or compare differently, and the record would be found under two keys."""
    for name in task.key_target:
        value = payload.get(name)
        if isinstance(value, str) and value != value.strip():
            raise RecordError(
                f"{value!r} has leading or trailing blanks; correct it at the source",
                entity=task.target.entity,
                field=name,
            )
    return payload
