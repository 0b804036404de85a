"""Mapping another task's records without writing them: what would fail, before anything is sent.

A quote or an order is not sent while one of its lines cannot be (issue: documents are never
half-written when the failure is known beforehand). The header task asks, through its flow's
``ctx.trial``, which of its headers have a line that would fail; this module answers by running
the line task's own stages — read by header, prepare, resolve, map — with a write stage that
records nothing anyone keeps.
"""

from __future__ import annotations

from collections.abc import Sequence

from p2c.engine.context import RunContext
from p2c.engine.pipeline import TaskPipeline
from p2c.engine.planning import map_rows
from p2c.engine.writes import Recorder
from p2c.errors import P2CError
from p2c.flows import Prepared

__all__ = ["LineTrial"]


class LineTrial:
    """:class:`p2c.flows.TrialMap` over a run's context."""

    def __init__(self, ctx: RunContext) -> None:
        self.ctx = ctx
        self._pipelines: dict[str, TaskPipeline] = {}

    def problems(self, task: str, field: str, values: Sequence[str]) -> dict[str, str]:
        wanted = sorted({v for v in values if v})
        if not wanted:
            return {}
        pipeline = self._pipelines.get(task)
        if pipeline is None:
            spec = next(t for t in self.ctx.project.tasks if t.name == task)
            pipeline = self._pipelines[task] = TaskPipeline(self.ctx, spec, Recorder(self.ctx.resolver))
        reader = pipeline.reader
        rows = [
            r
            for page in reader.conn.read_by_values(
                reader.task.source.entity, field, wanted, select=pipeline.select()
            )
            for r in page
        ]
        if reader.before_filter is not None:
            reader.before_filter(rows)
        rows = [r for r in rows if reader.keep(r)]
        found: dict[str, str] = {}
        for key, row, result in map_rows(pipeline, rows, Prepared(), [], past_waits=True):
            if not isinstance(result, P2CError):
                continue
            parent = str(row.get(field) or "").lower()
            found.setdefault(parent, f"line {key} ({result.field or 'record'}): {result.reason}")
        return found
