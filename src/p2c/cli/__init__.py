"""The ``p2c`` command line (Typer): thin commands that parse, call one function and map errors to exit codes."""

from p2c.cli.app import app, main

__all__ = ["app", "main"]
