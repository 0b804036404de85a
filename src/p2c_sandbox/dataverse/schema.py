"""The shape of Dataverse tables: columns, lookups, choices, state/status pairs.

A :class:`TableDef` is immutable and built by :func:`table` from a compact list of
:class:`Column` definitions (see :mod:`p2c_sandbox.dataverse.tables`). ``table`` adds what every
Dataverse table has: the primary key, ``createdon``/``modifiedon``, ``createdby``/``modifiedby``,
``versionnumber``, ``ownerid`` on user-owned tables, ``exchangerate`` and a read-only ``<x>_base``
twin for each money column.

On the wire a lookup column ``parentaccountid`` is read as ``_parentaccountid_value`` and written
through its navigation property (``parentaccountid@odata.bind``); rows in the store use the wire
names, so a read is a plain projection.

Example::

    >>> t = table("thing", "things", "thingid", "name", [string("name", 100)])
    >>> [c.wire for c in t.columns.values()][:3]
    ['thingid', 'name', 'createdon']
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

__all__ = [
    "Column",
    "Kind",
    "Required",
    "TableDef",
    "boolean",
    "customer",
    "datetime_",
    "decimal",
    "integer",
    "lookup",
    "memo",
    "money",
    "picklist",
    "string",
    "table",
]


class Kind(StrEnum):
    """Attribute types, named as Dataverse's ``AttributeType``."""

    UNIQUEIDENTIFIER = "Uniqueidentifier"
    STRING = "String"
    MEMO = "Memo"
    INTEGER = "Integer"
    BIGINT = "BigInt"
    DECIMAL = "Decimal"
    MONEY = "Money"
    BOOLEAN = "Boolean"
    DATETIME = "DateTime"
    PICKLIST = "Picklist"
    STATE = "State"
    STATUS = "Status"
    LOOKUP = "Lookup"
    CUSTOMER = "Customer"
    OWNER = "Owner"


LOOKUP_KINDS = frozenset({Kind.LOOKUP, Kind.CUSTOMER, Kind.OWNER})
CHOICE_KINDS = frozenset({Kind.PICKLIST, Kind.STATE, Kind.STATUS})
NUMBER_KINDS = frozenset({Kind.INTEGER, Kind.BIGINT, Kind.DECIMAL, Kind.MONEY})


class Required(StrEnum):
    """``RequiredLevel.Value`` of an attribute."""

    NONE = "None"
    RECOMMENDED = "Recommended"
    APPLICATION = "ApplicationRequired"
    SYSTEM = "SystemRequired"


class Ownership(StrEnum):
    USER = "UserOwned"
    ORGANIZATION = "OrganizationOwned"
    BUSINESS = "BusinessOwned"


@dataclass(frozen=True)
class Column:
    """One attribute. ``navs`` maps each navigation property of a lookup to its target table."""

    name: str
    kind: Kind
    required: Required = Required.NONE
    create: bool = True
    update: bool = True
    max_length: int | None = None
    options: Mapping[int, str] = field(default_factory=dict)
    navs: Mapping[str, str] = field(default_factory=dict)
    precision: int = 0
    min_value: Any = None
    max_value: Any = None
    default: Any = None
    date_only: bool = False
    label: str = ""
    custom: bool = False
    # statuscode -> statecode it belongs to (Status columns only)
    state_of: Mapping[int, int] = field(default_factory=dict)

    @property
    def wire(self) -> str:
        """The name of the column in rows and on the wire (``_x_value`` for lookups)."""
        return f"_{self.name}_value" if self.kind in LOOKUP_KINDS else self.name

    @property
    def is_lookup(self) -> bool:
        return self.kind in LOOKUP_KINDS

    @property
    def targets(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.navs.values()))

    @property
    def display(self) -> str:
        return self.label or self.name

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form, used to persist custom columns."""
        return {
            "name": self.name,
            "kind": str(self.kind),
            "required": str(self.required),
            "max_length": self.max_length,
            "options": [[k, v] for k, v in self.options.items()],
            "precision": self.precision,
            "min_value": self.min_value,
            "max_value": self.max_value,
            "date_only": self.date_only,
            "label": self.label,
            "default": self.default,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Column:
        return cls(
            name=d["name"],
            kind=Kind(d["kind"]),
            required=Required(d["required"]),
            max_length=d.get("max_length"),
            options={int(k): str(v) for k, v in d.get("options", [])},
            precision=int(d.get("precision") or 0),
            min_value=d.get("min_value"),
            max_value=d.get("max_value"),
            date_only=bool(d.get("date_only")),
            label=d.get("label") or "",
            default=d.get("default"),
            custom=True,
        )


@dataclass(frozen=True)
class TableDef:
    """A table: its columns keyed by logical name plus the indexes the emulator needs."""

    name: str
    set_name: str
    pk: str
    primary_name: str
    ownership: Ownership
    label: str
    type_code: int
    columns: Mapping[str, Column]
    # collection-valued navigation property -> (child table, child lookup column)
    collections: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    # statecode -> default statuscode
    default_status: Mapping[int, int] = field(default_factory=dict)
    default_state: int | None = None
    #: supports CreateMultiple / UpdateMultiple / UpsertMultiple
    multiple: bool = True
    read_only: bool = False

    # derived in __post_init__
    by_wire: dict[str, Column] = field(init=False, repr=False, compare=False)
    #: single-valued navigation property -> (lookup column, target table)
    navs: dict[str, tuple[Column, str]] = field(init=False, repr=False, compare=False)
    wire_columns: tuple[str, ...] = field(init=False, repr=False, compare=False)
    #: columns whose value the platform or the application requires, checked on every write
    required_columns: tuple[Column, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        cols = self.columns.values()
        required = (Required.APPLICATION, Required.SYSTEM)
        object.__setattr__(self, "required_columns", tuple(c for c in cols if c.required in required))
        object.__setattr__(self, "by_wire", {c.wire: c for c in cols})
        object.__setattr__(self, "navs", {nav: (c, t) for c in cols for nav, t in c.navs.items()})
        object.__setattr__(self, "wire_columns", tuple(c.wire for c in cols))

    @property
    def type_name(self) -> str:
        return f"Microsoft.Dynamics.CRM.{self.name}"

    def with_columns(self, extra: Iterable[Column]) -> TableDef:
        cols = dict(self.columns)
        for c in extra:
            cols[c.name] = c
        return replace(self, columns=cols)


# -- column helpers ---------------------------------------------------------------------------


def string(name: str, max_length: int = 100, **kw: Any) -> Column:
    return Column(name, Kind.STRING, max_length=max_length, **kw)


def memo(name: str, max_length: int = 2000, **kw: Any) -> Column:
    return Column(name, Kind.MEMO, max_length=max_length, **kw)


def integer(name: str, lo: int = -2147483648, hi: int = 2147483647, **kw: Any) -> Column:
    return Column(name, Kind.INTEGER, min_value=lo, max_value=hi, **kw)


def decimal(
    name: str, precision: int = 2, lo: float = -100000000000, hi: float = 100000000000, **kw: Any
) -> Column:
    return Column(name, Kind.DECIMAL, precision=precision, min_value=lo, max_value=hi, **kw)


def money(name: str, **kw: Any) -> Column:
    kw.setdefault("precision", 4)
    kw.setdefault("min_value", -922337203685477)
    kw.setdefault("max_value", 922337203685477)
    return Column(name, Kind.MONEY, **kw)


def boolean(name: str, labels: tuple[str, str] = ("No", "Yes"), **kw: Any) -> Column:
    return Column(name, Kind.BOOLEAN, options={0: labels[0], 1: labels[1]}, **kw)


def datetime_(name: str, date_only: bool = False, **kw: Any) -> Column:
    return Column(name, Kind.DATETIME, date_only=date_only, **kw)


def picklist(name: str, options: Mapping[int, str], **kw: Any) -> Column:
    return Column(name, Kind.PICKLIST, options=options, **kw)


def lookup(name: str, target: str, nav: str | None = None, **kw: Any) -> Column:
    return Column(name, Kind.LOOKUP, navs={nav or name: target}, **kw)


def customer(name: str, **kw: Any) -> Column:
    """A Customer lookup (account or contact), bound as ``<name>_account`` / ``<name>_contact``."""
    return Column(
        name, Kind.CUSTOMER, navs={f"{name}_account": "account", f"{name}_contact": "contact"}, **kw
    )


def table(
    name: str,
    set_name: str,
    pk: str,
    primary_name: str,
    columns: Iterable[Column],
    *,
    ownership: Ownership = Ownership.USER,
    label: str = "",
    type_code: int = 10000,
    states: Mapping[int, tuple[str, int]] | None = None,
    statuses: Mapping[int, tuple[str, int]] | None = None,
    default_state: int = 0,
    collections: Mapping[str, tuple[str, str]] | None = None,
    multiple: bool = True,
    read_only: bool = False,
    system_columns: bool = True,
) -> TableDef:
    """Build a table; ``states`` is ``{statecode: (label, default statuscode)}`` and
    ``statuses`` ``{statuscode: (label, statecode)}``."""
    cols: dict[str, Column] = {pk: Column(pk, Kind.UNIQUEIDENTIFIER, update=False, label=label or name)}
    given = list(columns)
    for c in given:
        cols[c.name] = c
    money_cols = [c for c in given if c.kind is Kind.MONEY]
    for c in money_cols:
        base = f"{c.name}_base"
        cols[base] = money(base, create=False, update=False, label=f"{c.display} (Base)")
    if money_cols and "exchangerate" not in cols:
        cols["exchangerate"] = decimal("exchangerate", 10, 0, 100000000000, create=False, update=False)
    if states:
        cols["statecode"] = Column(
            "statecode",
            Kind.STATE,
            required=Required.SYSTEM,
            options={k: v[0] for k, v in states.items()},
        )
    if statuses:
        cols["statuscode"] = Column(
            "statuscode",
            Kind.STATUS,
            options={k: v[0] for k, v in statuses.items()},
            state_of={k: v[1] for k, v in statuses.items()},
        )
    if system_columns:
        ro: dict[str, Any] = {"create": False, "update": False}
        cols["createdon"] = datetime_("createdon", **ro)
        cols["modifiedon"] = datetime_("modifiedon", **ro)
        cols["createdby"] = lookup("createdby", "systemuser", **ro)
        cols["modifiedby"] = lookup("modifiedby", "systemuser", **ro)
        cols["versionnumber"] = Column("versionnumber", Kind.BIGINT, **ro)
        if ownership is Ownership.USER:
            if "ownerid" not in cols:  # a user or a team (the bound set says which)
                cols["ownerid"] = Column(
                    "ownerid", Kind.OWNER, required=Required.SYSTEM, navs={"ownerid": "systemuser"}
                )
            # derived from the owner on every write: its user or team, and that one's business unit
            cols["owninguser"] = lookup("owninguser", "systemuser", **ro)
            cols["owningteam"] = lookup("owningteam", "team", **ro)
            cols["owningbusinessunit"] = lookup("owningbusinessunit", "businessunit", **ro)
    return TableDef(
        name=name,
        set_name=set_name,
        pk=pk,
        primary_name=primary_name,
        ownership=ownership,
        label=label or name.capitalize(),
        type_code=type_code,
        columns=cols,
        collections=dict(collections or {}),
        default_status={k: v[1] for k, v in (states or {}).items()},
        default_state=default_state if states else None,
        multiple=multiple,
        read_only=read_only,
    )
