"""Logging for people and for machines: ``--log-format json`` writes one JSON object per line.

Each line carries the time, level, logger and message, and — when the code that logged runs
inside them — the project, run id, task and record key set with :func:`log_context`
(context variables: each thread and each run has its own). Secrets are masked before a line is
written, as everywhere (:class:`p2c.connectors.RedactingFilter` on the handler).

Example::

    configure_logging("json")
    with log_context(project="contoso", run_id=12, task="Accounts"):
        logging.getLogger("p2c.engine").info("chunk written")
    # {"time": "2026-12-02T10:00:00.123Z", "level": "info", "logger": "p2c.engine",
    #  "message": "chunk written", "project": "contoso", "run_id": 12, "task": "Accounts"}
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

__all__ = ["JsonFormatter", "configure_logging", "log_context"]

_FIELDS = ("project", "run_id", "task", "record")
_context: contextvars.ContextVar[dict[str, Any]] = contextvars.ContextVar("p2c_log_context", default={})  # noqa: B039


@contextlib.contextmanager
def log_context(**values: Any) -> Iterator[None]:
    """Add ``values`` (project, run_id, task, record) to every log line written inside."""
    token = _context.set({**_context.get(), **{k: v for k, v in values.items() if v is not None}})
    try:
        yield
    finally:
        _context.reset(token)


class _ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in _context.get().items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record; the context's fields and a record's ``extra`` ones included."""

    def format(self, record: logging.LogRecord) -> str:
        at = datetime.fromtimestamp(record.created, UTC)
        out: dict[str, Any] = {
            "time": at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in _FIELDS:
            value = getattr(record, key, None)
            if value is not None:
                out[key] = value
        if record.exc_info:
            out["error"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False, default=str)


def configure_logging(fmt: str = "text", level: int = logging.INFO) -> logging.Handler:
    """One handler on the root logger, to stderr: ``text`` (a line per record) or ``json``."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_ContextFilter())
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    return handler
