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

import dataclasses
from typing import Any

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


def filter_fields(text: str | None, dialect: Dialect = Dialect.DATAVERSE) -> set[str]:
    """The field names a ``$filter`` reads: the first segment of each property path, the property
    of a Dataverse query function, the collection of a lambda::

    >>> sorted(filter_fields("statecode eq 1 and (name ne 'x' or revenue gt 10)"))
    ['name', 'revenue', 'statecode']
    >>> sorted(filter_fields("Microsoft.Dynamics.CRM.In(PropertyName='code',PropertyValues=['a'])"))
    ['code']

    A filter that does not parse reads nothing (load-time validation reports it).
    """
    if not text:
        return set()
    try:
        tree = parse_filter(text, dialect)
    except FilterError:
        return set()
    out: set[str] = set()

    def walk(node: Any, bound: frozenset[str]) -> None:
        if isinstance(node, Property):
            if node.path and node.path[0] not in bound:
                out.add(node.path[0])
        elif isinstance(node, CrmCall):
            name = node.params.get("PropertyName")
            if isinstance(name, str):
                out.add(name)
        elif isinstance(node, Lambda):
            out.add(node.path[0])
            if node.body is not None:
                walk(node.body, bound | {node.var})
        elif dataclasses.is_dataclass(node):
            for f in dataclasses.fields(node):
                value = getattr(node, f.name)
                for item in value if isinstance(value, tuple) else (value,):
                    if dataclasses.is_dataclass(item):
                        walk(item, bound)

    walk(tree, frozenset())
    return out
