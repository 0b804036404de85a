"""Fixtures of the project tests: a sandbox-shaped connections.yaml and a writer for project files."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from p2c_project_files import CONNECTIONS, SECRET


@pytest.fixture
def connections_file(tmp_path: Path) -> Path:
    (tmp_path / "ca.pem").write_text("not really a certificate\n")
    path = tmp_path / "connections.yaml"
    path.write_text(CONNECTIONS.format(secret=SECRET))
    return path


@pytest.fixture
def write(tmp_path: Path, connections_file: Path) -> Callable[..., Path]:
    """``write(text, name="p2c.yaml")`` writes a dedented file next to connections.yaml."""

    def _write(text: str, name: str = "p2c.yaml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text))
        return path

    return _write
