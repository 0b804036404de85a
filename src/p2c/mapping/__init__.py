"""Pure mapping: field expressions, transforms and value maps, dicts in and dicts out (STYLE habit 5).

>>> from p2c.mapping import ValueMap   # doctest: +SKIP
"""

from p2c.mapping.expression import (
    ExpressionError,
    LookupSpec,
    Missing,
    parse_arithmetic,
    parse_expression,
)
from p2c.mapping.mapper import Mapper, MappingTask, Related, SimpleTask, to_wire
from p2c.mapping.transforms import TransformError, ValueMap, coerce

__all__ = [
    "ExpressionError",
    "LookupSpec",
    "Mapper",
    "MappingTask",
    "Missing",
    "Related",
    "SimpleTask",
    "TransformError",
    "ValueMap",
    "coerce",
    "parse_arithmetic",
    "parse_expression",
    "to_wire",
]
