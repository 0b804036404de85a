"""The ``p2c`` command line. Thin: each command parses, calls one function, maps errors to exit codes.

Exit codes: 0 success, 1 partial failure (some records failed), 2 usage error, 3 could not run.
"""

from __future__ import annotations

import typer

from p2c import __version__

__all__ = ["app", "main"]

app = typer.Typer(
    help="p2c: Prospect-to-cash sync between Dynamics 365 Sales (Dataverse) and Supply Chain Management (F&O).",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"p2c {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version."
    ),
) -> None:
    """Prospect-to-cash sync engine."""


def _add_sandbox() -> None:
    # The CLI is the one place p2c reaches into the sandbox package (DESIGN.md).
    from p2c_sandbox.cli import app as sandbox_app

    app.add_typer(sandbox_app, name="sandbox")


_add_sandbox()


def _add_engine() -> None:
    from p2c.cli.engine import register

    register(app)


_add_engine()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
