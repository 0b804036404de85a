"""F&O releases the sandbox can pretend to be (``--erp-release``), so p2c's prerequisite checks run for real.

Prospect to cash needed, over its life (FNO.md §2.1, §6, the 2017 P2C system requirements):
the CDS sales order entities (hotfix KB4045570 on 7.2), the one-time job ``SalesPopulateProspectToCash``
that fills ``LineCreationSequenceNumber`` on existing sales, quotation and invoice lines, and
"Populate distinct product table" that ``SellableReleasedProducts`` reads. Later releases added the
dual-write era entities (CDSContactPersonsV2, CDSSalesOrderLinesV2, CustomersV3) and new fields.

A release here says which entity sets and properties exist and in which state the seeded data
starts: whether existing lines still have ``LineCreationSequenceNumber`` 0 and whether the distinct
product table is still empty (both fixed by the admin jobs, ``POST /sandbox/jobs/...``).

Example::

    >>> r = release("7.3")
    >>> r.has_set("CDSSalesOrderLinesV2"), r.lines_unfilled
    (False, True)
    >>> release("10.0.40").has_set("CDSSalesOrderLinesV2")
    True
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["DEFAULT_RELEASE", "RELEASES", "Release", "release"]

DEFAULT_RELEASE = "10.0.40"

_DUAL_WRITE_ERA = frozenset({"CDSSalesOrderLinesV2", "CDSContactPersonsV2"})
_NEWER_HEADER_FIELDS = frozenset({"SkipGlobalUnifiedPricingCalculation"})


@dataclass(frozen=True)
class Release:
    name: str
    description: str
    missing_sets: frozenset[str] = frozenset()
    #: entity set -> properties that do not exist yet
    missing_props: dict[str, frozenset[str]] = field(default_factory=dict)
    #: existing order/quotation/invoice lines have LineCreationSequenceNumber 0 until the job runs
    lines_unfilled: bool = False
    #: SellableReleasedProducts is empty until "Populate distinct product table" runs
    distinct_products_unpopulated: bool = False

    def has_set(self, name: str) -> bool:
        return name not in self.missing_sets

    def hidden_props(self, set_name: str) -> frozenset[str]:
        return self.missing_props.get(set_name, frozenset())


RELEASES: dict[str, Release] = {
    r.name: r
    for r in (
        Release(
            "10.0.40",
            "Dynamics 365 Supply Chain Management 10.0.40 (2024): every entity and field of FNO.md §2.8",
        ),
        Release(
            "8.1",
            "Finance and Operations 8.1 (2018): before dual-write; no CDSSalesOrderLinesV2 or "
            "CDSContactPersonsV2, no unified-pricing fields",
            missing_sets=_DUAL_WRITE_ERA,
            missing_props={
                "CDSSalesOrderHeaders": _NEWER_HEADER_FIELDS,
                "CDSSalesQuotationHeaders": _NEWER_HEADER_FIELDS,
            },
        ),
        Release(
            "7.3",
            "Finance and Operations 7.3 (December 2017) with KB4045570, before the one-time jobs: "
            "LineCreationSequenceNumber unfilled on existing lines, distinct product table empty; "
            "no CustomersV3 (CustomersV2 only)",
            missing_sets=_DUAL_WRITE_ERA | {"CustomersV3"},
            missing_props={
                "CDSSalesOrderHeaders": _NEWER_HEADER_FIELDS,
                "CDSSalesQuotationHeaders": _NEWER_HEADER_FIELDS,
            },
            lines_unfilled=True,
            distinct_products_unpopulated=True,
        ),
        Release(
            "7.2",
            "Finance and Operations July 2017 (7.2) without hotfix KB4045570: no CDS sales order entities",
            missing_sets=_DUAL_WRITE_ERA | {"CustomersV3", "CDSSalesOrderHeaders", "CDSSalesOrderLines"},
            missing_props={"CDSSalesQuotationHeaders": _NEWER_HEADER_FIELDS},
            lines_unfilled=True,
            distinct_products_unpopulated=True,
        ),
    )
}


def release(name: str) -> Release:
    """The release called ``name``; a ValueError lists the known ones."""
    try:
        return RELEASES[name]
    except KeyError:
        known = ", ".join(RELEASES)
        raise ValueError(f"unknown ERP release '{name}' (known: {known})") from None
