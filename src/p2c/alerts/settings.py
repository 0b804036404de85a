"""The ``alerts:`` section of a project file: thresholds, digest interval, webhooks and e-mail.

::

    alerts:
      failed_records: 1        # a partial run alerts from this many failed records
      stale_hours: 24          # no successful run for this long (null = off)
      digest_minutes: 15       # at most one message per channel per interval (0 = each at once)
      webhooks:
        - url: https://hooks.example.com/p2c
          secret: env:P2C_HOOK_SECRET     # the HMAC key (a Secret)
          name: ops
      email:
        host: smtp.example.com
        port: 587
        starttls: true
        username: p2c
        password: env:P2C_SMTP_PASSWORD   # a Secret
        sender: p2c@example.com
        to: [ops@example.com]

Secrets are masked *before* validation (``env:NAME`` is read then), so no error can show one.
Without any channel the settings are still valid: alerts are then only recorded and logged.

Example::

    >>> AlertSettings().digest_minutes, AlertSettings().channels_configured
    (15.0, False)
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_serializer,
    field_validator,
    model_validator,
)

from p2c.settings import MASK, SECRET_KEYS, Secret, mask_secrets
from p2c.yaml_doc import KeyPath, YamlDoc, validation_error

__all__ = ["AlertSettings", "EmailSettings", "WebhookSettings"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _masked_url(url: str) -> str:
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    query = f"?{MASK}" if parts.query else ""
    return f"{parts.scheme}://{parts.hostname or ''}{port}{parts.path}{query}"


class WebhookSettings(_Model):
    """One webhook: ``url`` (http/https), the HMAC ``secret`` that signs each POST, a ``name``."""

    url: str
    secret: Secret
    name: str | None = None
    timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    attempts: int = Field(default=5, ge=1, le=10)
    backoff_seconds: float = Field(default=1.0, ge=0, le=60)  # doubles after each failed attempt

    def __repr_args__(self) -> Any:
        # the query string may hold a token: a repr shows scheme://host/path only
        for key, value in super().__repr_args__():
            yield key, _masked_url(value) if key == "url" else value

    @field_serializer("url")
    def _dump_url(self, value: str) -> str:
        return _masked_url(value)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            # the value is not quoted: a webhook URL may carry a token in its query string
            raise ValueError("must be an http:// or https:// URL with a host")
        return value

    @field_validator("secret")
    @classmethod
    def _secret(cls, value: Secret) -> Secret:
        if not value:
            raise ValueError("must not be empty")
        return value

    @property
    def display_name(self) -> str:
        """``name``, or the URL's host (never its path or query, which may hold a token)."""
        return self.name or (urlsplit(self.url).hostname or "webhook")


class EmailSettings(_Model):
    """An SMTP relay and the recipients. ``starttls`` upgrades a plain connection (port 587);
    ``ssl`` connects with TLS from the start (SMTPS, port 465). ``port`` defaults accordingly.
    ``ca_bundle`` trusts a private CA (relative to the project file)."""

    host: str = Field(min_length=1)
    port: int | None = Field(default=None, ge=1, le=65535)
    starttls: bool = False
    ssl: bool = False
    username: str | None = None
    password: Secret | None = None
    sender: str
    to: tuple[str, ...] = Field(min_length=1)
    timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    ca_bundle: Path | None = None

    @field_validator("to", mode="before")
    @classmethod
    def _to(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("sender")
    @classmethod
    def _sender(cls, value: str) -> str:
        if "@" not in value:
            raise ValueError("must be an e-mail address")
        return value

    @field_validator("to")
    @classmethod
    def _recipients(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for address in value:
            if "@" not in address:
                raise ValueError(f"{address!r} is not an e-mail address")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> EmailSettings:
        if self.ssl and self.starttls:
            raise ValueError("give ssl (SMTPS, port 465) or starttls (port 587), not both")
        if (self.username is None) != (self.password is None):
            raise ValueError("username and password go together")
        return self

    @property
    def effective_port(self) -> int:
        if self.port is not None:
            return self.port
        return 465 if self.ssl else 587 if self.starttls else 25


class AlertSettings(_Model):
    """When to alert and where to send it. ``AlertSettings()`` (no channel) is valid."""

    failed_records: int = Field(default=1, ge=1)
    stale_hours: float | None = Field(default=24.0, gt=0)
    digest_minutes: float = Field(default=15.0, ge=0)
    webhooks: tuple[WebhookSettings, ...] = ()
    email: EmailSettings | None = None

    @property
    def channels_configured(self) -> bool:
        return bool(self.webhooks) or self.email is not None

    @classmethod
    def from_data(
        cls, data: Any, doc: YamlDoc, prefix: KeyPath = ("alerts",), env: Mapping[str, str] | None = None
    ) -> AlertSettings:
        """Validate the raw ``alerts:`` section parsed from ``doc`` (None → the defaults).

        Every problem is one ConfigError naming the file, line and key path, never a value.
        """
        if data is None:
            return cls()
        if not isinstance(data, Mapping):
            raise doc.error(
                "alerts must be a mapping (failed_records, stale_hours, webhooks, email...)", prefix
            )
        _check_env(data, doc, prefix, os.environ if env is None else env)
        masked = mask_secrets(data, doc_name=doc.name, path=prefix, env=env)
        try:
            settings = cls.model_validate(masked)
        except ValidationError as exc:
            raise validation_error(exc, doc, cls, prefix) from None
        return settings._resolve_paths(doc, prefix)

    def _resolve_paths(self, doc: YamlDoc, prefix: KeyPath) -> AlertSettings:
        if self.email is None or self.email.ca_bundle is None:
            return self
        base = doc.path.parent if doc.path is not None else Path.cwd()
        path = self.email.ca_bundle if self.email.ca_bundle.is_absolute() else base / self.email.ca_bundle
        if not path.is_file():
            raise doc.error(f"file not found: {path}", (*prefix, "email", "ca_bundle"))
        return self.model_copy(update={"email": self.email.model_copy(update={"ca_bundle": path})})


def _check_env(data: Any, doc: YamlDoc, path: KeyPath, env: Mapping[str, str]) -> None:
    """A secret's ``env:NAME`` whose variable is unset is an error naming the file *and line*
    (``mask_secrets`` would name the key only): the variable is named, never a value."""
    if isinstance(data, Mapping):
        for key, value in data.items():
            sub = (*path, str(key))
            name = str(key).lower()
            secret = name in SECRET_KEYS or name.endswith(("_secret", "_password", "_token"))
            if secret and isinstance(value, str) and value.startswith("env:"):
                var = value[4:].strip()
                if var not in env:
                    raise doc.error(f"environment variable {var} is not set", sub)
            else:
                _check_env(value, doc, sub, env)
    elif isinstance(data, list):
        for i, item in enumerate(data):
            _check_env(item, doc, (*path, i), env)
