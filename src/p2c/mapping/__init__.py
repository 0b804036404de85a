"""Pure mapping: field expressions, transforms and value maps, dicts in and dicts out (STYLE habit 5).

>>> from p2c.mapping import ValueMap   # doctest: +SKIP
"""

from p2c.mapping.arithmetic import ExpressionError, arithmetic_names, parse_arithmetic
from p2c.mapping.expression import (
    Arithmetic,
    Const,
    Defaulted,
    Expr,
    First,
    Lookup,
    LookupSpec,
    Missing,
    Source,
    ValueMapped,
    iter_nodes,
    lookups,
    parse_expression,
    replace_lookups_at,
    source_fields,
)
from p2c.mapping.mapper import Mapper, MappingTask, Related, SimpleTask
from p2c.mapping.transforms import TransformError, ValueMap, coerce, is_empty, to_bool, to_decimal
from p2c.mapping.wire import to_wire

__all__ = [
    "Arithmetic",
    "Const",
    "Defaulted",
    "Expr",
    "ExpressionError",
    "First",
    "Lookup",
    "LookupSpec",
    "Mapper",
    "MappingTask",
    "Missing",
    "Related",
    "SimpleTask",
    "Source",
    "TransformError",
    "ValueMap",
    "ValueMapped",
    "arithmetic_names",
    "coerce",
    "is_empty",
    "iter_nodes",
    "lookups",
    "parse_arithmetic",
    "parse_expression",
    "replace_lookups_at",
    "source_fields",
    "to_bool",
    "to_decimal",
    "to_wire",
]
