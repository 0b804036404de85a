"""OData ``$filter`` for both services: parse text, then compile it to a row predicate.

The engine evaluates user filters locally with it, with the same rules the real service applies (``Dialect.DATAVERSE`` or ``Dialect.FNO``).
Example::

    >>> schema = DictSchema("account", [
    ...     FieldInfo("name", FieldKind.STRING), FieldInfo("revenue", FieldKind.DECIMAL)])
    >>> tree = parse_filter("name eq 'contoso' and revenue gt 100", Dialect.DATAVERSE)
    >>> match = compile_filter(tree, schema, Dialect.DATAVERSE)
    >>> [match(r) for r in ({"name": "Contoso", "revenue": 150}, {"name": "Contoso", "revenue": None})]
    [True, False]
    >>> "name eq " + quote_string("O'Brien & Co")
    "name eq 'O''Brien & Co'"

The work is split by stage: ``ast`` (tree, errors, quoting), ``lex`` and ``parse`` (text to
tree), ``schema`` (what an entity looks like), ``values`` (row value normalisation), and
``compile`` with ``compare`` and ``crm`` (tree to predicate). This module is the public face
of all of them. The sandbox has its own, independent implementation: each checks the other.
"""

import re

from p2c.odata.ast import (
    Arith,
    ArithOp,
    BoolOp,
    BoolOperator,
    Call,
    Compare,
    CompareOp,
    CrmCall,
    Dialect,
    EnumLiteral,
    FilterError,
    InList,
    Lambda,
    LambdaKind,
    Literal,
    Node,
    Not,
    Property,
    quote_string,
)
from p2c.odata.compile import Predicate, compile_filter
from p2c.odata.parse import parse_filter
from p2c.odata.schema import DictSchema, FieldInfo, FieldKind, FilterSchema

__all__ = [
    "Arith",
    "ArithOp",
    "BoolOp",
    "BoolOperator",
    "Call",
    "Compare",
    "CompareOp",
    "CrmCall",
    "Dialect",
    "DictSchema",
    "EnumLiteral",
    "FieldInfo",
    "FieldKind",
    "FilterError",
    "FilterSchema",
    "InList",
    "Lambda",
    "LambdaKind",
    "Literal",
    "Node",
    "Not",
    "Predicate",
    "Property",
    "compile_filter",
    "filter_fields",
    "parse_filter",
    "quote_string",
]


def filter_fields(text: str) -> set[str]:
    """The field names a filter text compares::

    >>> sorted(filter_fields("statecode eq 1 and (name ne 'x' or revenue gt 10)"))
    ['name', 'revenue', 'statecode']
    """
    return set(re.findall(r"\b([A-Za-z_][A-Za-z0-9_]*)\s+(?:eq|ne|gt|ge|lt|le)\b", text))
