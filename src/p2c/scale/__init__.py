"""Scale-out: a run's tasks as work items on Celery workers, with leases and a shared request budget.

``queue`` (the Celery app and its one task), ``worker`` (what ``p2c worker`` does with an item),
``coordinator`` (a queued run: recorded and locked by the process that queues it), ``budget``
(one request budget per environment in Redis). Read ``docs/scale-out.md`` first.
"""
