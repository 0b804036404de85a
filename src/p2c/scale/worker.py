"""What a ``p2c worker`` does with a delivered work item, and how the worker starts.

:func:`process_item` (the Celery task ``p2c.item``) claims the item's lease in the store; a
delivery that cannot (the item is leased by a live worker, already ended, or its run is over)
does nothing. Otherwise it runs the item's task inside its run (:func:`p2c.engine.items.run_item`)
with both connectors sending through the environment's shared request budget, renews the lease
every third of it while the task runs, and ends the item with the task's status. A lease it could
not renew (taken over, or the run stopped) sets the task's stop: it ends after its current chunk.

:func:`start_worker` runs a Celery worker in this process with a thread pool: items are mostly
waiting on the services, and a process killed takes all its items with it (no orphan children
still writing). Run one worker process per core.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

from p2c.connectors import RedactingFilter, Redactor
from p2c.errors import ConfigError, P2CError
from p2c.logs import log_context
from p2c.project import Project
from p2c.settings import System
from p2c.store import RunStatus, StateStore, holder_id

__all__ = ["WorkerConfig", "process_item", "require_postgres", "start_worker"]

log = logging.getLogger("p2c.worker")


def require_postgres(url: str) -> None:
    """Scale-out keeps its state in PostgreSQL: workers on several hosts share it."""
    if not url.startswith(("postgresql", "postgres:")):
        shown = url if "://" not in url else url.split("://", 1)[0] + "://..."
        raise ConfigError(
            f"scale-out needs its state in PostgreSQL (the project's state, or --store postgresql://...), "
            f"not {shown}: workers on several machines share runs, leases and links",
            field="state",
        )


@dataclass
class WorkerConfig:
    """What every item of this worker process uses: its store, budget, projects and lease."""

    store: str | None = None
    budget: str | None = None
    projects: dict[str, Path] = field(default_factory=dict)
    lease: timedelta = timedelta(seconds=60)
    _stores: dict[str, StateStore] = field(default_factory=dict, repr=False)
    _loaded: dict[tuple[str, float], tuple[Project, Redactor]] = field(default_factory=dict, repr=False)
    _budgets: dict[tuple[str, str, str], Any] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def project(self, name: str, path: str) -> tuple[Project, Redactor]:
        """The project ``name``: the file this worker was given for it, else the queued path."""
        from p2c.project import load_project

        file = self.projects.get(name) or Path(path)
        if not file.exists():
            raise ConfigError(
                f"this worker has no project {name}: give it --project FILE (looked for {file})",
                entity=name,
            )
        key = (str(file.resolve()), file.stat().st_mtime)
        with self._lock:
            if key not in self._loaded:
                loaded = load_project(file)
                redactor = Redactor()
                for handler in logging.getLogger().handlers:
                    handler.addFilter(RedactingFilter(redactor))
                self._loaded[key] = (loaded, redactor)
            return self._loaded[key]

    def state(self, project: Project) -> StateStore:
        return self.state_at(self.store or project.state_url)

    def state_at(self, url: str) -> StateStore:
        require_postgres(url)
        with self._lock:
            if url not in self._stores:
                self._stores[url] = StateStore(url)
            return self._stores[url]

    def budget_for(self, root: str, system: System, project: Project) -> Any:
        if self.budget is None:
            return None
        from p2c.scale.budget import STATE, connect_budget

        limits = getattr(project.settings.request_budget, system.value)
        url = project.state_url if self.budget == STATE else self.budget
        with self._lock:
            key = (url, root, repr(limits))
            if key not in self._budgets:
                self._budgets[key] = connect_budget(url, root, limits)
            return self._budgets[key]


#: Set by :func:`start_worker` (or a test) before the first item arrives.
CONFIG = WorkerConfig()


def process_item(
    item_id: int, project: str, path: str, full: bool, keys: Sequence[str] | None
) -> dict[str, Any]:
    """The Celery task: run work item ``item_id`` once, or do nothing if it is not ours to run."""
    from p2c.engine import Engine, open_connectors
    from p2c.engine.items import run_item
    from p2c.engine.share import Share

    cfg = CONFIG
    try:
        loaded, redactor = cfg.project(project, path)
    except P2CError as exc:  # no other worker would do better: the item fails, the run goes on
        log.error("item %s: %s", item_id, exc)
        if cfg.store is not None:
            cfg.state_at(cfg.store).finish_item(item_id, None, RunStatus.FAILED, message=str(exc))
        return {"item": item_id, "ran": False, "why": str(exc)}
    store = cfg.state(loaded)
    holder = holder_id()
    taken, item = store.claim_item(item_id, holder, cfg.lease)
    if item is None or not taken:
        why = "no such item" if item is None else f"{item.status}, held by {item.holder or 'nobody'}"
        log.info("item %s: this delivery does nothing (%s)", item_id, why)
        return {"item": item_id, "ran": False, "why": why}
    stop = threading.Event()
    done = threading.Event()

    def renew() -> None:
        every = cfg.lease.total_seconds() / 3
        while not done.wait(every):
            try:
                if not store.renew_item(item_id, holder, cfg.lease):
                    log.warning("item %s: lease lost or run over; stopping after the current chunk", item_id)
                    stop.set()
                    return
            except Exception:  # a store hiccup: the next beat tries again
                continue

    beat = threading.Thread(target=renew, name=f"p2c-item-{item_id}", daemon=True)
    beat.start()
    status, message, http, stopped = RunStatus.FAILED, None, None, None
    try:
        with (
            log_context(project=project, run_id=item.run_id, task=item.task),
            open_connectors(
                loaded.connections,
                redactor,
                batch_size=loaded.settings.batch_size,
                concurrency=loaded.settings.concurrency,
            ) as conns,
        ):
            for system, conn in ((System.CRM, conns.crm), (System.ERP, conns.erp)):
                conn.use_budget(cfg.budget_for(conn.service_root, system, loaded))
            engine = Engine(
                loaded, store, {System.CRM: conns.crm, System.ERP: conns.erp}, redactor=redactor, stop=stop
            )
            what = f"{item.task} (part {item.part})" if item.part else item.task
            log.info("item %s: %s of run %s (attempt %s)", item_id, what, item.run_id, item.attempts)
            report = run_item(
                engine,
                item.run_id,
                item.task,
                full=full,
                keys=keys,
                share=Share.parse(item.part) if item.part else None,
                on_task_start=partial(store.note_task_run, item_id, holder),
            )
        result = report.tasks[0]
        status, message, http, stopped = result.status, result.message, report.http, report.stopped
    except P2CError as exc:
        message = redactor.text(str(exc))
    except Exception as exc:  # a bug: the item fails, the run reports it; the message is acknowledged
        message = redactor.text(f"{type(exc).__name__}: {exc}")
        log.exception("item %s failed", item_id)
    finally:
        done.set()
        beat.join(5)
    store.finish_item(
        item_id, holder, status, message=message, requests={"http": http or {}, "stopped": stopped}
    )
    log.info("item %s: %s %s", item_id, item.task, status)
    return {"item": item_id, "ran": True, "status": str(status)}


def start_worker(
    broker: str,
    config: WorkerConfig,
    *,
    concurrency: int = 2,
    visibility_timeout: float = 3600.0,
    restore_every: float = 10.0,
    loglevel: str = "INFO",
) -> None:
    """Run a Celery worker in this process until it is stopped (SIGTERM: after its items)."""
    from p2c.scale.queue import celery_app, queue_name

    global CONFIG
    CONFIG = config
    if config.store is not None:
        require_postgres(config.store)
    app = celery_app(broker, visibility_timeout=visibility_timeout, restore_every=restore_every)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per request: p2c logs what matters
    name = f"p2c-{os.getpid()}@%h"
    app.worker_main(
        [
            "worker",
            "--pool=threads",
            f"--concurrency={concurrency}",
            f"--queues={queue_name()}",
            f"--hostname={name}",
            f"--loglevel={loglevel}",
            "--without-mingle",
            "--without-gossip",
            "--without-heartbeat",
        ]
    )
