"""What flows learn once per run and share between tasks, as typed fields (not a shared dict).

Example::

    cache = RunCache(reads)
    cache.currencies.precision("USD")      # 2, read once for the whole run
    cache.written_headers["quotes"]        # header ids the QuoteHeader task wrote in this run
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from p2c.flows.base import Reads
from p2c.flows.companies import OWNING_UNIT, CompanyRouter
from p2c.project import Project
from p2c.rules import normalize_ids
from p2c.settings import System

__all__ = ["OWNING_UNIT", "Currencies", "CustomerIndex", "RunCache"]

#: the CRM documents whose customer makes a contact an active customer
CUSTOMER_DOCUMENTS = ("quotes", "salesorders", "invoices")


@dataclass(frozen=True)
class Currencies:
    """The CRM's currencies: id and precision by ISO code and by id (lowercase)."""

    by_code: dict[str, tuple[str, int]]
    by_id: dict[str, tuple[str, int]]

    def precision(self, code: Any) -> int | None:
        """The precision of the ISO currency ``code``; None when the CRM does not know it."""
        found = self.by_code.get(str(code or "").upper())
        return found[1] if found else None

    def precision_of_id(self, currency_id: Any, default: int = 2) -> int:
        found = self.by_id.get(str(currency_id or "").lower())
        return found[1] if found else default

    def code_of_id(self, currency_id: Any) -> str | None:
        wanted = str(currency_id or "").lower()
        return next((code for code, (cid, _p) in self.by_code.items() if cid.lower() == wanted), None)


class CustomerIndex(Protocol):
    """Which contacts are customers of a quote, order or invoice, kept from change feeds by the
    engine (:class:`p2c.engine.customers.StoredCustomers`), shared by a run's contact tasks."""

    def members(self, ids: Iterable[Any]) -> frozenset[str]:
        """Which of ``ids`` are customers (lowercase)."""
        ...

    def touched(self) -> frozenset[str]:
        """Contacts whose "is active customer" may have changed since the contact tasks last ran."""
        ...

    def available(self) -> bool:
        """False when the documents' change feeds cannot be read (change tracking off)."""
        ...


@dataclass
class RunCache:
    """Per run: each table here is read at most once, by the first task that needs it."""

    reads: Reads
    #: the customers of CRM documents kept in the store; None: read every document (contact_customers)
    customers: CustomerIndex | None = None
    _currencies: Currencies | None = None
    _price_lists: list[dict[str, Any]] | None = None
    _contact_customers: frozenset[str] | None = None
    _router: CompanyRouter | None = None
    #: header entity → ids of the headers a header task wrote in this run (their lines follow now)
    written_headers: dict[str, set[str]] = field(default_factory=dict)

    @property
    def currencies(self) -> Currencies:
        if self._currencies is None:
            by_code: dict[str, tuple[str, int]] = {}
            by_id: dict[str, tuple[str, int]] = {}
            select = ["transactioncurrencyid", "isocurrencycode", "currencyprecision"]
            for r in self.reads.rows(System.CRM, "transactioncurrencies", select):
                entry = (str(r["transactioncurrencyid"]), int(r.get("currencyprecision") or 2))
                by_code[str(r.get("isocurrencycode") or "").upper()] = entry
                by_id[entry[0].lower()] = entry
            self._currencies = Currencies(by_code, by_id)
        return self._currencies

    @property
    def price_lists(self) -> list[dict[str, Any]]:
        """Active CRM price lists as ``{"name", "currency"}`` (ISO code), for choose_price_list."""
        if self._price_lists is None:
            currencies = self.currencies
            # with the id: the read answers the price-list items' lookup by name (ConnectorReads)
            select = ["pricelevelid", "name", "_transactioncurrencyid_value", "statecode"]
            self._price_lists = [
                {"name": r["name"], "currency": currencies.code_of_id(r.get("_transactioncurrencyid_value"))}
                for r in self.reads.rows(System.CRM, "pricelevels", select)
                if r.get("statecode", 0) == 0
            ]
        return self._price_lists

    @property
    def contact_customers(self) -> frozenset[str]:
        """Ids (lowercase) of every customer of a CRM quote, order or invoice: one paged read of
        ``_customerid_value`` from each, shared by the run's contact tasks (without a store:
        :attr:`customers` answers the same question from change feeds)."""
        if self._contact_customers is None:
            ids: list[Any] = []
            for entity in CUSTOMER_DOCUMENTS:
                ids.extend(
                    r.get("_customerid_value")
                    for r in self.reads.rows(System.CRM, entity, ["_customerid_value"])
                )
            self._contact_customers = frozenset(normalize_ids(ids))
        return self._contact_customers

    def customer_index(self) -> CustomerIndex | None:
        """:attr:`customers` when its change feeds can be read, else None (read every document)."""
        index = self.customers
        return index if index is not None and index.available() else None

    def router(self, project: Project) -> CompanyRouter:
        """Companies of CRM records and owning teams of ERP ones (:mod:`p2c.flows.companies`): the
        business units and teams are read once per run, and only for a project that needs them."""
        if self._router is None:
            units: list[dict[str, Any]] = []
            if len(project.legal_entities) > 1:
                select = ["businessunitid", "name", "_parentbusinessunitid_value"]
                units = list(self.reads.rows(System.CRM, "businessunits", select))
            self._router = CompanyRouter(project.legal_entities, units, where=str(project.path))
        return self._router

    def owning_router(self, project: Project) -> CompanyRouter:
        """:meth:`router` with the teams too (and the units, which a default team is found by)."""
        router = self.router(project)
        if not router.teams:
            units = router.units or list(
                self.reads.rows(
                    System.CRM, "businessunits", ["businessunitid", "name", "_parentbusinessunitid_value"]
                )
            )
            select = ["teamid", "name", "_businessunitid_value", "isdefault"]
            teams = list(self.reads.rows(System.CRM, "teams", select))
            self._router = CompanyRouter(project.legal_entities, units, teams, where=router.where)
        return self._router or router

    def headers_written(self, entity: str, ids: Iterable[str]) -> None:
        self.written_headers.setdefault(entity, set()).update(ids)
