"""The sync engine: runs a project's tasks against two connectors, recording everything in the store.

>>> from p2c.engine import Engine, RunReport, TaskReport   # doctest: +SKIP
"""

from p2c.engine.connect import Connectors, ProjectSession, open_connectors, open_project
from p2c.engine.hashing import content_hash
from p2c.engine.run import Engine, RunReport
from p2c.engine.task import PlannedRecord, TaskReport

__all__ = [
    "Connectors",
    "Engine",
    "PlannedRecord",
    "ProjectSession",
    "RunReport",
    "TaskReport",
    "content_hash",
    "open_connectors",
    "open_project",
]
