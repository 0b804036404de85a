"""The projects a service runs: each ``p2c.yaml``, loaded again when the file changes.

A project whose file does not load stays listed with its error (file, line, reason), runs
nothing, and is loaded again on the next look after it was fixed. A store is opened once per
state URL and shared by the projects that use it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

from p2c.errors import ConfigError, P2CError
from p2c.project import Project, load_project
from p2c.store import StateStore

__all__ = ["ProjectEntry", "Projects"]


@dataclass
class ProjectEntry:
    """One served project: its file, the loaded project (None while the file does not load), the
    load error, and the file's modification time when it was loaded."""

    path: Path
    name: str
    project: Project | None = None
    error: str | None = None
    mtime: float = -1.0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def current(self) -> Project | None:
        """The project as its file says now (loaded again when the file changed)."""
        with self.lock:
            try:
                mtime = self.path.stat().st_mtime
            except OSError as exc:
                self.project, self.error = None, f"{self.path}: {exc.strerror}"
                return None
            if mtime != self.mtime:
                self.mtime = mtime
                try:
                    self.project, self.error = load_project(self.path), None
                except P2CError as exc:
                    self.project, self.error = None, str(exc)
            return self.project

    def require(self) -> Project:
        project = self.current()
        if project is None:
            raise ConfigError(self.error or f"{self.path} does not load", entity=str(self.path))
        return project


class Projects:
    """The service's projects by name, and their stores."""

    def __init__(self, paths: list[Path]) -> None:
        self.entries: dict[str, ProjectEntry] = {}
        for path in paths:
            entry = ProjectEntry(path.resolve(), path.stem)
            project = entry.current()
            if project is None:
                raise ConfigError(entry.error or f"{path} does not load", entity=str(path))
            entry.name = project.name
            if project.name in self.entries:
                raise ConfigError(
                    f"two projects are named {project.name!r} ({self.entries[project.name].path} and {path})",
                    entity=str(path),
                )
            self.entries[project.name] = entry
        self._stores: dict[str, StateStore] = {}
        self._lock = threading.Lock()

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(list(self.entries.values()))

    def get(self, name: str) -> ProjectEntry:
        entry = self.entries.get(name)
        if entry is None:
            raise KeyError(name)
        return entry

    def store(self, project: Project) -> StateStore:
        with self._lock:
            store = self._stores.get(project.state_url)
            if store is None:
                store = self._stores[project.state_url] = StateStore(project.state_url)
            return store

    def close(self) -> None:
        with self._lock:
            for store in self._stores.values():
                store.close()
            self._stores.clear()
