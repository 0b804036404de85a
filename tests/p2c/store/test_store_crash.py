"""kill -9 while committing batches: the store holds every batch whole or not at all."""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable

from p2c.store import Action, RunStatus, StateStore

BATCH = 300

# Batch i: BATCH outcomes and links "b<i>-<j>", deletes the link "b<i-1>-0", cursor "<i>".
# With argv[2] = N, batch N stops inside its transaction (outcomes, counters, cursor written, links
# not yet) and says "inside"; the test kills it there.
WORKER = f"""
import sys, time
from decimal import Decimal
from sqlalchemy import event
from p2c.store import Action, Link, Outcome, StateStore, now

store = StateStore(sys.argv[1])
stop_in = int(sys.argv[2])
run = store.start_run("crash", ["t"])
tr = store.start_task(run, "t")
print("run", run, flush=True)
row = {{"name": "Contoso " * 20, "price": Decimal("10.10")}}
i = -1

def pause(conn, cursor, statement, *args):
    if i == stop_in and statement.startswith("INSERT INTO links"):
        print("inside", i, flush=True)
        time.sleep(60)

event.listen(store.engine, "before_cursor_execute", pause)
for i in range(100_000):
    keys = [f"b{{i}}-{{j}}" for j in range({BATCH})]
    store.commit_batch(
        tr,
        [Outcome("t", k, Action.CREATED, target_key="T" + k, source_row=row, target_payload=row) for k in keys],
        [Link("t", k, "T" + k, "h", now()) for k in keys],
        deleted_links=[("t", f"b{{i - 1}}-0")] if i else [],
        cursor=("t", str(i)),
        read={BATCH},
    )
    sys.stdout.write(f"committed {{i}}\\n")
    sys.stdout.flush()
"""


def batch_of(key: str) -> int:
    m = re.fullmatch(r"b(\d+)-\d+", key)
    assert m, key
    return int(m.group(1))


def kill_while_committing(url: str, after: int, inside: bool, rng: random.Random) -> tuple[int, int]:
    """Run the worker until it acknowledged ``after`` batches, then kill -9 it: inside the
    transaction of the next batch, or at a random moment; returns (run id, last acknowledged batch)."""
    stop_in = after + 1 if inside else -1
    proc = subprocess.Popen(
        [sys.executable, "-c", WORKER, url, str(stop_in)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    try:
        run_line = proc.stdout.readline()
        assert run_line.startswith("run "), run_line
        acked = -1
        while acked < after:
            line = proc.stdout.readline()
            assert line.startswith("committed "), line
            acked = int(line.split()[1])
        if inside:
            assert proc.stdout.readline() == f"inside {stop_in}\n"
        else:
            time.sleep(rng.uniform(0, 0.05))
        os.kill(proc.pid, signal.SIGKILL)
        for line in proc.stdout:
            if not line.endswith("\n"):
                break  # killed while printing: that batch was never acknowledged
            assert line.startswith("committed "), line
            acked = int(line.split()[1])
    finally:
        proc.kill()
        proc.wait(timeout=30)
        proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL
    return int(run_line.split()[1]), acked


def test_kill_9_leaves_whole_batches(store_url: str, open_store: Callable[[], StateStore]) -> None:
    rng = random.Random(os.getpid())
    for inside in (True, False):
        run_id, acked = kill_while_committing(store_url, after=3, inside=inside, rng=rng)
        store = open_store()  # recovery (WAL replay on SQLite) happens here

        outcomes = store.outcomes(run_id)
        per_batch = Counter(batch_of(o.source_key) for o in outcomes)
        last = max(per_batch)
        # Every batch either whole or absent; batches are sequential, so 0..last are all there.
        assert set(per_batch) == set(range(last + 1)) and set(per_batch.values()) == {BATCH}
        assert acked <= last <= acked + 1  # the batch being committed at the kill: in or out, whole
        if inside:
            assert last == acked  # killed mid-transaction: the half-written batch is gone
        assert all(o.action is Action.CREATED for o in outcomes)

        links = {lk.source_key for lk in store.all_links("t") if lk.source_key.startswith("b")}
        expected = {f"b{i}-{j}" for i in range(last + 1) for j in range(BATCH)} - {
            f"b{i}-0" for i in range(last)
        }
        assert links == expected
        assert store.cursor("t") == str(last)
        [task_run] = store.task_runs(run_id)
        assert (task_run.counts.created, task_run.counts.read) == (BATCH * (last + 1), BATCH * (last + 1))

        assert store.mark_crashed_runs("crash") == [run_id]
        info = store.run(run_id)
        assert info is not None and info.status is RunStatus.CRASHED
        # Next attempt starts clean: links of the next worker use the same keys, so drop them.
        with store.engine.begin() as conn:
            conn.exec_driver_sql("DELETE FROM links")
