"""The Celery side of scale-out: one app, one task (``p2c.item``: run a work item), its settings.

A message carries only the item's id and where its project is — never a secret: the worker reads
the rest (the run, the task, the lease) from the store. The settings make a delivery survive its
worker: ``acks_late`` (a message is acknowledged once the item ended, not when received),
``task_reject_on_worker_lost`` (a worker process that dies puts its message back) and a prefetch
of 1 (a worker holds no message it is not running, so a killed worker strands nothing else).
On Redis a message not acknowledged within ``visibility_timeout`` is delivered again even if its
worker is alive; the item's lease makes that second delivery do nothing.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import Any

from celery import Celery

from p2c.errors import ConfigError

__all__ = ["TASK", "broker_url", "celery_app", "queue_name", "send_item"]

TASK = "p2c.item"


def queue_name() -> str:
    """The queue's name: ``P2C_QUEUE`` separates p2c installations (or tests) sharing one broker."""
    return os.environ.get("P2C_QUEUE", "p2c")


def broker_url(given: str | None) -> str:
    """The broker: ``given``, else ``P2C_BROKER``; a clear error when neither says."""
    url = given or os.environ.get("P2C_BROKER")
    if not url:
        raise ConfigError(
            "queued runs need a broker: give --broker redis://HOST:6379/0 (or amqp://...) or set P2C_BROKER",
            field="--broker",
        )
    if not url.startswith(("redis://", "rediss://", "amqp://", "amqps://", "pyamqp://")):
        raise ConfigError(
            f"the broker is Redis (redis://) or RabbitMQ (amqp://), not {url.split(':', 1)[0]}://",
            field="--broker",
        )
    return url


def celery_app(broker: str, *, visibility_timeout: float = 3600.0, restore_every: float = 10.0) -> Celery:
    """The app every p2c process (coordinator and workers) builds on ``broker``.

    ``visibility_timeout`` (Redis only): seconds before an unacknowledged message goes back to the
    queue; ``restore_every``: how often a worker looks for such messages."""
    from p2c.scale.worker import process_item

    app = Celery("p2c", broker=broker, set_as_current=False)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        task_default_queue=queue_name(),
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        worker_redirect_stdouts=False,
        worker_enable_remote_control=False,
        worker_send_task_events=False,
        broker_transport_options={
            "visibility_timeout": visibility_timeout,
            "unacked_restore_interval": restore_every,
            "unacked_restore_throttle": 1,
        },
    )
    app.task(name=TASK, acks_late=True, reject_on_worker_lost=True)(process_item)
    return app


def send_item(
    app: Celery,
    item_id: int,
    project: str,
    path: str,
    *,
    full: bool = False,
    keys: Iterable[str] | None = None,
    queue: str | None = None,
) -> None:
    """Put work item ``item_id`` of ``project`` (its file at ``path``) on the queue (``queue``:
    another than :func:`queue_name`)."""
    wanted: Sequence[str] | None = sorted(keys) if keys is not None else None
    args: list[Any] = [item_id, project, path, full, wanted]
    app.send_task(TASK, args=args, queue=queue or queue_name())
