"""A client nobody here wrote: Microsoft's PowerPlatform-Dataverse-Client, unchanged, against the CRM sandbox.

The SDK talks `requests`, so it trusts the sandbox CA through REQUESTS_CA_BUNDLE, and it takes any
azure-core TokenCredential: here one backed by msal and the sandbox identity server.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import msal
import pytest
from azure.core.credentials import AccessToken
from PowerPlatform.Dataverse import DataverseClient
from PowerPlatform.Dataverse.models.upsert import UpsertItem


class MsalCredential:
    """An azure-core TokenCredential over msal client credentials."""

    def __init__(self, sandbox: Any) -> None:
        self.app = msal.ConfidentialClientApplication(
            sandbox.credentials.client_id,
            authority=sandbox.authority,
            client_credential=sandbox.credentials.client_secret,
            instance_discovery=False,
            http_client=sandbox.trusted_client(),
        )
        self.calls = 0

    def get_token(self, *scopes: str, **_: Any) -> AccessToken:
        self.calls += 1
        result = self.app.acquire_token_for_client(scopes=list(scopes))
        assert "access_token" in result, result
        return AccessToken(result["access_token"], int(time.time()) + int(result["expires_in"]))


@pytest.fixture
def client(sandbox, monkeypatch: pytest.MonkeyPatch) -> Iterator[DataverseClient]:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(sandbox.ca_path))
    with DataverseClient(sandbox.crm_url, MsalCredential(sandbox)) as c:
        yield c


def test_create_retrieve_update_delete(client: DataverseClient) -> None:
    account_id = client.records.create("account", {"name": "SDK Corp", "accountnumber": "SDK-0001"})
    rec = client.records.retrieve("account", account_id, select=["name", "accountnumber"])
    assert rec is not None
    assert rec["name"] == "SDK Corp"
    client.records.update("account", account_id, {"telephone1": "555-0100"})
    rec = client.records.retrieve("account", account_id, select=["telephone1"])
    assert rec is not None and rec["telephone1"] == "555-0100"
    client.records.delete("account", account_id)
    assert client.records.retrieve("account", account_id) is None


def test_create_multiple_and_list_with_paging(client: DataverseClient) -> None:
    ids = client.records.create(
        "account", [{"name": f"Paged {i:03}", "accountnumber": f"PG-{i:03}"} for i in range(25)]
    )
    assert len(ids) == 25 and len(set(ids)) == 25
    pages = list(
        client.records.list_pages(
            "account", filter="startswith(name,'Paged ')", select=["name"], page_size=10
        )
    )
    assert [len(p) for p in pages] == [10, 10, 5]
    names = sorted(r["name"] for p in pages for r in p)
    assert names == [f"Paged {i:03}" for i in range(25)]
    everything = client.records.list(
        "account", filter="startswith(name,'Paged ')", select=["name"], page_size=7
    )
    assert len(everything) == 25


def test_update_multiple(client: DataverseClient) -> None:
    ids = client.records.create("account", [{"name": f"Bulk {i}"} for i in range(3)])
    client.records.update("account", ids, [{"telephone1": f"555-010{i}"} for i in range(3)])
    phones = sorted(client.records.retrieve("account", i, select=["telephone1"])["telephone1"] for i in ids)  # type: ignore[index]
    assert phones == ["555-0100", "555-0101", "555-0102"]


def _wait_for_key(client: DataverseClient, table: str, name: str) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        keys = {k.schema_name: k.status for k in client.tables.get_alternate_keys(table)}
        if keys.get(name) == "Active":
            return
        assert keys.get(name) in ("Pending", "InProgress"), keys
        time.sleep(0.1)
    raise AssertionError(f"key {name} never became Active")


def test_alternate_key_then_single_and_multiple_upsert(client: DataverseClient) -> None:
    info = client.tables.create_alternate_key("account", "p2c_accountnumber_key", ["accountnumber"])
    assert info.key_attributes == ["accountnumber"]
    _wait_for_key(client, "account", "p2c_accountnumber_key")

    client.records.upsert(
        "account", [UpsertItem(alternate_key={"accountnumber": "UPS-1"}, record={"name": "One"})]
    )
    client.records.upsert(
        "account",
        [
            UpsertItem(alternate_key={"accountnumber": "UPS-1"}, record={"name": "One, renamed"}),
            UpsertItem(alternate_key={"accountnumber": "UPS-2"}, record={"name": "Two"}),
            UpsertItem(alternate_key={"accountnumber": "O'Brien & Co"}, record={"name": "Quoted"}),
        ],
    )
    rows = client.records.list(
        "account",
        filter="startswith(accountnumber,'UPS-') or accountnumber eq 'O''Brien & Co'",
        select=["accountnumber", "name"],
    )
    got = sorted((r["accountnumber"], r["name"]) for r in rows)
    assert got == [("O'Brien & Co", "Quoted"), ("UPS-1", "One, renamed"), ("UPS-2", "Two")]


def test_batch_with_a_changeset_and_content_id_reference(client: DataverseClient) -> None:
    account_id = client.records.create("account", {"name": "Batch Holder"})
    batch = client.batch.new()
    batch.records.create("account", {"name": "Batched A"})
    with batch.changeset() as cs:
        ref = cs.records.create("contact", {"firstname": "Alice", "lastname": "Batch"})
        cs.records.update("account", account_id, {"primarycontactid@odata.bind": ref})
    result = batch.execute()
    assert not result.failed, [(r.status_code, r.error_message) for r in result.failed]
    assert len(result.responses) == 3
    holder = client.records.retrieve("account", account_id, select=["_primarycontactid_value"])
    assert holder is not None and holder["_primarycontactid_value"]
    contact = client.records.retrieve("contact", holder["_primarycontactid_value"], select=["fullname"])
    assert contact is not None and contact["fullname"] == "Alice Batch"


def test_batch_failure_is_reported_per_operation(client: DataverseClient) -> None:
    batch = client.batch.new()
    batch.records.create("account", {"name": "Fine"})
    batch.records.create("account", {"name": "x" * 200})  # name is at most 160 characters
    result = batch.execute(continue_on_error=True)
    assert len(result.succeeded) == 1
    assert len(result.failed) == 1
    assert result.failed[0].status_code == 400
