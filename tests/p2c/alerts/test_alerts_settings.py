"""The ``alerts:`` section: defaults, the full example, and errors that name file, line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from p2c.alerts import AlertSettings, build_channels
from p2c.errors import ConfigError
from p2c.settings import Secret
from p2c.yaml_doc import parse_yaml

ENV = {"P2C_HOOK_SECRET": "hook-secret-from-env", "P2C_SMTP_PASSWORD": "smtp-password-from-env"}

FULL = """\
name: contoso
alerts:
  failed_records: 5
  stale_hours: 12.5
  digest_minutes: 30
  webhooks:
    - url: https://hooks.example.com/p2c?token=tok-in-query
      secret: env:P2C_HOOK_SECRET
      name: ops
  email:
    host: smtp.example.com
    port: 587
    starttls: true
    username: p2c
    password: env:P2C_SMTP_PASSWORD
    sender: p2c@example.com
    to: [ops@example.com, oncall@example.com]
    timeout_seconds: 10
"""


def load(text: str, env: dict[str, str] | None = None) -> AlertSettings:
    doc = parse_yaml(text, "p2c.yaml")
    return AlertSettings.from_data(doc.data.get("alerts"), doc, ("alerts",), env=ENV if env is None else env)


def error_of(text: str, env: dict[str, str] | None = None) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load(text, env)
    return info.value


def test_no_section_and_no_channels_are_valid() -> None:
    assert load("name: contoso\n") == AlertSettings()
    settings = AlertSettings()
    assert (settings.failed_records, settings.stale_hours, settings.digest_minutes) == (1, 24.0, 15.0)
    assert not settings.channels_configured
    assert build_channels(settings) == []


def test_the_full_example_loads_with_secrets_from_the_environment() -> None:
    s = load(FULL)
    assert (s.failed_records, s.stale_hours, s.digest_minutes) == (5, 12.5, 30.0)
    hook = s.webhooks[0]
    assert hook.secret.get_secret_value() == "hook-secret-from-env"
    assert hook.display_name == "ops"
    assert s.email is not None
    assert s.email.password == Secret("smtp-password-from-env")
    assert s.email.to == ("ops@example.com", "oncall@example.com")
    assert s.email.effective_port == 587
    for text in (repr(s), str(s), s.model_dump_json(), str(s.model_dump())):
        assert "hook-secret-from-env" not in text
        assert "smtp-password-from-env" not in text
    names = [c.name for c in build_channels(s)]
    assert names == ["webhook ops", "email"]
    assert "tok-in-query" not in repr(build_channels(s))


def test_stale_hours_null_switches_the_stale_alert_off_and_to_may_be_one_address() -> None:
    s = load(
        "alerts:\n  stale_hours: null\n  digest_minutes: 0\n"
        "  email: {host: mail, sender: a@b.c, to: ops@b.c, ssl: true}\n"
    )
    assert s.stale_hours is None and s.digest_minutes == 0
    assert s.email is not None and s.email.to == ("ops@b.c",) and s.email.effective_port == 465


@pytest.mark.parametrize(
    ("snippet", "line", "path", "reason"),
    [
        (
            "  webhooks:\n    - url: ftp://hooks.example.com/x?token=tok-in-query\n      secret: s3\n",
            3,
            "alerts.webhooks[0].url",
            "http:// or https://",
        ),
        ("  email:\n    host: mail\n    sender: a@b.c\n    to: []\n", 5, "alerts.email.to", "at least 1"),
        ("  failed_records: -1\n", 2, "alerts.failed_records", "greater than or equal to 1"),
        ("  digest_minutes: -5\n", 2, "alerts.digest_minutes", "greater than or equal to 0"),
        ("  stale_hours: -2\n", 2, "alerts.stale_hours", "greater than 0"),
        ("  digest_minute: 5\n", 2, "alerts.digest_minute", "did you mean 'digest_minutes'"),
        ("  webhooks:\n    - url: https://h.example.com/\n", 3, "alerts.webhooks[0]", "'secret' is missing"),
        (
            "  email:\n    host: mail\n    sender: a@b.c\n    to: [x@y]\n    ssl: true\n    starttls: true\n",
            2,
            "alerts.email",
            "not both",
        ),
        (
            "  email:\n    host: mail\n    sender: a@b.c\n    to: [x@y]\n    username: u\n",
            2,
            "alerts.email",
            "username and password go together",
        ),
    ],
)
def test_errors_name_file_line_and_key_path(snippet: str, line: int, path: str, reason: str) -> None:
    err = error_of("alerts:\n" + snippet)
    assert str(err).startswith(f"p2c.yaml:{line}: {path}: "), str(err)
    assert reason in str(err)
    assert "tok-in-query" not in str(err)


def test_a_missing_environment_variable_names_the_variable_and_line() -> None:
    err = error_of(FULL, env={"P2C_HOOK_SECRET": "x"})
    assert str(err) == "p2c.yaml:15: alerts.email.password: environment variable P2C_SMTP_PASSWORD is not set"


def test_a_secret_that_is_not_text_is_refused_without_showing_it() -> None:
    err = error_of("alerts:\n  webhooks:\n    - url: https://h.example.com/\n      secret: 987654321\n")
    assert "alerts.webhooks[0].secret" in str(err) and "must be a string" in str(err)
    assert "987654321" not in str(err)


def test_a_bad_password_value_never_appears_in_the_error() -> None:
    err = error_of(
        "alerts:\n  email:\n    host: mail\n    sender: nope\n    to: [a@b.c]\n"
        "    username: u\n    password: pw-literal-1234\n"
    )
    assert "alerts.email.sender" in str(err)
    assert "pw-literal-1234" not in str(err) and "pw-literal-1234" not in repr(err.as_dict())


def test_ca_bundle_is_resolved_next_to_the_project_file(tmp_path: Path) -> None:
    (tmp_path / "ca.pem").write_text("x")
    text = "alerts:\n  email: {host: mail, sender: a@b.c, to: [o@b.c], starttls: true, ca_bundle: ca.pem}\n"
    doc = parse_yaml(text, "p2c.yaml", tmp_path / "p2c.yaml")
    s = AlertSettings.from_data(doc.data["alerts"], doc)
    assert s.email is not None and s.email.ca_bundle == tmp_path / "ca.pem"
    doc = parse_yaml(text.replace("ca.pem", "missing.pem"), "p2c.yaml", tmp_path / "p2c.yaml")
    with pytest.raises(ConfigError, match=r"p2c.yaml:2: alerts.email.ca_bundle: file not found"):
        AlertSettings.from_data(doc.data["alerts"], doc)


def test_the_section_must_be_a_mapping() -> None:
    err = error_of("alerts: [1, 2]\n")
    assert str(err).startswith("p2c.yaml:1: alerts: alerts must be a mapping")
