"""Persistence: a restarted service on the same store has everything back (in-process)."""

from __future__ import annotations

import json
import time
from pathlib import Path

from p2c_sandbox.config import SandboxConfig
from p2c_sandbox.dataverse import DataverseService
from p2c_sandbox.http import Request, Response

ROOT = "https://h/api/data/v9.2/"


def call(svc: DataverseService, method: str, path: str, body: object = None, **headers: str) -> Response:
    query = []
    if "?" in path:
        path, _, raw = path.partition("?")
        query = [tuple(p.split("=", 1)) for p in raw.split("&")]
    return svc.handle(
        Request(method, path, query=query, headers={k.replace("_", "-"): v for k, v in headers.items()},  # type: ignore[arg-type]
                body=json.dumps(body).encode() if body is not None else b"", base_url="https://h", service_root=ROOT)
    )  # fmt: skip


def test_everything_survives_a_restart(tmp_path: Path) -> None:
    cfg = SandboxConfig(data_dir=tmp_path, seed="demo", key_activation_seconds=0)
    path = tmp_path / "crm.db"
    svc = DataverseService(cfg, path)
    column = {
        "@odata.type": "Microsoft.Dynamics.CRM.StringAttributeMetadata",
        "SchemaName": "p2c_Code",
        "MaxLength": 10,
    }
    assert call(svc, "POST", "EntityDefinitions(LogicalName='account')/Attributes", column).status == 204
    key = {"SchemaName": "p2c_code_key", "KeyAttributes": ["p2c_code"]}
    assert call(svc, "POST", "EntityDefinitions(LogicalName='account')/Keys", key).status == 204
    assert (
        call(svc, "PUT", "EntityDefinitions(LogicalName='account')", {"ChangeTrackingEnabled": True}).status
        == 204
    )
    time.sleep(0.01)
    created = call(svc, "PATCH", "accounts(p2c_code='K1')", {"name": "Kept", "creditlimit": 12.34})
    assert created.status == 204, created.body
    delta = json.loads(call(svc, "GET", "accounts?$select=name", prefer="odata.track-changes").body)[
        "@odata.deltaLink"
    ]
    gone = json.loads(call(svc, "GET", "accounts?$select=name&$top=1").body)["value"][0]["accountid"]
    assert call(svc, "DELETE", f"accounts({gone})").status == 204
    order = json.loads(call(svc, "GET", "salesorders?$select=ordernumber,totalamount&$top=1").body)["value"][
        0
    ]
    version = svc.org.catalog.version
    svc.close()

    again = DataverseService(cfg, path)
    row = json.loads(call(again, "GET", "accounts(p2c_code='K1')?$select=name,creditlimit").body)
    assert row["name"] == "Kept" and row["creditlimit"] == 12.34
    assert again.org.catalog.version == version
    token = delta.split("$deltatoken=")[1]
    changes = json.loads(call(again, "GET", f"accounts?$select=name&$deltatoken={token}").body)["value"]
    assert [c["id"] for c in changes if c.get("reason") == "deleted"] == [gone]
    same = json.loads(
        call(again, "GET", f"salesorders({order['salesorderid']})?$select=ordernumber,totalamount").body
    )
    assert same["ordernumber"] == order["ordernumber"] and same["totalamount"] == order["totalamount"]
    new = json.loads(call(again, "POST", "salesorders?$select=ordernumber", {
        "name": "After restart", "customerid_account@odata.bind": f"/accounts({row['accountid']})",
        "pricelevelid@odata.bind": f"/pricelevels({json.loads(call(again, 'GET', 'pricelevels?$top=1').body)['value'][0]['pricelevelid']})",
    }, prefer="return=representation").body)  # fmt: skip
    assert new["ordernumber"] != order["ordernumber"]
    dup = call(again, "POST", "accounts", {"name": "Dup", "p2c_code": "k1"})
    assert dup.status == 412
    again.close()


def test_a_custom_columns_default_survives_a_restart(tmp_path: Path) -> None:
    cfg = SandboxConfig(data_dir=tmp_path, seed="empty", key_activation_seconds=0)
    path = tmp_path / "crm.db"
    svc = DataverseService(cfg, path)
    column = {
        "@odata.type": "Microsoft.Dynamics.CRM.BooleanAttributeMetadata",
        "SchemaName": "p2c_IsExternallyMaintained",
        "DefaultValue": False,
    }
    assert call(svc, "POST", "EntityDefinitions(LogicalName='account')/Attributes", column).status == 204
    svc.close()
    again = DataverseService(cfg, path)
    created = call(again, "POST", "accounts", {"name": "After restart"}, prefer="return=representation")
    assert json.loads(created.body)["p2c_isexternallymaintained"] is False
    again.close()
