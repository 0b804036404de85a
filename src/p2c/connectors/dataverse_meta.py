"""Dataverse metadata calls for ``p2c setup`` and ``p2c doctor`` (DATAVERSE.md §2.5, §2.8, §2.10, §2.13).

Columns, alternate keys and change tracking are provisioned through the same Web API as data:
``EntityDefinitions(LogicalName='x')``, its ``Attributes`` and ``Keys``. A new key is built
asynchronously: :meth:`DataverseMetadata.wait_for_key` polls until its index is ``Active``.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from p2c.connectors.multipart import HttpPart
from p2c.connectors.protocol_json import dumps, loads
from p2c.connectors.protocol_odata import literal
from p2c.connectors.protocol_session import HttpSession
from p2c.errors import PrerequisiteError

__all__ = ["DataverseMetadata"]

JSON = {"Content-Type": "application/json"}


def _label(text: str) -> dict[str, Any]:
    return {
        "LocalizedLabels": [
            {"@odata.type": "Microsoft.Dynamics.CRM.LocalizedLabel", "Label": text, "LanguageCode": 1033}
        ]
    }


class DataverseMetadata:
    """Mixed into :class:`~p2c.connectors.dataverse.DataverseConnector`; needs ``self._session``."""

    _session: HttpSession

    @staticmethod
    def _definition_path(logical_name: str) -> str:
        return f"EntityDefinitions(LogicalName={literal(logical_name)})"

    def whoami(self) -> dict[str, Any]:
        """``{"UserId", "BusinessUnitId", "OrganizationId"}`` of the caller: proves reach and authorisation."""
        result = self._session.get_json("WhoAmI")
        return dict(result or {})

    def entity_definition(
        self, logical_name: str, select: Sequence[str] | None = None
    ) -> dict[str, Any] | None:
        params = {"$select": ",".join(select)} if select else None
        found = self._session.get_json(self._definition_path(logical_name), params=params, missing_ok=True)
        return dict(found) if found else None

    def attributes(
        self, logical_name: str, select: Sequence[str] = ("LogicalName", "SchemaName", "AttributeType")
    ) -> list[dict[str, Any]]:
        path = self._definition_path(logical_name) + "/Attributes"
        return list(self._session.get_json(path, params={"$select": ",".join(select)})["value"])

    def create_attribute(self, logical_name: str, body: Mapping[str, Any]) -> None:
        """POST an ``AttributeMetadata`` (with its ``@odata.type``, e.g. ``...StringAttributeMetadata``)."""
        path = self._definition_path(logical_name) + "/Attributes"
        self._write("POST", path, body, logical_name)

    def keys(self, logical_name: str) -> list[dict[str, Any]]:
        path = self._definition_path(logical_name) + "/Keys"
        params = {"$select": "SchemaName,LogicalName,KeyAttributes,EntityKeyIndexStatus"}
        return list(self._session.get_json(path, params=params)["value"])

    def create_key(
        self, logical_name: str, schema_name: str, attributes: Sequence[str], display_name: str | None = None
    ) -> None:
        body = {
            "SchemaName": schema_name,
            "DisplayName": _label(display_name or schema_name),
            "KeyAttributes": list(attributes),
        }
        self._write("POST", self._definition_path(logical_name) + "/Keys", body, logical_name)

    def delete_key(self, logical_name: str, key: str) -> None:
        """Delete an alternate key by its ``MetadataId`` or, failing that, its schema name."""
        ref = key if _is_guid(key) else f"LogicalName={literal(key.lower())}"
        path = f"{self._definition_path(logical_name)}/Keys({ref})"
        response = self._session.send("DELETE", path, entity=logical_name).response
        if response.status_code >= 400:
            raise self._session.error(response, entity=logical_name)

    def wait_for_key(
        self, logical_name: str, schema_name: str, *, timeout: float = 120.0, poll: float = 0.5
    ) -> dict[str, Any]:
        """Poll until the key's index is ``Active``; :class:`PrerequisiteError` if it failed or took too long."""
        deadline = time.monotonic() + timeout
        while True:
            found = next(
                (
                    k
                    for k in self.keys(logical_name)
                    if str(k.get("SchemaName", "")).lower() == schema_name.lower()
                ),
                None,
            )
            status = str(found.get("EntityKeyIndexStatus", "")) if found else "missing"
            if status == "Active":
                return dict(found or {})
            if status == "Failed" or time.monotonic() >= deadline:
                raise PrerequisiteError(
                    f"alternate key {schema_name} is {status}, not Active"
                    + (
                        " (duplicate values in its columns?)"
                        if status == "Failed"
                        else f" after {timeout:.0f} s"
                    ),
                    entity=logical_name,
                )
            time.sleep(poll)

    def change_tracking_enabled(self, logical_name: str) -> bool:
        found = self.entity_definition(logical_name, ["ChangeTrackingEnabled"])
        return bool(found and found.get("ChangeTrackingEnabled"))

    def enable_change_tracking(self, logical_name: str) -> None:
        """Switch change tracking on (it cannot be switched off again): PUT the definition back with it set."""
        if self.change_tracking_enabled(logical_name):
            return
        definition = self.entity_definition(logical_name)
        if definition is None:
            raise PrerequisiteError("no such table", entity=logical_name)
        definition = {k: v for k, v in definition.items() if not k.startswith("@odata.context")}
        definition["ChangeTrackingEnabled"] = True
        path = self._definition_path(logical_name)
        response = self._session.send(
            "PUT",
            path,
            headers={**JSON, "MSCRM.MergeLabels": "true"},
            body=dumps(definition),
            entity=logical_name,
        ).response
        if response.status_code in (400, 405, 501):  # a service that takes only the changed property
            self._write("PATCH", path, {"ChangeTrackingEnabled": True}, logical_name)
        elif response.status_code >= 400:
            raise self._session.error(response, entity=logical_name)

    def definition_and_bulk_tables(
        self, entity: str, select: str
    ) -> tuple[list[dict[str, Any]] | None, frozenset[str] | None]:
        """The ``EntityDefinitions`` rows whose entity set is ``entity`` and the logical names of all
        the tables that support ``UpsertMultiple`` (``sdkmessagefilters``), in one ``$batch``: a
        run's first table costs one request, not two, and later ones need no probe. Either is
        ``None`` when its part was not answered (the caller asks the usual way)."""
        accept = {"Accept": "application/json", "Prefer": "odata.maxpagesize=5000"}
        queries = [
            ("EntityDefinitions", {"$select": select, "$filter": f"EntitySetName eq {literal(entity)}"}),
            (
                "sdkmessagefilters",
                {"$select": "primaryobjecttypecode", "$filter": "sdkmessageid/name eq 'UpsertMultiple'"},
            ),
        ]
        items = [HttpPart.request("GET", self._session.url(path, q), accept) for path, q in queries]
        _reply, parts = self._session.batch(items, entity=entity)
        answers: list[list[dict[str, Any]] | None] = []
        for part in parts[: len(items)]:
            body = loads(part.body) if (part.status or 0) < 400 and part.body.strip() else None
            rows = body.get("value") if isinstance(body, dict) and not body.get("@odata.nextLink") else None
            answers.append(rows if isinstance(rows, list) else None)  # all of it, or unknown
        answers += [None] * (len(items) - len(answers))
        found, filters = answers
        bulk = (
            frozenset(str(f.get("primaryobjecttypecode")) for f in filters) if filters is not None else None
        )
        return found, bulk

    def supports_message(self, message: str, logical_name: str) -> bool | None:
        """Whether a table supports e.g. ``UpsertMultiple`` (``sdkmessagefilters``); ``None`` if unknown."""
        params = {
            "$select": "sdkmessagefilterid",
            "$filter": f"sdkmessageid/name eq {literal(message)} and primaryobjecttypecode eq {literal(logical_name)}",
        }
        response = self._session.send("GET", "sdkmessagefilters", params=params).response
        if response.status_code >= 400:
            return None
        return bool(loads(response.content).get("value"))

    def _write(self, method: str, path: str, body: Mapping[str, Any], entity: str) -> None:
        response = self._session.send(method, path, headers=JSON, body=dumps(body), entity=entity).response
        if response.status_code >= 400:
            raise self._session.error(response, entity=entity)


def _is_guid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True
