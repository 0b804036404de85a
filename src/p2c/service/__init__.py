"""The service behind ``p2c serve``: projects run on their schedules, with an API, alerts and metrics.

- :class:`Service` — everything the REST API and the console do (``service.py``);
- :class:`Runner` — runs in threads, one per project at a time, live progress (``runner.py``);
- :class:`Scheduler` — schedules, skipped runs, alert digests, retention (``scheduler.py``);
- :class:`Projects` — the served ``p2c.yaml`` files, loaded again when they change;
- :class:`Tokens` — who may call the API; :class:`ServiceMetrics` — ``/metrics``.
"""

from p2c.service.metrics import ServiceMetrics
from p2c.service.projects import ProjectEntry, Projects
from p2c.service.runner import LiveRun, ProjectBusyError, Runner
from p2c.service.scheduler import Scheduler
from p2c.service.service import NotFound, Service
from p2c.service.tokens import ApiToken, Tokens

__all__ = [
    "ApiToken",
    "LiveRun",
    "NotFound",
    "ProjectBusyError",
    "ProjectEntry",
    "Projects",
    "Runner",
    "Scheduler",
    "Service",
    "ServiceMetrics",
    "Tokens",
]
