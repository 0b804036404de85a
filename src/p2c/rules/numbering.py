"""Natural keys for records the CRM has none for: ``ACC-01000-BVRCPS``, ``CON-01000-BVRCPS``.

A number is the prefix, a rising five-digit sequence and six random capitals (P2C.md, Accounts).
The sequence continues after the highest one already used with that prefix, so numbers keep
rising across runs; the random part makes collisions between two installations unlikely. Given a
seed (the record's id), the random part depends only on the seed and the sequence, so a plan shows
the number the run will then write::

    >>> import random
    >>> generate_number("ACC", 1000, random.Random(7))
    'ACC-01000-KEMUBC'
    >>> next_sequence(["ACC-01000-BVRCPS", "ACC-01041-XXXXXX", "CON-09999-AAAAAA", "legacy"], "ACC")
    1042
"""

from __future__ import annotations

import random
import re
import string
from collections.abc import Iterable

__all__ = ["NumberGenerator", "generate_number", "next_sequence"]

SUFFIX_LENGTH = 6


def generate_number(prefix: str, sequence: int, rng: random.Random) -> str:
    """``PREFIX-<sequence, at least five digits>-<six random capitals>``."""
    if sequence < 0:
        raise ValueError("sequence must not be negative")
    suffix = "".join(rng.choice(string.ascii_uppercase) for _ in range(SUFFIX_LENGTH))
    return f"{prefix}-{sequence:05d}-{suffix}"


def _pattern(prefix: str) -> re.Pattern[str]:
    return re.compile(rf"^{re.escape(prefix)}-(\d{{5,}})-[A-Z]{{{SUFFIX_LENGTH}}}$", re.IGNORECASE)


def next_sequence(existing_numbers: Iterable[str | None], prefix: str, start: int = 1000) -> int:
    """The sequence after the highest used by ``prefix`` numbers in ``existing_numbers``, or ``start``."""
    pattern = _pattern(prefix)
    highest = start - 1
    for number in existing_numbers:
        m = pattern.match(number.strip()) if number else None
        if m:
            highest = max(highest, int(m.group(1)))
    return highest + 1


class NumberGenerator:
    """Hands out fresh numbers for one prefix, skipping any already taken.

    >>> gen = NumberGenerator("CON", ["CON-01000-AAAAAA"], random.Random(1))
    >>> gen.next()[:10]
    'CON-01001-'
    """

    def __init__(
        self,
        prefix: str,
        existing: Iterable[str | None],
        rng: random.Random | None = None,
        start: int = 1000,
    ) -> None:
        taken = [n for n in existing if n]
        self.prefix = prefix
        self.rng = rng or random.Random()
        self.sequence = next_sequence(taken, prefix, start)
        self.taken = {n.casefold() for n in taken}

    def next(self, seed: str | None = None) -> str:
        """The next free number; with ``seed``, the same seed and sequence give the same number.

        >>> NumberGenerator("ACC", [], start=1000).next("4f1c") == NumberGenerator("ACC", []).next("4f1c")
        True
        """
        while True:
            rng = self.rng if seed is None else random.Random(f"{self.prefix}-{self.sequence}-{seed}")
            number = generate_number(self.prefix, self.sequence, rng)
            self.sequence += 1
            if number.casefold() not in self.taken:
                self.taken.add(number.casefold())
                return number
