"""Create, update and delete one row, with Dataverse's validation (DATAVERSE.md §2.3-§2.5, §5.3).

A JSON body is checked column by column — unknown properties, read-only columns, JSON types,
lengths, ranges, choice values, ``@odata.bind`` targets — before anything is stored; then the
Sales rules (:mod:`p2c_sandbox.dataverse.sales`) run, required columns and alternate-key
uniqueness are checked, and the row is stamped with ``createdon``/``modifiedon``, the calling
user and a fresh ``versionnumber`` from the org-wide counter.

Example (in-process)::

    writer.create(catalog.table("account"), {"name": "Contoso", "accountnumber": "C1"})
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from p2c_sandbox.clock import now_utc_text
from p2c_sandbox.dataverse.errors import Code, DataverseError, bad_request, not_found_by_id, not_found_by_key
from p2c_sandbox.dataverse.org import APP_USER_ID, Org
from p2c_sandbox.dataverse.sales import Sales
from p2c_sandbox.dataverse.schema import Column, Kind, TableDef
from p2c_sandbox.dataverse.tables_sales import LINE_PARENT
from p2c_sandbox.dataverse.tables_system import OWNER_TABLES
from p2c_sandbox.dataverse.urls import parse_reference
from p2c_sandbox.dataverse.values import coerce
from p2c_sandbox.store import Row

__all__ = ["Writer"]

_HINTS = {
    ("product", "pricelevelid"): " Create the product, add it to a price list (productpricelevel), then set "
    "its default price list with an update."
}
#: parent table -> [(child table, lookup wire)] deleted with it (cascade)
_CASCADE = {
    "quote": [("quotedetail", "_quoteid_value")],
    "salesorder": [("salesorderdetail", "_salesorderid_value")],
    "invoice": [("invoicedetail", "_invoiceid_value")],
    "product": [("productpricelevel", "_productid_value")],
    "pricelevel": [("productpricelevel", "_pricelevelid_value")],
}


class Writer:
    """Validated row writes for one org."""

    def __init__(self, org: Org, sales: Sales) -> None:
        self.org = org
        self.catalog = org.catalog
        self.sales = sales

    # -- body parsing --------------------------------------------------------------------------

    def parse(self, t: TableDef, body: Any, creating: bool) -> dict[str, Any]:
        """A JSON entity body → ``{wire name: stored value}`` (lookups resolved to GUIDs)."""
        if not isinstance(body, dict):
            raise DataverseError(
                400, Code.PAYLOAD, "The request body must be a JSON object describing the entity."
            )
        fields: dict[str, Any] = {}
        columns, navs = t.columns, t.navs
        for key, value in body.items():
            if "@" in key:
                prop, _, annotation = key.partition("@")
                if not prop:
                    if annotation == "odata.type":
                        self._check_type(t, value)
                    continue
                if annotation != "odata.bind":
                    continue  # instance annotations (e.g. FormattedValue) are ignored on write
                nav = navs.get(prop)
                if nav is None:
                    raise bad_request(
                        f"An undeclared property '{prop}' which only has property annotations in the payload but no "
                        "property value was found in the payload. In OData, only declared navigation properties and "
                        "declared named streams can be represented as properties without values."
                    )
                col, target = nav
                if col.kind is Kind.OWNER and value is not None:
                    target = self._owner_target(value)
                self._check_writable(t, col, creating)
                if col.wire in fields and fields[col.wire] is not None and value is not None:
                    raise bad_request(f"The lookup '{col.name}' is bound more than once in the payload.")
                fields[col.wire] = None if value is None else self.resolve_bind(prop, target, value)
                if len(col.targets) > 1 or col.kind is Kind.OWNER:
                    fields[f"~{col.name}"] = target if value is not None else None
                continue
            column = columns.get(key)
            if column is None or column.is_lookup:
                self._unknown(t, key, value)
            assert column is not None
            self._check_writable(t, column, creating)
            fields[key] = coerce(column, value, t.name)
        return fields

    def _unknown(self, t: TableDef, key: str, value: Any) -> None:
        nav = t.navs.get(key)
        if nav is not None:
            if value is None:
                raise bad_request(
                    f"To clear the lookup '{nav[0].name}', send \"{key}@odata.bind\": null or DELETE .../{key}/$ref."
                )
            raise bad_request(
                f"A node of type '{type(value).__name__}' was read from the JSON reader when trying to read the "
                f"contents of the navigation property '{key}'; deep insert is not supported by the sandbox, "
                f'bind an existing row with "{key}@odata.bind".'
            )
        col = t.by_wire.get(key)
        if col is not None and col.is_lookup:
            raise bad_request(
                "CRM do not support direct update of Entity Reference properties, Use Navigation properties instead."
            )
        raise DataverseError(
            400,
            Code.QUERY,
            f"Could not find a property named '{key}' on type 'Microsoft.Dynamics.CRM.{t.name}'.",
        )

    @staticmethod
    def _check_type(t: TableDef, value: Any) -> None:
        if not isinstance(value, str) or value.lstrip("#") != t.type_name:
            raise bad_request(
                f"A resource of type '{value}' was found in a resource set that only allows resources of type "
                f"'{t.type_name}'."
            )

    @staticmethod
    def _check_writable(t: TableDef, col: Column, creating: bool) -> None:
        if (creating and not col.create) or (not creating and not col.update):
            verb = "create" if creating else "update"
            raise DataverseError(
                400,
                Code.VALIDATION,
                f"A validation error occurred.  The '{col.name}' attribute of the '{t.name}' entity is not valid "
                f"for {verb}: it is set by the system.{_HINTS.get((t.name, col.name), '')}",
            )

    def _owner_target(self, value: Any) -> str:
        """The table an ``ownerid@odata.bind`` names: a user or a team (any other set is refused
        by :meth:`resolve_bind` as not valid for the property)."""
        if not isinstance(value, str):
            return OWNER_TABLES[0]
        try:
            name = self.catalog.table_by_set(parse_reference(value)[0]).name
        except DataverseError:  # not a reference to a table: resolve_bind says what is wrong with it
            return OWNER_TABLES[0]
        return name if name in OWNER_TABLES else OWNER_TABLES[0]

    def _owning(self, t: TableDef, row: Row) -> None:
        """owninguser / owningteam / owningbusinessunit, derived from the owner (read-only columns)."""
        if "owningbusinessunit" not in t.columns:
            return
        owner = row.get("_ownerid_value")
        kind = row.get("~ownerid") or OWNER_TABLES[0]
        principal = self.org.get(kind, owner) if owner else None
        derived = {
            "_owninguser_value": owner if kind == "systemuser" else None,
            "_owningteam_value": owner if kind == "team" else None,
            "_owningbusinessunit_value": (principal or {}).get("_businessunitid_value"),
        }
        for name, value in derived.items():
            if value is None:
                row.pop(name, None)
            else:
                row[name] = value

    def resolve_bind(self, nav: str, target: str, value: Any) -> str:
        """The GUID an ``@odata.bind`` value names; 404 when the row does not exist."""
        if not isinstance(value, str):
            raise bad_request(
                f"The value of '{nav}@odata.bind' must be an entity URL such as '/accounts(<id>)'."
            )
        if value.startswith("$"):
            raise bad_request(f"Content-ID Reference: '{value}' does not exist in the batch context.")
        set_name, key = parse_reference(value)
        target_t = self.catalog.table_by_set(set_name)
        if target_t.name != target:
            raise bad_request(
                f"The entity set '{set_name}' is not valid for the navigation property '{nav}', which expects "
                f"'{self.catalog.table(target).set_name}'."
            )
        row = self.org.find(target_t, key)
        if row is None:
            if isinstance(key, str):
                raise not_found_by_id(target, key)
            raise not_found_by_key(target)
        return str(row[target_t.pk])

    # -- create / update / delete --------------------------------------------------------------

    def create(self, t: TableDef, body: Any, key_fields: dict[str, Any] | None = None) -> Row:
        """Create a row from a JSON body; ``key_fields`` (from an upsert URL) fill in what the body lacks."""
        self._refuse_read_only(t)
        fields = self.parse(t, body, creating=True)
        return self.create_fields(t, fields, key_fields)

    def create_fields(
        self, t: TableDef, fields: dict[str, Any], key_fields: dict[str, Any] | None = None
    ) -> Row:
        if key_fields:
            for k, v in key_fields.items():
                if fields.get(k) is None:
                    fields[k] = v
        pk = fields.pop(t.pk, None) or str(uuid.uuid4())
        if self.org.rows(t.name).get(pk) is not None:
            raise DataverseError(
                412, Code.DUPLICATE_RECORD, "A record with matching key values already exists."
            )
        row: Row = {t.pk: pk}
        for col in t.columns.values():
            if col.default is not None:
                row[col.wire] = col.default
        for k, v in fields.items():
            if v is not None:
                row[k] = v
        if (
            "_ownerid_value" in t.by_wire
            and t.columns["ownerid"].create
            and row.get("_ownerid_value") is None
        ):
            row["_ownerid_value"] = APP_USER_ID
        self.sales.apply_state(t, row, fields, None)
        self.sales.before_write(t, row, None)
        self._check_required(t, row, None)
        self._check_keys(t, row)
        now = now_utc_text()
        row["createdon"] = row["modifiedon"] = now
        if "createdby" in t.columns:
            row["_createdby_value"] = row["_modifiedby_value"] = APP_USER_ID
        self._owning(t, row)
        has_money = any(c.kind is Kind.MONEY and row.get(c.name) is not None for c in t.columns.values())
        if (
            has_money
            and "_transactioncurrencyid_value" in t.by_wire
            and not row.get("_transactioncurrencyid_value")
        ):
            row["_transactioncurrencyid_value"] = self.org.base_currency_id
        self.sales.base_amounts(t, row)
        row["versionnumber"] = self.catalog.next_version()
        self.org.put(t, row, None)
        self.sales.after_write(t, row, None)
        if t.name == "businessunit":  # Dataverse gives each business unit its default team
            team = {"name": row.get("name"), "_businessunitid_value": pk, "isdefault": True}
            self.create_fields(self.catalog.table("team"), team)
        if t.name == "uomschedule":
            # Dataverse creates a unit group's base unit from baseuomname
            unit_id = str(uuid.uuid4())
            self.create_fields(
                self.catalog.table("uom"),
                {
                    "uomid": unit_id,
                    "name": row.get("baseuomname"),
                    "quantity": Decimal(1),
                    "_uomscheduleid_value": pk,
                    "_baseuom_value": unit_id,
                    "isschedulebaseuom": True,
                },
            )
        return row

    def update(self, t: TableDef, old: Row, body: Any, drop: set[str] | None = None) -> Row:
        """Apply a JSON body to an existing row; ``drop`` lists body keys to ignore (upsert key fields)."""
        self._refuse_read_only(t)
        if isinstance(body, dict) and t.pk in body:
            body = dict(body)
            given = body.pop(t.pk)
            if str(given).lower() != old[t.pk]:
                raise bad_request(f"The primary key '{t.pk}' of an existing record can't be changed.")
        fields = self.parse(t, body, creating=False)
        for k in drop or ():
            fields.pop(k, None)
        return self.update_fields(t, old, fields)

    def update_fields(self, t: TableDef, old: Row, fields: dict[str, Any]) -> Row:
        self.sales.check_editable(t, old, fields)
        new = dict(old)
        for k, v in fields.items():
            if v is None:
                new.pop(k, None)
            else:
                new[k] = v
        self.sales.apply_state(t, new, fields, old)
        self.sales.before_write(t, new, old)
        self._check_required(t, new, fields)
        self._check_keys(t, new)
        new["modifiedon"] = now_utc_text()
        if "modifiedby" in t.columns:
            new["_modifiedby_value"] = APP_USER_ID
        self._owning(t, new)
        self.sales.base_amounts(t, new)
        new["versionnumber"] = self.catalog.next_version()
        self.org.put(t, new, old)
        self.sales.after_write(t, new, old)
        return new

    def delete(self, t: TableDef, row: Row) -> None:
        self._refuse_read_only(t)
        if t.name == "organization":
            raise DataverseError(405, Code.NOT_ALLOWED, "The organization record can't be deleted.")
        if t.name in LINE_PARENT:
            self.sales.check_line_parent(t, row)
        for child, wire in _CASCADE.get(t.name, []):
            ct = self.catalog.table(child)
            for c in self.org.children(child, wire, row[t.pk]):
                self.org.delete(ct, c, self.catalog.next_version())
        self.org.delete(t, row, self.catalog.next_version())
        self.sales.after_write(t, None, row)

    # -- checks --------------------------------------------------------------------------------

    @staticmethod
    def _refuse_read_only(t: TableDef) -> None:
        if t.read_only:
            raise DataverseError(
                405,
                Code.NOT_ALLOWED,
                f"The '{t.name}' table is read-only: its rows are maintained by the platform.",
            )

    @staticmethod
    def _check_required(t: TableDef, row: Row, fields: dict[str, Any] | None) -> None:
        for col in t.required_columns:
            if row.get(col.wire) is None:
                if fields is not None and col.wire not in fields:
                    continue  # an update only answers for what it changes
                if not (col.create if fields is None else col.update):
                    continue  # set by the system (e.g. statecode), not by the caller
                raise DataverseError(
                    400,
                    Code.VALIDATION,
                    f"A validation error occurred.  The '{col.name}' attribute of the '{t.name}' entity is "
                    f"required ({col.required}) and has no value.",
                )

    def _check_keys(self, t: TableDef, row: Row) -> None:
        if not self.catalog.has_keys(t.name):
            return
        checks = self.catalog.key_checks(t.name)
        if not checks:
            return
        rows = self.org.rows(t.name)
        for k, index, value_of in checks:
            value = value_of(row)
            if value is None:
                continue
            other = rows.lookup(index, value)
            if other is not None and other != row[t.pk]:
                names = ", ".join(t.columns[a].display for a in k.attributes)
                raise DataverseError(
                    412,
                    Code.DUPLICATE_KEY,
                    f"A record that has the attribute values {names} already exists. The entity key "
                    f"{k.schema_name} requires that this set of attributes contains unique values. Select unique "
                    "values and try again.",
                )
