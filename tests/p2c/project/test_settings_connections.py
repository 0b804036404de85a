"""Connections and connection sets: the sandbox's file loads, secrets never show, errors name file:line."""

from __future__ import annotations

from pathlib import Path

import pytest
from p2c_project_files import CONNECTIONS, SECRET, assert_error, line_of
from pydantic import BaseModel

from p2c.errors import ConfigError
from p2c.settings import MASK, ConnectionSet, LegalEntity, Secret, System, load_connections, mask_secrets


def test_the_sandbox_connections_file_loads(connections_file: Path) -> None:
    cs = load_connections(connections_file)
    assert cs.crm.kind is System.CRM and cs.erp.kind is System.ERP
    assert cs.crm.url == "https://127.0.0.1:8443"
    assert cs.crm.api == "https://127.0.0.1:8443/api/data/v9.2/"  # the service root keeps its slash
    assert cs.erp.companies == ("usmf", "demf")
    assert cs.erp.default_company == "usmf"
    assert {c: le.business_unit for c, le in cs.legal_entities.items()} == {"usmf": "usmf"}
    assert cs.legal_entities["usmf"] == LegalEntity(company="usmf", business_unit="usmf")
    assert cs.legal_entities["usmf"].team == "usmf"  # the business unit's default team
    assert cs.crm.ca_bundle == connections_file.parent / "ca.pem"  # relative to the file
    assert cs.crm.concurrency == 4 and cs.crm.timeout == 60
    assert cs.crm.client_secret is not None
    assert cs.crm.client_secret.get_secret_value() == SECRET


def test_secret_is_masked_everywhere(connections_file: Path) -> None:
    cs = load_connections(connections_file)
    texts = [
        repr(cs),
        str(cs),
        repr(cs.crm),
        str(cs.crm.client_secret),
        cs.model_dump_json(),
        repr(cs.model_dump()),
    ]
    for text in texts:
        assert SECRET not in text
    assert MASK in repr(cs.crm)
    assert cs.model_dump()["crm"]["client_secret"] == MASK
    assert repr(Secret("x")) == f"Secret('{MASK}')"
    assert Secret("a") == Secret("a") and Secret("a") != Secret("b")
    assert not Secret("")


def test_secret_works_as_a_pydantic_field() -> None:
    class M(BaseModel):
        token: Secret

    m = M(token="abc")  # type: ignore[arg-type]
    assert m.token.get_secret_value() == "abc"
    assert "abc" not in repr(m) and m.model_dump_json() == '{"token":"' + MASK + '"}'
    assert M.model_json_schema()["properties"]["token"]["writeOnly"] is True


def test_a_bad_connection_file_never_prints_its_secret(tmp_path: Path, connections_file: Path) -> None:
    text = CONNECTIONS.format(secret=SECRET).replace("  default_company: usmf\n", "  concurrency: 99\n")
    connections_file.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_connections(connections_file)
    e = info.value
    assert_error(
        e, connections_file, "erp.concurrency", line_of(text, "concurrency: 99"), "less than or equal to 52"
    )
    for shown in (str(e), repr(e), repr(e.as_dict()), str(e.detail)):
        assert SECRET not in shown
    assert e.__cause__ is None and e.__suppress_context__


def test_a_secret_of_the_wrong_type_is_rejected_without_showing_it(connections_file: Path) -> None:
    text = CONNECTIONS.format(secret="[" + SECRET + ", 2]")
    connections_file.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_connections(connections_file)
    assert "must be a string" in info.value.reason
    assert info.value.detail["path"] == "crm.client_secret"
    assert SECRET not in str(info.value)


def test_secrets_can_come_from_the_environment(connections_file: Path) -> None:
    text = CONNECTIONS.format(secret="env:P2C_TEST_SECRET")
    connections_file.write_text(text)
    cs = load_connections(connections_file, env={"P2C_TEST_SECRET": "from-env"})
    assert cs.erp.client_secret is not None and cs.erp.client_secret.get_secret_value() == "from-env"
    with pytest.raises(ConfigError) as info:
        load_connections(connections_file, env={})
    assert "environment variable P2C_TEST_SECRET is not set" in str(info.value)
    assert info.value.detail["path"] == "crm.client_secret"


def test_mask_secrets_wraps_secret_named_keys_only() -> None:
    data = {"client_secret": "a", "nested": {"db_password": "b", "name": "c"}, "api_token": "d"}
    masked = mask_secrets(data, env={})
    assert isinstance(masked["client_secret"], Secret)
    assert isinstance(masked["nested"]["db_password"], Secret)
    assert isinstance(masked["api_token"], Secret)
    assert masked["nested"]["name"] == "c"
    assert "a" not in repr(masked["client_secret"])


@pytest.mark.parametrize(
    ("old", "new", "path", "reason"),
    [
        ("  kind: dataverse\n", "  kind: sql\n", "crm.kind", "must be one of crm (dataverse), erp (fno)"),
        (
            "  url: https://127.0.0.1:8443\n",
            "  url: ftp://x\n",
            "crm.url",
            "must be an http:// or https:// URL",
        ),
        ("  ca_bundle: ca.pem\nerp:", "  ca_bundle: missing.pem\nerp:", "crm.ca_bundle", "file not found"),
        (
            "legal_entities: {usmf: usmf}",
            "legal_entities: {fra: fr}",
            "",
            "legal entity 'fra' is not among the erp companies",
        ),
        (
            "legal_entities: {usmf: usmf}",
            "legal_entities: {usmf: {business_unit: Contoso US, team: Sales}}",
            "legal_entities.usmf.team",
            "unknown key 'team'",
        ),
        (
            "legal_entities: {usmf: usmf}",
            "legal_entities: {usmf: Contoso, demf: {business_unit: Contoso}}",
            "",
            "legal_entities.demf: business unit 'Contoso' is mapped by usmf and demf",
        ),
        (
            "  tenant_id: t1\n  client_id",
            "  tenant: t1\n  client_id",
            "crm.tenant",
            "unknown key 'tenant' (did you mean 'tenant_id'?)",
        ),
        ("  kind: fno\n", "  kind: dataverse\n", "", "erp: kind must be erp (fno)"),
    ],
)
def test_connection_errors_name_the_key(
    connections_file: Path, old: str, new: str, path: str, reason: str
) -> None:
    text = CONNECTIONS.format(secret=SECRET)
    assert old in text
    text = text.replace(old, new, 1)
    connections_file.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_connections(connections_file)
    assert info.value.detail["path"] == path
    assert reason in info.value.reason
    assert SECRET not in str(info.value)


def test_credentials_are_required(connections_file: Path) -> None:
    text = CONNECTIONS.format(secret=SECRET).replace(
        f"  client_secret: {SECRET}\n  ca_bundle: ca.pem\nerp", "  ca_bundle: ca.pem\nerp"
    )
    connections_file.write_text(text)
    with pytest.raises(ConfigError, match="give client_secret or certificate_path"):
        load_connections(connections_file)


def test_connection_set_from_inline_data(connections_file: Path) -> None:
    from p2c.yaml_doc import parse_yaml

    doc = parse_yaml(CONNECTIONS.format(secret=SECRET), "inline.yaml", connections_file)
    cs = ConnectionSet.from_data(doc.data, doc)
    assert cs.crm.client_secret == Secret(SECRET)


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_connections(tmp_path / "nope.yaml")
