"""Projects and templates: YAML loaded into typed, validated objects with precise errors.

>>> from p2c.project import load_project   # doctest: +SKIP
"""

from p2c.project.build import Endpoint, Origin, Task, TaskDraft, build_task, check_filter
from p2c.project.load import (
    Project,
    Template,
    load_project,
    load_template,
    shipped_templates,
)
from p2c.project.models import (
    EndpointModel,
    KeyModel,
    ProjectModel,
    ProjectSettings,
    TaskModel,
    TaskOverrideModel,
    TemplateModel,
)
from p2c.project.ordering import run_after
from p2c.project.sandbox import write_sandbox_project
from p2c.project.schedule import Schedule

__all__ = [
    "Endpoint",
    "EndpointModel",
    "KeyModel",
    "Origin",
    "Project",
    "ProjectModel",
    "ProjectSettings",
    "Schedule",
    "Task",
    "TaskDraft",
    "TaskModel",
    "TaskOverrideModel",
    "Template",
    "TemplateModel",
    "build_task",
    "check_filter",
    "load_project",
    "load_template",
    "run_after",
    "shipped_templates",
    "write_sandbox_project",
]
