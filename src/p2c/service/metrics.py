"""Prometheus metrics of ``p2c serve`` (``GET /metrics``, text format).

Counted after each run the service starts, from the run's report: records by project, task and
fate; requests by service and HTTP status code; throttled requests and retries; run durations.
Gauges per project, set after each run and at each scrape: the last successful run's time, records
failing now, records waiting for a parent, whether paused. Also how late scheduled runs start.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from p2c.store import COUNTERS, StateStore

__all__ = ["CONTENT_TYPE_LATEST", "ServiceMetrics"]


class ServiceMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.records = Counter(
            "p2c_records", "Records by what became of them", ["project", "task", "action"], registry=r
        )
        self.requests = Counter(
            "p2c_requests",
            "Requests to the CRM and ERP by HTTP status code",
            ["project", "service", "status"],
            registry=r,
        )
        self.throttled = Counter(
            "p2c_throttled_requests", "Requests answered 429", ["project", "service"], registry=r
        )
        self.retries = Counter("p2c_retries", "Requests sent again", ["project", "service"], registry=r)
        self.runs = Counter("p2c_runs", "Runs by status", ["project", "status"], registry=r)
        self.duration = Histogram(
            "p2c_run_duration_seconds",
            "How long runs took",
            ["project"],
            buckets=(1, 5, 15, 60, 300, 900, 3600, 4 * 3600),
            registry=r,
        )
        self.last_success = Gauge(
            "p2c_last_success_timestamp_seconds",
            "When the last successful run ended",
            ["project"],
            registry=r,
        )
        self.open_failures = Gauge("p2c_open_failures", "Records failing now", ["project"], registry=r)
        self.waiting = Gauge("p2c_waiting_records", "Records waiting for a parent", ["project"], registry=r)
        self.paused = Gauge("p2c_project_paused", "1 while the project is paused", ["project"], registry=r)
        self.lateness = Histogram(
            "p2c_schedule_lateness_seconds",
            "How long after its planned time a scheduled run started",
            ["project"],
            buckets=(0.1, 0.25, 0.5, 1, 2, 5, 15, 60),
            registry=r,
        )

    def run_finished(self, project: str, report: Any) -> None:
        """Count a finished run (a :class:`p2c.engine.RunReport`)."""
        self.runs.labels(project, str(report.status)).inc()
        self.duration.labels(project).observe(report.seconds)
        for t in report.tasks:
            for action in COUNTERS[1:]:
                n = getattr(t, action, 0)
                if n:
                    self.records.labels(project, t.task, action).inc(n)
        for service, stats in (report.http or {}).items():
            for code, n in (stats.get("status") or {}).items():
                self.requests.labels(project, service, str(code)).inc(n)
            if stats.get("connection_errors"):
                self.requests.labels(project, service, "none").inc(stats["connection_errors"])
            self.throttled.labels(project, service).inc(stats.get("throttled", 0))
            self.retries.labels(project, service).inc(stats.get("retries", 0))

    def project_state(self, project: str, store: StateStore, loaded: Any) -> None:
        """Set a project's gauges from the store (``loaded``: the :class:`p2c.project.Project`)."""
        tasks = [t.name for t in loaded.tasks]
        status = store.task_status(tasks)
        self.open_failures.labels(project).set(sum(s.failing for s in status))
        self.waiting.labels(project).set(sum(s.waiting for s in status))
        self.paused.labels(project).set(1 if store.project_state(project).paused else 0)
        success = store.last_success(project)
        if success is not None:
            self.last_success.labels(project).set(success.timestamp())

    def text(self) -> bytes:
        return generate_latest(self.registry)
