"""The connector's request slots: at most ``limit`` in flight, let go in line — a request outside a
write call first, then the writes by call and by part, then by arrival. Real threads, and the F&O
sandbox for two chunk writes at once."""

from __future__ import annotations

import ctypes
import threading
import time
from typing import Any

import httpx
from connector_helpers import faults

from p2c.connectors import FnoConnector, OpKind, WriteOp
from p2c.connectors.protocol_slots import InFlight, in_write_order


def _waiting(slots: InFlight, n: int) -> None:
    deadline = time.monotonic() + 5
    while len(slots._line) < n:
        assert time.monotonic() < deadline, "the threads did not queue"
        time.sleep(0.005)


def test_a_free_slot_goes_to_the_first_in_line_not_the_first_to_arrive() -> None:
    slots = InFlight(1)
    went: list[str] = []
    lock = threading.Lock()

    def request(name: str, order: tuple[int, int] | None) -> None:
        if order is not None:
            in_write_order(order[1], order[0])
        with slots:
            with lock:
                went.append(name)
            time.sleep(0.01)

    slots.__enter__()  # the one slot is taken: everyone below waits
    threads = []
    # arrival order: later calls and later parts first, the read last
    for name, order in [
        ("call 2 part 0", (2, 0)),
        ("call 1 part 1", (1, 1)),
        ("call 1 part 0", (1, 0)),
        ("a page read", None),
    ]:
        t = threading.Thread(target=request, args=(name, order), daemon=True)
        t.start()
        threads.append(t)
        _waiting(slots, len(threads))
    slots.__exit__(None, None, None)
    for t in threads:
        t.join(5)
    assert went == ["a page read", "call 1 part 0", "call 1 part 1", "call 2 part 0"]
    assert slots.busy == 0


def test_never_more_than_the_limit_in_flight_and_every_request_goes() -> None:
    slots = InFlight(3)
    peak, now, done = [0], [0], []
    lock = threading.Lock()

    def request(n: int) -> None:
        in_write_order(n % 5, n // 5)
        with slots:
            with lock:
                now[0] += 1
                peak[0] = max(peak[0], now[0])
            time.sleep(0.002)
            with lock:
                now[0] -= 1
                done.append(n)

    threads = [threading.Thread(target=request, args=(n,), daemon=True) for n in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert sorted(done) == list(range(40)) and peak[0] == 3 and slots.busy == 0


class _Given(InFlight):
    """Slots that note, under their lock, the write call of each waiting request they let in, in
    the order they let them in (two slots freed at once let two threads go, in either order: what
    they send shows their race, not the order the slots were given in)."""

    def __init__(self, limit: int) -> None:
        super().__init__(limit)
        self.calls: list[int] = []

    def _let_in(self) -> None:
        waiting = list(self._line)
        super()._let_in()
        let_in = sorted((w for w in waiting if w.let_in), key=lambda w: w.place)
        self.calls += [w.place[0][1] for w in let_in]


def test_the_chunk_handed_in_first_is_written_first(
    sandbox: Any, erp: FnoConnector, http: httpx.Client
) -> None:
    """Two chunk writes at once, five $batch requests each, two in flight: every request of the
    first goes before any of the second (taken as they came, the second's took the slots between
    the first's: its fifth is asked only once one of its four threads is free again), so the
    first ends a full round before the second."""
    erp.batch_size, erp.concurrency = 2, 2
    slots = erp._session.in_flight = _Given(2)

    def chunk(tag: str) -> list[WriteOp]:
        return [
            WriteOp(
                OpKind.UPSERT,
                {"dataAreaId": "usmf", "CustomerAccount": f"ORD{tag}{n}"},
                {"OrganizationName": f"Order {tag}{n}", "CustomerGroupId": "10", "SalesCurrencyCode": "USD"},
                exists=False,
            )
            for n in range(10)
        ]

    sent: list[str] = []

    def record(request: httpx.Request) -> None:
        if request.url.path.endswith("$batch"):  # not the token
            sent.append("A" if b"ORDA" in request.read() else "B")

    http.event_hooks = {"request": [record], "response": []}
    faults(sandbox, "erp", latency_ms=120)
    ended: dict[str, float] = {}
    try:

        def write(tag: str) -> None:
            results = erp.write("CustomersV3", chunk(tag))
            assert all(r.ok for r in results), [str(r.error) for r in results if not r.ok]
            ended[tag] = time.monotonic()

        first = threading.Thread(target=write, args=("A",), daemon=True)
        first.start()
        time.sleep(0.03)  # the first chunk's requests are in line
        second = threading.Thread(target=write, args=("B",), daemon=True)
        second.start()
        first.join(30)
        second.join(30)
    finally:
        http.event_hooks = {"request": [], "response": []}
        faults(sandbox, "erp")
    assert sorted(sent) == ["A"] * 5 + ["B"] * 5 and sent[:4] == ["A"] * 4, sent
    # the first's two went at once; its three others were let in before any of the second's five
    a, b = sorted(set(slots.calls))
    assert slots.calls == [a] * 3 + [b] * 5, slots.calls
    assert ended["B"] - ended["A"] > 0.1  # a round of 120 ms latency at least


def test_a_request_interrupted_while_waiting_leaves_the_line() -> None:
    """One waiting in line and interrupted (an error raised into its wait) must not hold up the
    others: they go as the slot frees."""
    slots = InFlight(1)
    slots.__enter__()
    interrupted = threading.Event()

    class Stop(Exception):
        pass

    def first() -> None:
        in_write_order(0, 1)  # first in line
        try:
            with slots:
                pass
        except Stop:
            interrupted.set()

    went: list[str] = []
    t1 = threading.Thread(target=first, daemon=True)
    t1.start()
    _waiting(slots, 1)
    t2 = threading.Thread(
        target=lambda: (in_write_order(0, 2), slots.__enter__(), went.append("second")), daemon=True
    )
    t2.start()
    _waiting(slots, 2)
    # raise into the first waiter's wait (as an interrupt would), then wake it to take it
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(t1.ident or 0), ctypes.py_object(Stop))
    with slots._lock:
        for entry in slots._line:
            entry.wake.notify()
    t1.join(5)
    assert interrupted.is_set()
    slots.__exit__(None, None, None)
    t2.join(5)
    assert went == ["second"] and slots._line == []
