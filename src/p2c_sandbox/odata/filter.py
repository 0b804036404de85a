"""OData ``$filter`` as the emulators understand it: parse the text, compile it to a row predicate.

The sandbox's own implementation, written apart from p2c's on purpose: p2c's tests run against the
emulators, so a shared parser would hide a bug on both sides. ``filter_tree`` holds the tree and the
scanner, ``filter_parse`` the precedence-climbing parser, ``filter_types`` the property kinds and
schemas, ``filter_compile`` the tree-to-predicate compiler.

    >>> schema = MappingSchema("CustomerGroups", [
    ...     Field("CustomerGroupId", FieldKind.STRING),
    ...     Field("IsSalesTaxIncludedInPrice", FieldKind.ENUM, "NoYes", ("No", "Yes"))])
    >>> tree = parse_filter(
    ...     "CustomerGroupId eq '1*' and IsSalesTaxIncludedInPrice eq Microsoft.Dynamics.DataEntities.NoYes'Yes'",
    ...     Dialect.FNO)
    >>> match = compile_filter(tree, schema, Dialect.FNO)
    >>> match({"CustomerGroupId": "10", "IsSalesTaxIncludedInPrice": "Yes"})
    True
"""

from p2c_sandbox.odata import filter_compile, filter_tree, filter_types
from p2c_sandbox.odata.filter_compile import *  # noqa: F403
from p2c_sandbox.odata.filter_parse import parse_filter as parse_filter
from p2c_sandbox.odata.filter_tree import *  # noqa: F403
from p2c_sandbox.odata.filter_types import *  # noqa: F403

__all__ = sorted({*filter_tree.__all__, *filter_types.__all__, *filter_compile.__all__, "parse_filter"})
