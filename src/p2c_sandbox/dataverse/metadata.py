"""``EntityDefinitions``: tables, columns and alternate keys as metadata (DATAVERSE.md §2.13).

========================================================  =========================================
``GET EntityDefinitions[?$select&$filter&$expand]``        tables (filter e.g. ``LogicalName eq 'x'``,
                                                          ``ChangeTrackingEnabled eq true``)
``GET/PUT/PATCH EntityDefinitions(LogicalName='x')``       one table; PUT/PATCH switches change
                                                          tracking on (``ChangeTrackingEnabled``)
``GET EntityDefinitions(..)/Attributes[/<cast>]``          columns (cast: ``Microsoft.Dynamics.CRM.
                                                          PicklistAttributeMetadata``, ...)
``POST EntityDefinitions(..)/Attributes``                  create a custom column
``GET/POST EntityDefinitions(..)/Keys``, ``DELETE Keys(..)``  alternate keys (Pending → Active/Failed)
========================================================  =========================================

The JSON shapes are built in :mod:`~p2c_sandbox.dataverse.metadata_shapes`; custom columns are
parsed in :mod:`~p2c_sandbox.dataverse.metadata_create`.

Example::

    GET EntityDefinitions?$select=LogicalName,EntitySetName&$filter=LogicalName eq 'account'
"""

from __future__ import annotations

import time
from typing import Any

from p2c_sandbox.dataverse.catalog import KEYABLE, KeyDef, KeyStatus, metadata_id
from p2c_sandbox.dataverse.entities import not_allowed, read_json
from p2c_sandbox.dataverse.errors import Code, DataverseError, bad_request
from p2c_sandbox.dataverse.metadata_create import check_schema_name, column_from_metadata, label_text
from p2c_sandbox.dataverse.metadata_shapes import attribute_shape, entity_shape, key_shape
from p2c_sandbox.dataverse.org import Org
from p2c_sandbox.dataverse.query import check_options, compile_predicate_on
from p2c_sandbox.dataverse.read import service_root
from p2c_sandbox.dataverse.schema import TableDef
from p2c_sandbox.dataverse.urls import KeySpec, parse_segment
from p2c_sandbox.http import Request, Response, json_response
from p2c_sandbox.odata.filter import Field, FieldKind, MappingSchema
from p2c_sandbox.odata.options import parse_expand, parse_select

__all__ = ["Metadata"]

CAST_PREFIX = "Microsoft.Dynamics.CRM."
_ENTITY_FIELDS = MappingSchema(
    "EntityMetadata",
    [
        Field("LogicalName", FieldKind.STRING),
        Field("SchemaName", FieldKind.STRING),
        Field("EntitySetName", FieldKind.STRING),
        Field("LogicalCollectionName", FieldKind.STRING),
        Field("PrimaryIdAttribute", FieldKind.STRING),
        Field("PrimaryNameAttribute", FieldKind.STRING),
        Field("ChangeTrackingEnabled", FieldKind.BOOL),
        Field("IsCustomEntity", FieldKind.BOOL),
        Field("ObjectTypeCode", FieldKind.INT),
        Field("MetadataId", FieldKind.GUID),
        Field("OwnershipType", FieldKind.STRING),
        Field("IsActivity", FieldKind.BOOL),
    ],
)
_ATTRIBUTE_FIELDS = MappingSchema(
    "AttributeMetadata",
    [
        Field("LogicalName", FieldKind.STRING),
        Field("SchemaName", FieldKind.STRING),
        Field("AttributeType", FieldKind.STRING),
        Field("IsCustomAttribute", FieldKind.BOOL),
        Field("IsValidForCreate", FieldKind.BOOL),
        Field("IsValidForUpdate", FieldKind.BOOL),
        Field("IsValidForRead", FieldKind.BOOL),
        Field("IsPrimaryId", FieldKind.BOOL),
        Field("IsPrimaryName", FieldKind.BOOL),
        Field("MetadataId", FieldKind.GUID),
        Field("EntityLogicalName", FieldKind.STRING),
        Field("AttributeOf", FieldKind.STRING),
    ],
)
_KEY_FIELDS = MappingSchema(
    "EntityKeyMetadata",
    [
        Field("LogicalName", FieldKind.STRING),
        Field("SchemaName", FieldKind.STRING),
        Field("EntityKeyIndexStatus", FieldKind.STRING),
        Field("MetadataId", FieldKind.GUID),
    ],
)
_MAX_KEYS = 10


def _select(rows: list[dict[str, Any]], req: Request, always: tuple[str, ...]) -> list[dict[str, Any]]:
    text = req.param("$select")
    if text is None:
        return rows
    wanted = parse_select(text)
    keep = set(wanted) | set(always) | {"@odata.type"}
    expanded = {e.nav for e in parse_expand(req.param("$expand") or "")} if req.param("$expand") else set()
    return [{k: v for k, v in r.items() if k in keep or k in expanded} for r in rows]


class Metadata:
    """The ``EntityDefinitions`` resource."""

    def __init__(self, org: Org) -> None:
        self.org = org

    def handle(self, req: Request, key: KeySpec | None, rest: list[str]) -> Response:
        check_options(req)
        root = service_root(req)
        if key is None:
            if rest:
                raise DataverseError(404, Code.QUERY, f"Resource not found for the segment '{rest[0]}'.")
            if req.method != "GET":
                raise not_allowed(req.method)
            rows = [self._entity(t, req) for t in self.org.catalog.tables.values()]
            rows = self._filter(rows, req, _ENTITY_FIELDS)
            return json_response(
                200,
                {
                    "@odata.context": f"{root}$metadata#EntityDefinitions",
                    "value": _select(rows, req, ("MetadataId",)),
                },
            )
        t = self._table(key)
        if not rest:
            if req.method == "GET":
                body = self._entity(t, req)
                return json_response(
                    200,
                    {
                        "@odata.context": f"{root}$metadata#EntityDefinitions/$entity",
                        **_select([body], req, ("MetadataId",))[0],
                    },
                )
            if req.method in ("PUT", "PATCH"):
                return self._update_entity(req, t)
            raise not_allowed(req.method)
        segment, sub_key = parse_segment(rest[0])
        if segment == "Attributes":
            return self._attributes(req, t, sub_key, rest[1:])
        if segment == "Keys":
            return self._keys(req, t, sub_key, rest[1:])
        raise DataverseError(404, Code.QUERY, f"Resource not found for the segment '{segment}'.")

    # -- tables --------------------------------------------------------------------------------

    def _table(self, key: KeySpec) -> TableDef:
        tables = self.org.catalog.tables
        if isinstance(key, str):
            found = next((t for t in tables.values() if metadata_id("entity", t.name) == key), None)
        else:
            name = key.get("LogicalName")
            found = tables.get(name) if isinstance(name, str) and len(key) == 1 else None
        if found is None:
            raise DataverseError(404, Code.NOT_FOUND_BY_ID, f"Could not find entity with key {key}.")
        return found

    def _entity(self, t: TableDef, req: Request) -> dict[str, Any]:
        shape = entity_shape(t, self.org.catalog.tracking(t.name))
        expand = req.param("$expand") if req.path.startswith("EntityDefinitions") else None
        if expand:
            for e in parse_expand(expand):
                if e.nav == "Attributes":
                    shape["Attributes"] = [attribute_shape(t, c) for c in t.columns.values()]
                elif e.nav == "Keys":
                    shape["Keys"] = [key_shape(k) for k in self.org.catalog.keys(t.name)]
                else:
                    raise bad_request(
                        f"Could not find a property named '{e.nav}' on type "
                        "'Microsoft.Dynamics.CRM.EntityMetadata'."
                    )
        return shape

    def _filter(
        self, rows: list[dict[str, Any]], req: Request, schema: MappingSchema
    ) -> list[dict[str, Any]]:
        text = req.param("$filter")
        if text is None:
            return rows
        aliases = {k: v for k, v in req.query if k.startswith("@")}
        predicate = compile_predicate_on(schema, text, aliases)
        return [r for r in rows if predicate(r)]

    def _update_entity(self, req: Request, t: TableDef) -> Response:
        body = read_json(req, "EntityDefinitions")
        if not isinstance(body, dict):
            raise bad_request("The body must be an EntityMetadata object.", Code.PAYLOAD)
        wanted = body.get("ChangeTrackingEnabled")
        if wanted is not None and not isinstance(wanted, bool):
            raise bad_request("ChangeTrackingEnabled must be true or false.", Code.PAYLOAD)
        with self.org.transaction():
            if wanted is True:
                self.org.catalog.set_tracking(t.name, True)
            elif wanted is False and self.org.catalog.tracking(t.name):
                raise DataverseError(
                    400, Code.METADATA, f"Change tracking can't be disabled once enabled (entity '{t.name}')."
                )
        return Response(204, {"odata-version": "4.0"})

    # -- attributes ----------------------------------------------------------------------------

    def _attributes(self, req: Request, t: TableDef, sub_key: KeySpec | None, rest: list[str]) -> Response:
        root = service_root(req)
        cast = None
        if rest:
            if len(rest) > 1 or not rest[0].startswith(CAST_PREFIX) or sub_key is not None:
                raise DataverseError(404, Code.QUERY, f"Resource not found for the segment '{rest[-1]}'.")
            cast = rest[0][len(CAST_PREFIX) :]
        if req.method == "POST" and sub_key is None and cast is None:
            return self._create_attribute(req, t)
        if req.method != "GET":
            raise not_allowed(req.method)
        with_options = (
            any(e.nav in ("OptionSet", "GlobalOptionSet") for e in parse_expand(req.param("$expand") or ""))
            if req.param("$expand")
            else False
        )
        rows = [attribute_shape(t, c, with_options) for c in t.columns.values()]
        if cast is not None:
            rows = [r for r in rows if r["@odata.type"] == f"#{CAST_PREFIX}{cast}"]
        if sub_key is not None:
            match = self._one(rows, sub_key, "attribute")
            return json_response(
                200,
                {
                    "@odata.context": f"{root}$metadata#EntityDefinitions('{t.name}')/Attributes/$entity",
                    **_select([match], req, ("MetadataId",))[0],
                },
            )
        rows = self._filter(rows, req, _ATTRIBUTE_FIELDS)
        context = f"{root}$metadata#EntityDefinitions('{t.name}')/Attributes" + (
            f"/{CAST_PREFIX}{cast}" if cast else ""
        )
        return json_response(200, {"@odata.context": context, "value": _select(rows, req, ("MetadataId",))})

    @staticmethod
    def _one(rows: list[dict[str, Any]], key: KeySpec, what: str) -> dict[str, Any]:
        for r in rows:
            if (isinstance(key, str) and r["MetadataId"] == key) or (
                isinstance(key, dict) and r.get("LogicalName") == key.get("LogicalName")
            ):
                return r
        raise DataverseError(404, Code.NOT_FOUND_BY_ID, f"Could not find {what} with key {key}.")

    def _create_attribute(self, req: Request, t: TableDef) -> Response:
        body = read_json(req, "Attributes")
        column = column_from_metadata(body, t)
        with self.org.transaction():
            self.org.catalog.add_column(t.name, column)
        url = (
            f"{service_root(req)}EntityDefinitions({metadata_id('entity', t.name)})"
            f"/Attributes({metadata_id('attribute', t.name, column.name)})"
        )
        return Response(204, {"odata-entityid": url, "odata-version": "4.0"})

    # -- keys ----------------------------------------------------------------------------------

    def _keys(self, req: Request, t: TableDef, sub_key: KeySpec | None, rest: list[str]) -> Response:
        root = service_root(req)
        if rest:
            raise DataverseError(404, Code.QUERY, f"Resource not found for the segment '{rest[0]}'.")
        keys = self.org.catalog.keys(t.name)
        if sub_key is not None:
            rows = [key_shape(k) for k in keys]
            match = self._one(rows, sub_key, "key")
            if req.method == "GET":
                return json_response(
                    200,
                    {
                        "@odata.context": f"{root}$metadata#EntityDefinitions('{t.name}')/Keys/$entity",
                        **match,
                    },
                )
            if req.method == "DELETE":
                with self.org.transaction():
                    self.org.catalog.remove_key(next(k for k in keys if k.metadata_id == match["MetadataId"]))
                return Response(204, {"odata-version": "4.0"})
            raise not_allowed(req.method)
        if req.method == "GET":
            rows = self._filter([key_shape(k) for k in keys], req, _KEY_FIELDS)
            return json_response(
                200,
                {
                    "@odata.context": f"{root}$metadata#EntityDefinitions('{t.name}')/Keys",
                    "value": _select(rows, req, ("MetadataId",)),
                },
            )
        if req.method != "POST":
            raise not_allowed(req.method)
        key = self._new_key(read_json(req, "Keys"), t, keys)
        with self.org.transaction():
            self.org.catalog.add_key(key)
        url = f"{root}EntityDefinitions({metadata_id('entity', t.name)})/Keys({key.metadata_id})"
        return Response(204, {"odata-entityid": url, "odata-version": "4.0"})

    def _new_key(self, body: Any, t: TableDef, keys: list[KeyDef]) -> KeyDef:
        if not isinstance(body, dict):
            raise bad_request("The body must be an EntityKeyMetadata object.", Code.PAYLOAD)
        schema_name = check_schema_name(body.get("SchemaName"), "key")
        attributes = body.get("KeyAttributes")
        if (
            not isinstance(attributes, list)
            or not attributes
            or not all(isinstance(a, str) for a in attributes)
        ):
            raise DataverseError(
                400, Code.METADATA, "KeyAttributes must list the logical names of 1 to 16 columns."
            )
        if len(attributes) > 16:
            raise DataverseError(400, Code.METADATA, "An alternate key can have at most 16 columns.")
        for a in attributes:
            col = t.columns.get(a)
            if col is None:
                raise DataverseError(
                    400, Code.METADATA, f"The attribute '{a}' does not exist on entity '{t.name}'."
                )
            if col.kind not in KEYABLE or (col.name in t.columns and col.name == t.pk):
                raise DataverseError(
                    400, Code.METADATA, f"The attribute '{a}' ({col.kind}) can't be part of an alternate key."
                )
        if any(k.logical_name == schema_name.lower() for k in keys):
            raise DataverseError(400, Code.METADATA, f"An entity key named '{schema_name}' already exists.")
        if any(set(k.attributes) == set(attributes) for k in keys if k.status is not KeyStatus.FAILED):
            raise DataverseError(
                400, Code.METADATA, "An entity key with the same set of attributes already exists."
            )
        if len(keys) >= _MAX_KEYS:
            raise DataverseError(
                400, Code.METADATA, f"An entity can have at most {_MAX_KEYS} alternate keys."
            )
        return KeyDef(
            t.name,
            schema_name,
            list(attributes),
            KeyStatus.PENDING,
            time.time(),
            metadata_id("key", t.name, schema_name.lower()),
            label_text(body.get("DisplayName")) or schema_name,
        )
