"""OData ``$filter`` for both services: parse text, then compile it to a row predicate.

The emulators filter their tables with it, and the engine evaluates user filters locally
with the same rules the real service applies (``Dialect.DATAVERSE`` or ``Dialect.FNO``).
Example::

    >>> schema = DictSchema("account", [
    ...     FieldInfo("name", FieldKind.STRING), FieldInfo("revenue", FieldKind.DECIMAL)])
    >>> tree = parse_filter("name eq 'contoso' and revenue gt 100", Dialect.DATAVERSE)
    >>> match = compile_filter(tree, schema, Dialect.DATAVERSE)
    >>> [match(r) for r in ({"name": "Contoso", "revenue": 150}, {"name": "Contoso", "revenue": None})]
    [True, False]
    >>> "name eq " + quote_string("O'Brien & Co")
    "name eq 'O''Brien & Co'"

The work is split by stage: ``odata_filter_ast`` (tree, errors, quoting),
``odata_filter_lex`` and ``odata_filter_parse`` (text to tree), ``odata_filter_schema``
(what an entity looks like), ``odata_filter_values`` (row value normalisation), and
``odata_filter_compile`` with ``odata_filter_compare`` and ``odata_filter_crm`` (tree to
predicate). This module is the public face of all of them.
"""

from p2c.mapping.odata_filter_ast import (
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
from p2c.mapping.odata_filter_compile import Predicate, compile_filter
from p2c.mapping.odata_filter_parse import parse_filter
from p2c.mapping.odata_filter_schema import DictSchema, FieldInfo, FieldKind, FilterSchema

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
    "parse_filter",
    "quote_string",
]
