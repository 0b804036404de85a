"""OData machinery shared by the Dataverse and F&O emulators, independent of p2c's own.

``$filter`` (:mod:`~p2c_sandbox.odata.filter`), ``$select``/``$orderby``/``$expand``
(:mod:`~p2c_sandbox.odata.options`), ``$batch`` bodies (:mod:`~p2c_sandbox.odata.multipart`)
and their execution (:mod:`~p2c_sandbox.odata.batch`).

Example::

    >>> from p2c_sandbox.odata import BatchDialect
    >>> BatchDialect("fno") is BatchDialect.FNO
    True
"""

from p2c_sandbox.odata.batch import BatchDialect, ErrorFactory, execute_batch
from p2c_sandbox.odata.filter import (
    Dialect,
    Field,
    FieldKind,
    FilterError,
    MappingSchema,
    compile_filter,
    parse_filter,
)
from p2c_sandbox.odata.multipart import (
    BatchItem,
    ChangeSet,
    HttpPart,
    MultipartError,
    parse_batch,
    render_batch,
)
from p2c_sandbox.odata.options import (
    Expand,
    OrderBy,
    QueryOptionError,
    parse_expand,
    parse_orderby,
    parse_select,
    sort_rows,
)

__all__ = [
    "BatchDialect",
    "BatchItem",
    "ChangeSet",
    "Dialect",
    "ErrorFactory",
    "Expand",
    "Field",
    "FieldKind",
    "FilterError",
    "HttpPart",
    "MappingSchema",
    "MultipartError",
    "OrderBy",
    "QueryOptionError",
    "compile_filter",
    "execute_batch",
    "parse_batch",
    "parse_expand",
    "parse_filter",
    "parse_orderby",
    "parse_select",
    "render_batch",
    "sort_rows",
]
