"""The digest: raise alerts at any time from any thread; ``flush`` sends what is due.

Rule, per project and channel: the first alert after a quiet interval is *ready* at once (sent by
the next ``flush``, which the service calls every few seconds); alerts raised within
``digest_minutes`` after that are *held* and go out together, one message, when the interval has
passed. Repeats of one kind are folded with a count, so an hour of failures is a handful of short
messages, not sixty. ``digest_minutes: 0`` sends every alert as its own message at the next flush.

A channel that fails keeps its alerts and tries again with the next digest (not sooner than
:data:`RETRY_FAILED`), so an outage of the mail relay loses nothing; the other channels go on.
``raise_alert`` never does I/O; ``flush`` sends outside the lock, so a slow receiver delays only
the flushing thread.

Example::

    alerter = Alerter(settings)                  # channels built from settings.webhooks/email
    alerter.raise_alert(Alert("contoso", AlertKind.RUN_FAILED, "ERP refused the login", now, 12))
    alerter.flush()                              # -> [Delivery(channel='email', ok=True, ...)]
"""

from __future__ import annotations

import logging
import ssl
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from p2c.alerts.deliver import Channel, Delivery, WebhookChannel
from p2c.alerts.mail import EmailChannel
from p2c.alerts.model import Alert, AlertKind, fold
from p2c.alerts.settings import AlertSettings

__all__ = ["HISTORY_SIZE", "RETRY_FAILED", "AlertRecord", "Alerter", "build_channels"]

HISTORY_SIZE = 200
#: a channel that failed is tried again after its digest interval, but never sooner than this
RETRY_FAILED = timedelta(minutes=1)


def build_channels(settings: AlertSettings, client: httpx.Client | None = None) -> list[Channel]:
    """The channels ``settings`` describes: each webhook (sharing ``client`` if given), then e-mail.
    Names are unique (``webhook ops``, ``webhook ops #2``, ``email``)."""
    channels: list[Channel] = []
    seen: set[str] = set()
    for hook in settings.webhooks:
        channel = WebhookChannel(
            hook.url,
            hook.secret,
            hook.display_name,
            client,
            attempts=hook.attempts,
            backoff=hook.backoff_seconds,
            timeout=hook.timeout_seconds,
        )
        base, n = channel.name, 1
        while channel.name in seen:
            n += 1
            channel.name = f"{base} #{n}"
        seen.add(channel.name)
        channels.append(channel)
    mail = settings.email
    if mail is not None:
        context = ssl.create_default_context(cafile=str(mail.ca_bundle)) if mail.ca_bundle else None
        channels.append(
            EmailChannel(
                mail.host,
                mail.effective_port,
                mail.sender,
                mail.to,
                username=mail.username,
                password=mail.password,
                starttls=mail.starttls,
                ssl=mail.ssl,
                timeout=mail.timeout_seconds,
                ssl_context=context,
            )
        )
    return channels


@dataclass(frozen=True)
class AlertRecord:
    """A raised alert and what became of it so far (one :class:`Delivery` per message sent)."""

    id: int
    alert: Alert
    deliveries: tuple[Delivery, ...] = ()
    waiting: tuple[str, ...] = ()  # channels that have not delivered it yet

    @property
    def status(self) -> str:
        """``recorded`` (no channel), ``pending``, ``partly delivered``, ``delivered`` or ``failed``
        (a test message that did not get through: it is not tried again)."""
        if not self.deliveries and not self.waiting:
            return "recorded"
        if self.waiting:
            return "partly delivered" if any(d.ok for d in self.deliveries) else "pending"
        last = {d.channel: d.ok for d in self.deliveries}
        return "delivered" if all(last.values()) else "failed"

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "alert": self.alert.as_dict(),
            "status": self.status,
            "deliveries": [d.as_dict() for d in self.deliveries],
            "waiting": list(self.waiting),
        }


@dataclass
class _Item:
    """An alert waiting for one channel, with the ids of the raised alerts it stands for."""

    alert: Alert
    ids: list[int]


@dataclass
class _Queue:
    """One project's state on one channel."""

    quiet_until: datetime | None = None
    ready: list[_Item] = field(default_factory=list)
    held: list[_Item] = field(default_factory=list)


def _fold_items(items: Sequence[_Item]) -> list[_Item]:
    by_kind: dict[AlertKind, list[_Item]] = {}
    for item in items:
        by_kind.setdefault(item.alert.kind, []).append(item)
    return [
        _Item(fold(i.alert for i in group)[0], [n for i in group for n in i.ids])
        for group in by_kind.values()
    ]


class Alerter:
    """Collects alerts, applies the digest, delivers through every channel, keeps a history.

    ``channels`` defaults to :func:`build_channels` of ``settings`` (closed by :meth:`close`);
    ``clock`` gives aware UTC times; ``log`` defaults to the ``p2c.alerts`` logger.
    """

    def __init__(
        self,
        settings: AlertSettings | None = None,
        channels: Sequence[Channel] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        log: logging.Logger | None = None,
    ) -> None:
        self.settings = settings or AlertSettings()
        self._own_channels = channels is None
        self.channels: list[Channel] = list(build_channels(self.settings) if channels is None else channels)
        names = [c.name for c in self.channels]
        if len(set(names)) != len(names):
            raise ValueError(f"channel names must be unique: {names}")
        self.interval = timedelta(minutes=self.settings.digest_minutes)
        self._clock = clock
        self.log = log or logging.getLogger("p2c.alerts")
        self._lock = threading.Lock()
        self._queues: dict[tuple[str, str], _Queue] = {}
        self._history: OrderedDict[int, AlertRecord] = OrderedDict()
        self._next_id = 1

    def __enter__(self) -> Alerter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the channels this alerter built (their HTTP clients)."""
        if self._own_channels:
            for channel in self.channels:
                channel.close()

    def raise_alert(self, alert: Alert) -> None:
        """Record ``alert`` and queue it on every channel; no I/O. Thread-safe."""
        now = self._clock()
        with self._lock:
            ident = self._next_id
            self._next_id += 1
            names = tuple(c.name for c in self.channels)
            self._remember(AlertRecord(ident, alert, (), names))
            for name in names:
                queue = self._queues.setdefault((alert.project, name), _Queue())
                item = _Item(alert, [ident])
                if queue.quiet_until is None or now >= queue.quiet_until:
                    # the interval is over: what it held goes out now, with this one
                    queue.ready.extend([*queue.held, item])
                    queue.held = []
                    queue.quiet_until = now + self.interval
                else:
                    queue.held.append(item)
        level = logging.WARNING if alert.kind is not AlertKind.TEST else logging.INFO
        self.log.log(level, "alert %s %s: %s", alert.project, alert.kind.value, alert.message)
        if not self.channels:
            self.log.info("no alert channel configured: %s %s recorded only", alert.project, alert.kind.value)

    def flush(self, now: datetime | None = None) -> list[Delivery]:
        """Send every message that is due at ``now``; one :class:`Delivery` per message sent."""
        now = now or self._clock()
        batches: list[tuple[str, Channel, list[_Item]]] = []
        with self._lock:
            for channel in self.channels:
                for (project, name), queue in self._queues.items():
                    if name != channel.name:
                        continue
                    if queue.held and (queue.quiet_until is None or now >= queue.quiet_until):
                        queue.ready.extend(queue.held)
                        queue.held = []
                        queue.quiet_until = now + self.interval
                    if not queue.ready:
                        continue
                    items, queue.ready = queue.ready, []
                    if self.interval:
                        batches.append((project, channel, _fold_items(items)))
                    else:
                        batches.extend((project, channel, [item]) for item in items)
        return [self._send(project, channel, items, now) for project, channel, items in batches]

    def send_test(self, project: str = "p2c", message: str = "test alert from p2c") -> list[Delivery]:
        """Send a ``test`` alert on every channel now, past the digest; recorded in the history."""
        now = self._clock()
        alert = Alert(project, AlertKind.TEST, message, now)
        with self._lock:
            ident = self._next_id
            self._next_id += 1
            self._remember(AlertRecord(ident, alert, (), tuple(c.name for c in self.channels)))
        return [
            self._send(project, channel, [_Item(alert, [ident])], now, retry=False)
            for channel in self.channels
        ]

    def _send(
        self, project: str, channel: Channel, items: list[_Item], now: datetime, retry: bool = True
    ) -> Delivery:
        alerts = [item.alert for item in items]
        try:
            delivery = channel.send(project, alerts, now)
        except Exception as exc:  # a channel bug must not stop the others; the type says enough
            delivery = Delivery(channel.name, False, 1, f"{type(exc).__name__} in the channel", len(alerts))
        what = ", ".join(a.summary for a in alerts)
        if delivery.ok:
            self.log.info(
                "alert delivered: %s via %s in %d attempt(s): %s",
                project,
                channel.name,
                delivery.attempts,
                what,
            )
        else:
            self.log.error(
                "alert delivery failed: %s via %s after %d attempt(s): %s (%s)",
                project,
                channel.name,
                delivery.attempts,
                delivery.error,
                what,
            )
        with self._lock:
            for item in items:
                for ident in item.ids:
                    self._record_delivery(ident, channel.name, delivery, final=not retry)
            if retry and not delivery.ok:
                # keep them for the next digest on this channel, not sooner than RETRY_FAILED
                queue = self._queues.setdefault((project, channel.name), _Queue())
                queue.held = items + queue.held
                retry_at = now + max(self.interval, RETRY_FAILED)
                queue.quiet_until = max(queue.quiet_until or retry_at, retry_at)
        return delivery

    def _remember(self, record: AlertRecord) -> None:
        self._history[record.id] = record
        while len(self._history) > HISTORY_SIZE:
            self._history.popitem(last=False)

    def _record_delivery(self, ident: int, channel: str, delivery: Delivery, final: bool = False) -> None:
        record = self._history.get(ident)
        if record is None:
            return
        done = delivery.ok or final
        waiting = tuple(n for n in record.waiting if n != channel) if done else record.waiting
        self._history[ident] = AlertRecord(ident, record.alert, (*record.deliveries, delivery), waiting)

    def pending(self) -> dict[str, list[Alert]]:
        """Per channel, the alerts waiting to be sent (folded as the next message will carry them)."""
        out: dict[str, list[Alert]] = {}
        with self._lock:
            for (_, name), queue in self._queues.items():
                items = queue.ready + queue.held
                if items:
                    folded = (
                        [i.alert for i in _fold_items(items)] if self.interval else [i.alert for i in items]
                    )
                    out.setdefault(name, []).extend(folded)
        return out

    def history(self) -> list[AlertRecord]:
        """The last :data:`HISTORY_SIZE` raised alerts, newest first, with their deliveries."""
        with self._lock:
            return list(reversed(self._history.values()))
