"""What every ``p2c`` engine command shares: the consoles, ``--project``, exit codes and errors.

Commands load the project (``--project``, default ``./p2c.yaml``) through :func:`project_session`
or :func:`load_project_file` and map errors to an exit code with :func:`exit_on_errors`: 0
success, 1 partial failure (some records failed), 2 usage or configuration error, 3 could not
run (a service unreachable, credentials refused, a task failed as a whole, another run holding
the project: :class:`p2c.store.ProjectLockedError`, a :class:`P2CError` like the others).
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape

from p2c.connectors import Redactor
from p2c.errors import AuthError, ConfigError, P2CError, TransientError

__all__ = [
    "EXIT_CANNOT_RUN",
    "EXIT_OK",
    "EXIT_PARTIAL",
    "EXIT_USAGE",
    "ProjectOpt",
    "console",
    "err",
    "exit_for",
    "exit_on_errors",
    "lean_gc",
    "lean_malloc",
    "load_project_file",
    "project_session",
]


def _width(stream: Any) -> int | None:
    """Piped into a log or CI, rich assumes 80 columns and cuts task names to "Order…"; a log has
    no width, so tables get room there (a terminal, or COLUMNS when set, still decides)."""
    return None if stream.isatty() or os.environ.get("COLUMNS") else 132


console = Console(width=_width(sys.stdout))
err = Console(stderr=True, width=_width(sys.stderr))
ProjectOpt = typer.Option(Path("p2c.yaml"), "--project", "-p", help="The project file.")

EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, EXIT_CANNOT_RUN = 0, 1, 2, 3


def exit_for(report: Any) -> int:
    """A run's or plan's exit code: 3 when a task could not run, 1 while records fail (in this run,
    or still from an earlier one), else 0."""
    if any(str(t.status) in ("failed", "interrupted") for t in report.tasks):
        return EXIT_CANNOT_RUN
    return EXIT_PARTIAL if report.failed or report.open_failures else EXIT_OK


def _fail(message: str, code: int) -> typer.Exit:
    err.print(f"[red]error:[/red] {escape(message)}")  # a message is text, not markup: [postgres] stays
    return typer.Exit(code)


@contextlib.contextmanager
def exit_on_errors(redactor: Redactor | None = None) -> Iterator[None]:
    """p2c errors inside become an ``error:`` line on stderr (secrets masked) and their exit code."""
    red = redactor or Redactor()
    try:
        yield
    except ConfigError as exc:
        raise _fail(red.text(str(exc)), EXIT_USAGE) from None
    except (AuthError, TransientError) as exc:
        raise _fail(red.text(str(exc)), EXIT_CANNOT_RUN) from None
    except P2CError as exc:
        raise _fail(red.text(str(exc)), EXIT_CANNOT_RUN) from None
    except FileExistsError as exc:
        raise _fail(str(exc), EXIT_USAGE) from None


#: glibc's mallopt parameter: how many malloc arenas the process's threads may spread over
M_ARENA_MAX = -8
#: the main arena and one shared by every other thread
ARENAS = 2


def lean_malloc() -> bool:
    """Caps glibc's malloc at :data:`ARENAS` arenas for this process; True when it took.

    glibc gives each new thread an arena of its own, up to 8 per core. The engine's threads (the
    read ahead, the window of chunks in flight, a pool per batched write) filled all 16 on a
    2-core machine, and each arena kept the memory its threads freed, scattered between live
    blocks it could not return: peak memory of Accounts was 177 MiB over 20 000 changed rows and
    227 MiB over 1 000 000, 50-70 MiB of it free inside those arenas (``mallinfo2``), growing as
    the run went on. Capped (``bench/memory.py``, same session): 141 and 175 MiB, and no fewer
    rows/s (1 221 over 1 000 000, 1 030 before): the threads mostly allocate holding the GIL, and
    small blocks come from each thread's own cache, so sharing an arena makes them wait little.

    glibc settles the number of arenas for good once a ninth is wanted, so commands call this
    before their first thread. False where there is no ``mallopt`` (not glibc: macOS)."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (AttributeError, OSError):
        return False
    return bool(mallopt(M_ARENA_MAX, ARENAS))


@contextlib.contextmanager
def lean_gc() -> Iterator[None]:
    """Python's cycle collector, made cheap for what follows: the objects alive now (modules, the
    loaded project, the store's and connectors' machinery) are frozen out of every collection.
    Each full collection walked them all again (a fifth of p2c's CPU in a run with no change).
    The thresholds stay Python's: a raised one (50 000) cost no less CPU than freezing alone and
    let cyclic garbage pile up (peak memory of Accounts over 20 000 rows 179 -> 247 MiB; frozen
    only, 182). Unfrozen on leaving, unless something froze the heap before (a sandbox running in
    this process freezes its seed): then it stays as that left it."""
    frozen = gc.get_freeze_count() > 0
    gc.freeze()
    try:
        yield
    finally:
        if not frozen:
            gc.unfreeze()


def load_project_file(path: Path) -> Any:
    from p2c.project import load_project

    if not path.exists():
        raise ConfigError(
            f"no project file here; create one with `p2c init` (looked for {path})", entity=str(path)
        )
    return load_project(path)


@contextlib.contextmanager
def project_session(project_path: Path) -> Iterator[tuple[Any, Any, Any, Redactor]]:
    """project, store, connectors, redactor — everything a command needs, closed afterwards."""
    from p2c.engine import open_project

    if not project_path.exists():
        raise ConfigError(
            f"no project file here; create one with `p2c init` (looked for {project_path})",
            entity=str(project_path),
        )
    with open_project(project_path) as session:
        yield session.project, session.store, session.connectors, session.redactor
