"""The scheduler of ``p2c serve``: starts each project's runs on its schedule, never overlapping.

Every ``tick`` seconds, for each project with a ``schedule:`` —

- the first time (or when the schedule changed) it plans the next run time and stores it
  (``schedules`` table), so a restarted service knows what it missed;
- when the time has come: a paused project does not run (the next time is planned); a project
  being synchronised (a run of this service, or of ``p2c run`` anywhere: the store's lock) is not
  started twice — the scheduled run is recorded as SKIPPED with who holds the project; otherwise
  the run starts. After downtime that missed several times, one catch-up run starts, and the next
  time counts from now.

It also delivers held alerts (the digest), warns when a project has had no successful run for
``alerts.stale_hours``, and deletes history older than ``settings.history_days`` (hourly).
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timedelta

from p2c.errors import P2CError
from p2c.service.projects import ProjectEntry
from p2c.service.runner import ProjectBusyError
from p2c.service.service import Service
from p2c.store import ProjectLockedError, ProjectPausedError, Trigger, now

__all__ = ["Scheduler"]

log = logging.getLogger("p2c.scheduler")
HOUSEKEEPING = timedelta(hours=1)


class Scheduler:
    def __init__(self, service: Service, *, tick: float = 0.5) -> None:
        self.service = service
        self.tick = tick
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._housekept: dict[str, datetime] = {}

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="p2c-scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)

    def _loop(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                self.once(now())
            except Exception:  # the loop must go on: log and try again next tick
                log.exception("scheduler tick failed")
            self._stop.wait(max(0.0, self.tick - (time.monotonic() - started)))

    def once(self, at: datetime) -> None:
        for entry in self.service.projects:
            try:
                self._project(entry, at)
            except P2CError as exc:
                log.warning("project %s: %s", entry.name, exc)
        for alerter in list(self.service.alerters.values()):
            alerter.flush()

    def _project(self, entry: ProjectEntry, at: datetime) -> None:
        project = entry.current()
        if project is None:
            return
        store = self.service.projects.store(project)
        last = self._housekept.get(entry.name)
        if last is None or at - last >= HOUSEKEEPING:
            self._housekept[entry.name] = at
            self._housekeeping(entry, at)
        schedule = project.schedule
        if schedule is None:
            return
        state = store.schedule_state(project.name)
        if state is None or state.spec != schedule.text or state.next_run_at is None:
            store.set_schedule(project.name, schedule.text, schedule.next_after(at), at)
            return
        if state.next_run_at > at:
            return
        planned, following = state.next_run_at, schedule.next_after(at)
        run_id = None
        try:
            live = self.service.start_run(entry.name, trigger=Trigger.SCHEDULE, tasks=schedule.tasks)
            run_id = live.run_id
            late = (now() - planned).total_seconds()
            self.service.metrics.lateness.labels(project.name).observe(max(0.0, late))
            log.info(
                "project %s: scheduled run %s started %.2f s after %s", project.name, run_id, late, planned
            )
        except ProjectPausedError:
            log.info("project %s is paused: the run of %s does not start", project.name, planned)
        except (ProjectLockedError, ProjectBusyError) as exc:
            run_id = store.record_skipped_run(
                project.name, list(schedule.tasks), Trigger.SCHEDULE, f"not started: {exc}", at
            )
            log.warning("project %s: scheduled run skipped: %s", project.name, exc)
        finally:
            store.set_schedule(project.name, schedule.text, following, now(), last_run_id=run_id)

    def _housekeeping(self, entry: ProjectEntry, at: datetime) -> None:
        project = entry.require()
        store = self.service.projects.store(project)
        runs, outcomes = store.purge(project.name, at - timedelta(days=project.settings.history_days))
        if runs or outcomes:
            log.info(
                "project %s: history older than %s days deleted (%s runs, %s records)",
                project.name,
                project.settings.history_days,
                runs,
                outcomes,
            )
        self.service.stale(entry, at)
        self.service.metrics.project_state(project.name, store, project)
