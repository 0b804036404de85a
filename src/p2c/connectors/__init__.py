"""Connectors: the clients p2c uses to read and write Dataverse and F&O over OData.

Each connector runs on an injected ``httpx.Client`` (the same code against Dynamics, the sandbox
on loopback, or a test transport) and a :class:`TokenProvider`. The protocol itself — paging,
retry and throttling decisions, error bodies, literals, batch splitting — is pure and lives in
:mod:`p2c.connectors.protocol`.

Example::

    from p2c.connectors import DataverseConnector, OpKind, WriteOp

    crm = DataverseConnector.from_settings(url=..., authority=..., client_id=..., client_secret=...)
    results = crm.write("accounts", [WriteOp(OpKind.UPSERT, {"accountnumber": "A1"}, {"name": "Contoso"})])
    print(results[0].action, crm.stats["requests"])
"""

from p2c.connectors.auth import (
    ConnectionOrigin,
    MsalTokenProvider,
    RedactingFilter,
    Redactor,
    StaticTokenProvider,
    TokenProvider,
)
from p2c.connectors.base import (
    ChangeFeed,
    Changes,
    Connector,
    OpKind,
    ValuesQuery,
    WriteAction,
    WriteOp,
    WriteResult,
    key_text,
)
from p2c.connectors.dataverse import DataverseConnector, TableInfo
from p2c.connectors.dataverse_target import ParentTable, Refusal, TargetItem, TargetTable, fold_key
from p2c.connectors.fno import KNOWN_KEYS, FnoConnector
from p2c.connectors.multipart import BatchItem, ChangeSet, HttpPart, MultipartError, parse_batch, render_batch
from p2c.connectors.protocol import (
    Bisect,
    EnumLiteral,
    GiveUp,
    Isolate,
    Pager,
    Retry,
    RetryPolicy,
    Service,
    ServiceError,
    classify,
    distinct_values,
    entity_path,
    in_filter,
    key_filter,
    key_filters,
    key_predicate,
    literal,
    odata_bind,
    parse_error,
    quote,
    split_failed,
)
from p2c.connectors.protocol_session import HttpSession, RequestBudget, make_client

__all__ = [
    "KNOWN_KEYS",
    "BatchItem",
    "Bisect",
    "ChangeFeed",
    "ChangeSet",
    "Changes",
    "ConnectionOrigin",
    "Connector",
    "DataverseConnector",
    "EnumLiteral",
    "FnoConnector",
    "GiveUp",
    "HttpPart",
    "HttpSession",
    "Isolate",
    "MsalTokenProvider",
    "MultipartError",
    "OpKind",
    "Pager",
    "ParentTable",
    "RedactingFilter",
    "Redactor",
    "Refusal",
    "RequestBudget",
    "Retry",
    "RetryPolicy",
    "Service",
    "ServiceError",
    "StaticTokenProvider",
    "TableInfo",
    "TargetItem",
    "TargetTable",
    "TokenProvider",
    "ValuesQuery",
    "WriteAction",
    "WriteOp",
    "WriteResult",
    "classify",
    "distinct_values",
    "entity_path",
    "fold_key",
    "in_filter",
    "key_filter",
    "key_filters",
    "key_predicate",
    "key_text",
    "literal",
    "make_client",
    "odata_bind",
    "parse_batch",
    "parse_error",
    "quote",
    "render_batch",
    "split_failed",
]
