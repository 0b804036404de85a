"""Dataverse change tracking for :class:`~p2c.connectors.dataverse.DataverseConnector` (DATAVERSE.md §2.8).

:meth:`DataverseChanges.changes` reads a table's changes: a first read with
``Prefer: odata.track-changes`` returns every row and a delta link; the delta link (the cursor) later
returns changed rows and ``$deletedEntity`` ids. A refused or expired cursor gives a full read
flagged ``resync``; a cursor whose link selects fewer columns than the task now reads is dropped
for a full read; a table without change tracking raises :class:`PrerequisiteError`.

A cursor is ``<organisation id>|<delta link relative to the Web API root>``: the same environment
under another host name or port keeps its place, another environment cannot take it by mistake.
The organisation id comes from WhoAmI, asked once (a run's reachability check asks it too).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from p2c.connectors.base import ChangeFeed, Changes
from p2c.connectors.dataverse_rows import TableInfo
from p2c.connectors.protocol import Pager
from p2c.connectors.protocol_json import loads
from p2c.connectors.protocol_session import HttpSession
from p2c.errors import NotFoundError, P2CError, PrerequisiteError, RecordError

__all__ = ["DataverseChanges"]

log = logging.getLogger("p2c.connectors")

API_ROOT = "/api/data/v9.2/"
_TRACKING_DISABLED = "0x80072491"


def _relative(link: str) -> str:
    """A Web API link without its scheme, host and service root (``accounts?$deltatoken=...``)."""
    marker = link.find(API_ROOT)
    return link[marker + len(API_ROOT) :] if marker >= 0 else link


def _selects(link: str, select: Sequence[str] | None) -> bool:
    """Whether the delta ``link`` returns every column of ``select``: a delta link keeps the
    ``$select`` of the query that started it, so a task that now reads more (a new mapped field,
    a filter on another column) must start over, or those columns come back empty."""
    if not select:
        return True
    query = parse_qs(urlsplit(link).query)
    chosen = query.get("$select")
    if not chosen:  # no $select: every column
        return True
    have = {c.strip().lower() for part in chosen for c in part.split(",")}
    return all(c.lower() in have for c in select)


def _is_deleted(row: Mapping[str, Any]) -> bool:
    return str(row.get("@odata.context", "")).endswith("$deletedEntity") or (
        row.get("reason") == "deleted" and "id" in row
    )


class DataverseChanges:
    """Mixed into :class:`~p2c.connectors.dataverse.DataverseConnector`: needs its session, its
    table definitions (:meth:`table`), ``Prefer`` headers (:meth:`_prefer`) and WhoAmI (:meth:`whoami`)."""

    _session: HttpSession
    _organization: str | None
    _organization_lock: threading.Lock
    _who_flight: Future[Mapping[str, Any]] | None  # a WhoAmI being asked (_who)

    if TYPE_CHECKING:

        def table(self, entity: str) -> TableInfo: ...

        def _prefer(self, page_size: int | None, *extra: str) -> dict[str, str]: ...

        def whoami(self) -> dict[str, Any]: ...

    def changes(
        self, entity: str, *, select: Sequence[str] | None = None, cursor: str | None = None
    ) -> ChangeFeed:
        """Changed rows and deleted ids since ``cursor`` (a delta link); ``None``: everything, and a first cursor."""
        headers = self._prefer(None, "odata.track-changes")
        resync = False
        if cursor and not _selects(self._delta_link(cursor, entity), select):
            log.info(
                "%s: the task reads columns its change-tracking cursor does not; reading everything", entity
            )
            cursor = None
        if cursor:
            pager = Pager(self._delta_link(cursor, entity))
            try:
                first = self._first_page(entity, pager, headers)
                return ChangeFeed(self._change_pages(entity, pager, first, headers), full=False)
            except PrerequisiteError:
                raise
            except (RecordError, NotFoundError) as exc:  # an expired or unknown delta token
                log.warning(
                    "%s: the change-tracking cursor was refused (%s); reading everything", entity, exc
                )
                resync = True
        pager = Pager(entity, {"$select": ",".join(select)} if select else None)
        first = self._first_page(entity, pager, headers)
        return ChangeFeed(self._change_pages(entity, pager, first, headers), full=True, resync=resync)

    def _first_page(self, entity: str, pager: Pager, headers: Mapping[str, str]) -> list[dict[str, Any]]:
        """The feed's first page as read (made a :class:`Changes` as the feed is iterated: its
        cursor names the organisation, which a run's check is asking for meanwhile)."""
        request = pager.next_request
        assert request is not None
        response = self._session.send(
            "GET", request.url, params=request.params, headers=headers, entity=entity
        )
        r = response.response
        if r.status_code >= 400:
            error = self._session.error(r, entity=entity)
            if isinstance(error, RecordError) and (
                error.code == _TRACKING_DISABLED
                or ("change tracking" in error.reason.lower() and "not enabled" in error.reason.lower())
            ):
                logical = self._logical_name(entity)
                raise PrerequisiteError(
                    f"change tracking is not enabled for table '{logical}'; enable it with `p2c setup` or "
                    f"set ChangeTrackingEnabled on EntityDefinitions(LogicalName='{logical}') ({error.reason})",
                    entity=entity,
                    status=error.status,
                    code=error.code,
                )
            raise error
        return pager.feed(loads(r.content))

    def _logical_name(self, entity: str) -> str:
        try:
            return self.table(entity).logical_name
        except P2CError:
            return entity

    def _page(self, pager: Pager, rows: list[dict[str, Any]]) -> Changes:
        changed = [r for r in rows if not _is_deleted(r)]
        deleted = [str(r["id"]) for r in rows if _is_deleted(r)]
        link = pager.delta_link if pager.done else None
        return Changes(changed, deleted, self._cursor(link) if link else None)

    # -- cursors: delta links relative to the environment ------------------------------------------

    def _ping(self, path: str, params: Mapping[str, str]) -> Mapping[str, Any]:
        return self._who()

    def _pinged(self, answer: Mapping[str, Any]) -> None:
        found = str(answer.get("OrganizationId") or "").lower()
        with self._organization_lock:
            self._organization = self._organization or found or None

    def organization_id(self) -> str:
        """The environment's organisation id (WhoAmI), read once: a run's check reads it, and a
        change feed asked for beside the check (its cursor names the organisation) waits for that
        answer instead of asking again."""
        with self._organization_lock:
            if self._organization is not None:
                return self._organization
        answer = self._who()
        with self._organization_lock:
            if self._organization is None:
                self._organization = str(answer.get("OrganizationId") or "").lower()
            return self._organization

    def _who(self) -> Mapping[str, Any]:
        """WhoAmI, once at a time: a caller while it is asked waits for that answer (or error). It
        is a check (:meth:`HttpSession.checking`): impatient, and not counted as a run's work."""
        with self._organization_lock:
            flight, owner = self._who_flight, self._who_flight is None
            if flight is None:
                flight = self._who_flight = Future()
        if not owner:
            return flight.result()
        try:
            with self._session.checking():
                answer = self.whoami()
        except BaseException as exc:
            flight.set_exception(exc)
            raise
        else:
            flight.set_result(answer)
            return answer
        finally:
            with self._organization_lock:
                self._who_flight = None

    def _cursor(self, delta_link: str) -> str:
        """A delta link as a cursor: ``<organisation id>|<link relative to the Web API root>``, so the
        same environment under another host name or port keeps its place, and another one cannot
        use it by mistake."""
        return f"{self.organization_id()}|{_relative(delta_link)}"

    def _delta_link(self, cursor: str, entity: str) -> str:
        org, sep, link = cursor.partition("|")
        if not sep:  # a cursor stored before cursors were relative: an absolute delta link
            return _relative(cursor)
        if org != self.organization_id():
            raise PrerequisiteError(
                f"the change-tracking cursor belongs to organisation {org}, not to this environment "
                f"({self.organization_id()}); run once with --full to read everything from here",
                entity=entity,
            )
        return link

    def _change_pages(
        self, entity: str, pager: Pager, first: list[dict[str, Any]], headers: Mapping[str, str]
    ) -> Iterator[Changes]:
        yield self._page(pager, first)
        for rows in self._session.pages(pager, headers=headers, entity=entity):
            yield self._page(pager, rows)
