"""Typed settings: connections, connection sets, secrets (masked), resolved once at the edge.

A connection set is the pair of environments a project syncs, plus the legal-entity mapping
(ERP company → CRM business unit). It loads from ``connections.yaml``, the file ``p2c sandbox up``
writes::

    crm:
      kind: dataverse            # or crm
      url: https://127.0.0.1:8443
      authority: https://127.0.0.1:8441/<tenant>
      tenant_id: <tenant>
      client_id: p2c
      client_secret: env:P2C_CRM_SECRET   # "env:NAME" is read from the environment at load
      ca_bundle: /path/to/ca.pem
    erp:
      kind: fno                  # or erp
      url: https://127.0.0.1:8442
      companies: [usmf, demf]
      ...
    legal_entities:              # ERP company → CRM business unit (and the team that owns
      usmf: {business_unit: Contoso US, owning_team: Contoso US Sales}   # what comes from it)
      demf: Contoso DE           # short form: the business unit; its default team owns

Secrets are wrapped in :class:`Secret` *before* validation, so neither a ``repr`` nor a
validation error can print them::

    >>> s = Secret("hunter2")
    >>> s, str(s), s.get_secret_value()
    (Secret('**********'), '**********', 'hunter2')
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import core_schema

from p2c.errors import ConfigError
from p2c.yaml_doc import KeyPath, YamlDoc, load_yaml, validation_error

__all__ = [
    "MASK",
    "Connection",
    "ConnectionSet",
    "LegalEntity",
    "Secret",
    "System",
    "legal_entities_data",
    "load_connections",
    "mask_secrets",
    "shared_business_unit",
]

MASK = "**********"
# keys whose values are secrets wherever they appear in a settings file
SECRET_KEYS = frozenset({"client_secret", "secret", "password", "token", "access_token", "private_key"})


class Secret:
    """A string that never shows itself: ``repr``/``str``/serialisation give ``'**********'``.

    Works as a pydantic field type; ``get_secret_value()`` is the only way to the text.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get_secret_value(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret('{MASK}')"

    def __str__(self) -> str:
        return MASK

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash(self._value)

    @classmethod
    def _validate(cls, value: Any) -> Secret:
        if isinstance(value, Secret):
            return value
        if isinstance(value, str):
            return cls(value)
        raise ValueError("must be a string")

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(
            cls._validate,
            serialization=core_schema.plain_serializer_function_ser_schema(lambda s: MASK),
        )

    @classmethod
    def __get_pydantic_json_schema__(cls, schema: Any, handler: Any) -> dict[str, Any]:
        return {"type": "string", "writeOnly": True, "format": "password"}


class _NotText:
    """Stands in for a secret that is not text, so that not even its type leaks."""

    def __repr__(self) -> str:
        return MASK


class System(StrEnum):
    """The two sides of every flow."""

    CRM = "crm"
    ERP = "erp"


_KIND_ALIASES = {"crm": System.CRM, "dataverse": System.CRM, "erp": System.ERP, "fno": System.ERP}


def _is_secret_key(key: object) -> bool:
    k = str(key).lower()
    return k in SECRET_KEYS or k.endswith(("_secret", "_password", "_token"))


def mask_secrets(
    data: Any, *, doc_name: str = "", path: KeyPath = (), env: Mapping[str, str] | None = None
) -> Any:
    """A copy of ``data`` with every secret-named value wrapped in :class:`Secret`.

    ``env:NAME`` values are read from ``env`` (default ``os.environ``); a missing variable is a
    ConfigError naming the variable, never the value.
    """
    environ = os.environ if env is None else env
    if isinstance(data, Mapping):
        out: dict[Any, Any] = {}
        for key, value in data.items():
            sub = (*path, str(key))
            if _is_secret_key(key) and value is not None and not isinstance(value, Secret):
                if not isinstance(value, str):
                    out[key] = _NotText()  # fails validation as "must be a string", shows nothing
                    continue
                text = value
                if text.startswith("env:"):
                    var = text[4:].strip()
                    if var not in environ:
                        from p2c.yaml_doc import config_error

                        raise config_error(f"environment variable {var} is not set", doc_name, sub, None)
                    text = environ[var]
                out[key] = Secret(text)
            else:
                out[key] = mask_secrets(value, doc_name=doc_name, path=sub, env=environ)
        return out
    if isinstance(data, list):
        return [mask_secrets(v, doc_name=doc_name, path=(*path, i), env=environ) for i, v in enumerate(data)]
    return data


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Connection(_Model):
    """One environment: where it is, how to authenticate, and how hard to push it.

    ``kind`` accepts ``crm``/``dataverse`` and ``erp``/``fno``. Paths are relative to the file.
    """

    kind: System
    url: str
    api: str | None = None
    authority: str | None = None
    tenant_id: str | None = None
    client_id: str | None = None
    client_secret: Secret | None = None
    certificate_path: Path | None = None
    certificate_thumbprint: str | None = None
    ca_bundle: Path | None = None
    companies: tuple[str, ...] = ()
    default_company: str | None = None
    timeout: float = Field(default=60.0, gt=0, le=3600)
    page_size: int | None = Field(default=None, ge=1, le=10000)
    batch_size: int | None = Field(default=None, ge=1, le=1000)
    concurrency: int = Field(default=4, ge=1, le=52)
    # seconds without any HTTP answer (refused, unknown host, TLS, connect timeout) before a run
    # gives up on this service and stops, instead of backing off patiently on every request
    unreachable_after: float = Field(default=60.0, gt=0, le=3600)

    @field_validator("kind", mode="before")
    @classmethod
    def _kind(cls, value: Any) -> Any:
        if isinstance(value, str) and value.lower() in _KIND_ALIASES:
            return _KIND_ALIASES[value.lower()]
        raise ValueError("must be one of crm (dataverse), erp (fno)")

    @field_validator("url", "api", "authority")
    @classmethod
    def _url(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and not value.startswith(("https://", "http://")):
            raise ValueError("must be an http:// or https:// URL")
        # the service root is kept as written (a trailing slash matters for relative URLs)
        return value.rstrip("/") if value and info.field_name != "api" else value

    @field_validator("companies", mode="before")
    @classmethod
    def _companies(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [value]
        return tuple(str(c).lower() for c in value) if isinstance(value, list | tuple) else value

    @field_validator("default_company")
    @classmethod
    def _lower(cls, value: str | None) -> str | None:
        return value.lower() if value else value

    @model_validator(mode="after")
    def _credentials(self) -> Connection:
        if self.client_secret is None and self.certificate_path is None:
            raise ValueError("give client_secret or certificate_path")
        if self.certificate_path is not None and not self.certificate_thumbprint:
            raise ValueError("certificate_path needs certificate_thumbprint")
        return self


class LegalEntity(_Model):
    """An ERP company and the CRM business unit it stands for, and the team that owns what the sync
    creates in the CRM from that company's records (default: the business unit's default team,
    which Dataverse names after the business unit).

    >>> le = LegalEntity(company="demf", business_unit="Contoso DE")
    >>> le.team
    'Contoso DE'
    """

    company: str
    business_unit: str = Field(min_length=1)
    owning_team: str | None = Field(default=None, min_length=1)

    @property
    def team(self) -> str:
        return self.owning_team or self.business_unit


def legal_entities_data(value: Any) -> Any:
    """Raw ``legal_entities`` (``{usmf: Contoso US}`` or ``{usmf: {business_unit: ..., owning_team:
    ...}}``) as LegalEntity data keyed by lowercase company; other shapes are left to fail validation."""
    if not isinstance(value, Mapping):
        return value
    out: dict[str, Any] = {}
    for key, entry in value.items():
        company = str(key).lower()
        if isinstance(entry, str | int) and not isinstance(entry, bool):
            out[company] = {"company": company, "business_unit": str(entry)}
        elif isinstance(entry, Mapping) and "company" not in entry:
            out[company] = {**entry, "company": company}
        else:
            out[company] = entry
    return out


def shared_business_unit(legal: Mapping[str, LegalEntity]) -> tuple[str, str] | None:
    """``(company, why)`` when ``company`` claims a business unit another company of ``legal``
    already maps: CRM records of that unit could not be routed."""
    seen: dict[str, str] = {}
    for company, le in legal.items():
        other = seen.setdefault(le.business_unit.casefold(), company)
        if other != company:
            return company, (
                f"business unit {le.business_unit!r} is mapped by {other} and {company}; "
                "a business unit's records go to one company"
            )
    return None


class ConnectionSet(_Model):
    """The CRM and ERP connections plus ERP company → CRM business unit (:class:`LegalEntity`)."""

    crm: Connection
    erp: Connection
    legal_entities: dict[str, LegalEntity] = Field(min_length=1)
    identity: dict[str, Any] | None = None  # written by the sandbox for information; unused
    #: the file (and key) the set was read from, for errors that say where to fix a connection;
    #: filled by ``from_data``, not read from YAML
    source: str | None = Field(default=None, exclude=True)

    @field_validator("legal_entities", mode="before")
    @classmethod
    def _companies_lower(cls, value: Any) -> Any:
        return legal_entities_data(value)

    @model_validator(mode="after")
    def _sides(self) -> ConnectionSet:
        if self.crm.kind is not System.CRM:
            raise ValueError("crm: kind must be crm (dataverse)")
        if self.erp.kind is not System.ERP:
            raise ValueError("erp: kind must be erp (fno)")
        known = set(self.erp.companies)
        unknown = [c for c in self.legal_entities if known and c not in known]
        if unknown:
            raise ValueError(
                f"legal entity {unknown[0]!r} is not among the erp companies ({', '.join(sorted(known))})"
            )
        shared = shared_business_unit(self.legal_entities)
        if shared:
            raise ValueError(f"legal_entities.{shared[0]}: {shared[1]}")
        return self

    @classmethod
    def from_data(
        cls, data: Any, doc: YamlDoc, prefix: KeyPath = (), env: Mapping[str, str] | None = None
    ) -> ConnectionSet:
        """Validate raw data (already parsed from ``doc``); secrets are masked first."""
        if not isinstance(data, Mapping):
            raise doc.error("a connection set must be a mapping with crm, erp and legal_entities", prefix)
        masked = mask_secrets(data, doc_name=doc.name, path=prefix, env=env)
        try:
            conn = cls.model_validate(masked)
        except ValidationError as exc:
            raise validation_error(exc, doc, cls, prefix) from None
        where = f"{doc.name} ({'.'.join(str(p) for p in prefix)})" if prefix else doc.name
        return conn._resolve_paths(doc, prefix).model_copy(update={"source": where})

    def _resolve_paths(self, doc: YamlDoc, prefix: KeyPath) -> ConnectionSet:
        base = doc.path.parent if doc.path is not None else Path.cwd()
        updates = {}
        for side in ("crm", "erp"):
            c: Connection = getattr(self, side)
            changes: dict[str, Any] = {}
            for attr in ("ca_bundle", "certificate_path"):
                p: Path | None = getattr(c, attr)
                if p is None:
                    continue
                full = p if p.is_absolute() else base / p
                if not full.is_file():
                    raise doc.error(f"file not found: {full}", (*prefix, side, attr))
                changes[attr] = full
            if changes:
                updates[side] = c.model_copy(update=changes)
        return self.model_copy(update=updates) if updates else self


def load_connections(path: Path | str, env: Mapping[str, str] | None = None) -> ConnectionSet:
    """Load a ``connections.yaml``; every problem is one ConfigError naming file, line and key."""
    doc = load_yaml(Path(path))
    if doc.data is None:
        raise ConfigError("the file is empty", entity=doc.name)
    return ConnectionSet.from_data(doc.data, doc, env=env)
