"""The service document (``GET /api/data/v9.2/``) and ``$metadata`` (CSDL XML).

The CSDL declares, in namespace ``Microsoft.Dynamics.CRM`` (alias ``mscrm``), one entity type per
table with its key, properties (lookups as ``_x_value`` ``Edm.Guid``), single- and
collection-valued navigation properties, one entity set each (with the
``Org.OData.Capabilities.V1.ChangeTracking`` annotation where change tracking is on), the bulk
actions, ``WhoAmI`` and the Sales actions. Custom columns appear as soon as they are created.

Example::

    >>> from p2c_sandbox.store import Store
    >>> from p2c_sandbox.dataverse.org import Org
    >>> b'EntitySet Name="accounts"' in csdl(Org(Store(None))).body
    True
"""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

from p2c_sandbox.dataverse.org import Org
from p2c_sandbox.dataverse.read import service_root
from p2c_sandbox.dataverse.schema import Column, Kind, TableDef
from p2c_sandbox.dataverse.values import edm_type
from p2c_sandbox.http import Request, Response, json_response

__all__ = ["csdl", "service_document"]

_ACTIONS = (
    ("CreateMultiple", True, "mscrm.CreateMultipleResponse"),
    ("UpdateMultiple", True, None),
    ("UpsertMultiple", True, None),
    ("WinQuote", False, None),
    ("CloseQuote", False, None),
    ("FulfillSalesOrder", False, None),
    ("CancelSalesOrder", False, None),
    ("ConvertQuoteToSalesOrder", False, "mscrm.salesorder"),
    ("ConvertSalesOrderToInvoice", False, "mscrm.invoice"),
)


def service_document(req: Request, org: Org) -> Response:
    root = service_root(req)
    sets = sorted(t.set_name for t in org.catalog.tables.values())
    return json_response(
        200,
        {
            "@odata.context": f"{root}$metadata",
            "value": [{"name": s, "kind": "EntitySet", "url": s} for s in sets],
        },
    )


def _property(col: Column) -> str:
    nullable = "" if col.kind is not Kind.UNIQUEIDENTIFIER else ' Nullable="false"'
    extra = ""
    if col.kind in (Kind.STRING, Kind.MEMO) and col.max_length:
        extra = f' MaxLength="{col.max_length}"'
    elif col.kind in (Kind.DECIMAL, Kind.MONEY):
        extra = ' Scale="Variable"'
    return f'<Property Name="{col.wire}" Type="{edm_type(col)}"{nullable}{extra} />'


def _entity_type(org: Org, t: TableDef) -> list[str]:
    out = [
        f'<EntityType Name="{t.name}" BaseType="mscrm.crmbaseentity">',
        f'<Key><PropertyRef Name="{t.pk}" /></Key>',
    ]
    out += [_property(c) for c in t.columns.values()]
    for nav, (col, target) in t.navs.items():
        out.append(
            f'<NavigationProperty Name="{nav}" Type="mscrm.{target}" Nullable="false" '
            f'Partner="{t.name}_{nav}"><ReferentialConstraint Property="{col.wire}" '
            f'ReferencedProperty="{org.catalog.table(target).pk}" /></NavigationProperty>'
        )
    for nav, (child, lookup) in t.collections.items():
        out.append(f'<NavigationProperty Name="{nav}" Type="Collection(mscrm.{child})" Partner="{lookup}" />')
    out.append("</EntityType>")
    return out


def csdl(org: Org) -> Response:
    tables = list(org.catalog.tables.values())
    lines = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx">',
        '<edmx:Reference Uri="http://vocabularies.odata.org/OData.Capabilities.V1.xml">'
        '<edmx:Include Namespace="Org.OData.Capabilities.V1" Alias="Capabilities" /></edmx:Reference>',
        "<edmx:DataServices>",
        '<Schema Namespace="Microsoft.Dynamics.CRM" Alias="mscrm" xmlns="http://docs.oasis-open.org/odata/ns/edm">',
        '<EntityType Name="crmbaseentity" Abstract="true" />',
        '<ComplexType Name="WhoAmIResponse"><Property Name="BusinessUnitId" Type="Edm.Guid" Nullable="false" />'
        '<Property Name="UserId" Type="Edm.Guid" Nullable="false" />'
        '<Property Name="OrganizationId" Type="Edm.Guid" Nullable="false" /></ComplexType>',
        '<ComplexType Name="CreateMultipleResponse"><Property Name="Ids" Type="Collection(Edm.Guid)" '
        'Nullable="false" /></ComplexType>',
    ]
    for t in tables:
        lines += _entity_type(org, t)
    lines.append(
        '<Function Name="WhoAmI"><ReturnType Type="mscrm.WhoAmIResponse" Nullable="false" /></Function>'
    )
    for name, bound, returns in _ACTIONS:
        params = (
            '<Parameter Name="entityset" Type="Collection(mscrm.crmbaseentity)" Nullable="false" />'
            '<Parameter Name="Targets" Type="Collection(mscrm.crmbaseentity)" Nullable="false" />'
            if bound
            else ""
        )
        ret = f'<ReturnType Type="{returns}" Nullable="false" />' if returns else ""
        lines.append(f'<Action Name="{name}" IsBound="{"true" if bound else "false"}">{params}{ret}</Action>')
    lines.append('<EntityContainer Name="System">')
    for t in tables:
        tracking = org.catalog.tracking(t.name)
        lines.append(
            f'<EntitySet Name="{t.set_name}" EntityType="mscrm.{t.name}">'
            + "".join(
                f'<NavigationPropertyBinding Path="{nav}" Target={quoteattr(org.catalog.table(target).set_name)} />'
                for nav, (_, target) in t.navs.items()
            )
            + '<Annotation Term="Org.OData.Capabilities.V1.ChangeTracking"><Record>'
            f'<PropertyValue Property="Supported" Bool="{"true" if tracking else "false"}" /></Record></Annotation>'
            "</EntitySet>"
        )
    lines.append('<FunctionImport Name="WhoAmI" Function="mscrm.WhoAmI" />')
    for name, bound, _ in _ACTIONS:
        if not bound:
            lines.append(f'<ActionImport Name="{name}" Action="mscrm.{name}" />')
    lines += ["</EntityContainer>", "</Schema>", "</edmx:DataServices>", "</edmx:Edmx>"]
    body = "\n".join(lines).encode()
    return Response(200, {"content-type": "application/xml", "odata-version": "4.0"}, body)
