"""OData ``$filter`` as the emulators understand it: parse the text, compile it to a row predicate.

This is the sandbox's own implementation, written apart from p2c's (``p2c.mapping``) on purpose:
p2c's tests run against the emulators, so a shared parser would hide a bug on both sides.

    >>> schema = MappingSchema("CustomerGroups", [
    ...     Field("CustomerGroupId", FieldKind.STRING),
    ...     Field("IsSalesTaxIncludedInPrice", FieldKind.ENUM, "NoYes", ("No", "Yes"))])
    >>> tree = parse_filter(
    ...     "CustomerGroupId eq '1*' and IsSalesTaxIncludedInPrice eq Microsoft.Dynamics.DataEntities.NoYes'Yes'",
    ...     Dialect.FNO)
    >>> match = compile_filter(tree, schema, Dialect.FNO)
    >>> match({"CustomerGroupId": "10", "IsSalesTaxIncludedInPrice": "Yes"})
    True

The stages live in their own modules: ``filter_lex`` and ``filter_parse`` (text to tree,
``filter_rules`` for what each dialect accepts), ``filter_ast`` (the tree), ``filter_values``,
``filter_coerce`` and ``filter_schema`` (types and entities), ``filter_compile`` with
``filter_compare`` and ``filter_functions`` (tree to predicate).
"""

from p2c_sandbox.odata.filter_ast import (
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
)
from p2c_sandbox.odata.filter_compare import Predicate
from p2c_sandbox.odata.filter_compile import compile_filter
from p2c_sandbox.odata.filter_parse import parse_filter
from p2c_sandbox.odata.filter_schema import CollectionSchema, FilterSchema, MappingSchema
from p2c_sandbox.odata.filter_values import Field, FieldKind, quote

__all__ = [
    "Arith",
    "ArithOp",
    "BoolOp",
    "BoolOperator",
    "Call",
    "CollectionSchema",
    "Compare",
    "CompareOp",
    "CrmCall",
    "Dialect",
    "EnumLiteral",
    "Field",
    "FieldKind",
    "FilterError",
    "FilterSchema",
    "InList",
    "Lambda",
    "LambdaKind",
    "Literal",
    "MappingSchema",
    "Node",
    "Not",
    "Predicate",
    "Property",
    "compile_filter",
    "parse_filter",
    "quote",
]
