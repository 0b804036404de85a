"""Shared data and helpers of the project tests (imported by conftest and the test modules)."""

from __future__ import annotations

from pathlib import Path

from p2c.errors import ConfigError

SECRET = "Sup3r-S3cret-Value-42"

CONNECTIONS = """\
# p2c sandbox connections, written by `p2c sandbox up`. The secret is the sandbox's own.
identity: {{url: "https://127.0.0.1:8441", tenant_id: t1}}
crm:
  kind: dataverse
  url: https://127.0.0.1:8443
  api: https://127.0.0.1:8443/api/data/v9.2/
  authority: https://127.0.0.1:8441/t1
  tenant_id: t1
  client_id: p2c-sandbox
  client_secret: {secret}
  ca_bundle: ca.pem
erp:
  kind: fno
  url: https://127.0.0.1:8442
  api: https://127.0.0.1:8442/data/
  authority: https://127.0.0.1:8441/t1
  tenant_id: t1
  client_id: p2c-sandbox
  client_secret: {secret}
  ca_bundle: ca.pem
  companies: [usmf, demf]
  default_company: usmf
legal_entities: {{usmf: usmf}}
"""

MINI_TEMPLATE = """\
name: mini
value_maps:
  country: {"": US, Canada: CA}
tasks:
  Accounts:
    source: {system: crm, entity: accounts}
    target: {system: erp, entity: CustomersV3}
    key: {source: [accountnumber], target: [dataAreaId, CustomerAccount]}
    fields:
      dataAreaId: {context: company}
      CustomerAccount: accountnumber
      OrganizationName: name
"""


def line_of(text: str, needle: str) -> int:
    """1-based line of the first line containing ``needle``."""
    for i, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return i
    raise AssertionError(f"{needle!r} not in text")


def assert_error(exc: ConfigError, file: Path | str, path: str, line: int | None, reason: str) -> None:
    detail = exc.detail
    assert detail["file"] == str(file), detail
    assert detail["path"] == path, detail
    assert detail["line"] == line, detail
    assert reason in exc.reason, exc.reason
    where = f"{file}:{line}" if line else str(file)
    assert str(exc).startswith(f"{where}: {path}: " if path else f"{where}: "), str(exc)
