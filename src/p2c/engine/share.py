"""A share of one task's records: what a part of a split load writes (``settings.parts``).

A queued run may split a task's large load (its initial load, or a ``--full`` run) into ``N``
parts run by different workers at once, then one closing pass (:mod:`p2c.scale.coordinator`).
Each part reads the task's source as the task would, keeps the records of its share and writes
them as a run does — outcomes and links chunk by chunk — but saves no cursor, reads nothing again
(pending, revisited) and tells no deletions: those belong to the closing pass, which runs the
task as usual once every part ended, finds what the parts wrote unchanged by its source hash, and
moves the cursor.

Which share a record is in comes from its natural key when it has one (the values of the task's
``key.source``, e.g. the account number), so records sharing a number meet in one part and fail
there, naming each other, as in an unsplit run; a record without one (a number still to be
generated) goes by its source key. The hash is CRC-32, the same in every process (Python's
``hash`` is salted per process).

A record numbered by one part is in another share once its number is written back: a part that
reads it after that (a redo of a part whose worker died, or another part reading late) takes it
by its number. Nothing is lost or written twice either way — the closing pass writes what no part
took, and a record two parts took is one target under one link (the second finds it linked, or
finds the ERP row by key) — it only moves work between the parts and the closing pass.

>>> share = Share.parse("2/3")
>>> str(share), share.holds("ACC-1") + Share.parse("1/3").holds("ACC-1") + Share.parse("3/3").holds("ACC-1")
('2/3', 1)
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from p2c.errors import ConfigError

__all__ = ["Share", "split_key"]


@dataclass(frozen=True)
class Share:
    """Part ``number`` (1-based) of ``count``."""

    number: int
    count: int

    @classmethod
    def parse(cls, text: str) -> Share:
        """``"2/4"`` → part 2 of 4 (a work item's ``part``)."""
        number, _, count = text.partition("/")
        if not (number.isdigit() and count.isdigit() and 1 <= int(number) <= int(count)):
            raise ConfigError(
                f"a part is written NUMBER/COUNT with 1 <= NUMBER <= COUNT, not {text!r}", field="part"
            )
        return cls(int(number), int(count))

    @classmethod
    def all_of(cls, count: int) -> list[Share]:
        return [cls(n, count) for n in range(1, count + 1)]

    def holds(self, key: str) -> bool:
        return zlib.crc32(key.encode("utf-8")) % self.count == self.number - 1

    def __str__(self) -> str:
        return f"{self.number}/{self.count}"


def split_key(row: Mapping[str, Any], key_source: Sequence[str], source_key: str) -> str:
    """The key a record is shared out by: its natural key (``key_source``'s values, trimmed and
    case-folded as duplicates are compared) when every one is set, else its ``source_key``."""
    values = [str(row.get(f) or "").strip().casefold() for f in key_source]
    return "\x1f".join(values) if values and all(values) else source_key
