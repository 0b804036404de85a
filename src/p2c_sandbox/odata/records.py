"""Class decorators for the odata package's plain value types (type checkers see them as dataclasses).

>>> @value_type
... class Point:
...     x: int
>>> Point(1) == Point(1), hash(Point(1)) == hash(Point(1))
(True, True)
"""

from __future__ import annotations

import dataclasses
from typing import TypeVar, dataclass_transform

__all__ = ["mutable_record", "value_type"]

_T = TypeVar("_T")


@dataclass_transform(frozen_default=True, field_specifiers=(dataclasses.field,))
def value_type(cls: type[_T]) -> type[_T]:
    """An immutable, hashable, slotted record of the annotated fields."""
    return dataclasses.dataclass(frozen=True, slots=True)(cls)


@dataclass_transform(field_specifiers=(dataclasses.field,))
def mutable_record(cls: type[_T]) -> type[_T]:
    """A record whose fields may be reassigned after construction."""
    return dataclasses.dataclass(cls)
