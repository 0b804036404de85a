"""The sync engine: runs a project's tasks through the pipeline, every write through one stage.

Read the architecture in ``docs/architecture.md``; the modules, in the order a run uses them:
``run`` (the run: tasks in order) → ``context`` (what tasks share) → ``pipeline`` (the stages of
one task) with ``intake`` and ``reading`` (read), :mod:`p2c.flows` (prepare), ``related``
(resolve), :mod:`p2c.mapping` (map), ``binder`` and ``hashing`` (compare), ``target`` and
``writes`` (write), ``recording`` (record); ``share`` and ``items`` for a queued run's items.

>>> from p2c.engine import Engine, RunReport, TaskReport   # doctest: +SKIP
"""

from p2c.engine.connect import Connectors, ProjectSession, open_connectors, open_project
from p2c.engine.context import RunContext
from p2c.engine.hashing import content_hash
from p2c.engine.pipeline import TaskPipeline
from p2c.engine.reading import SourceReader
from p2c.engine.related import RelatedResolver
from p2c.engine.report import PlannedRecord, TaskReport
from p2c.engine.run import Engine, RunReport
from p2c.engine.writes import Recorder, Sender

__all__ = [
    "Connectors",
    "Engine",
    "PlannedRecord",
    "ProjectSession",
    "Recorder",
    "RelatedResolver",
    "RunContext",
    "RunReport",
    "Sender",
    "SourceReader",
    "TaskPipeline",
    "TaskReport",
    "content_hash",
    "open_connectors",
    "open_project",
]
