"""The examples in the docstrings of the templates/projects/mapping/rules modules stay true."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "p2c.settings", "p2c.catalog", "p2c.project.load", "p2c.yaml_doc", "p2c.mapping.mapper",
    "p2c.mapping.transforms", "p2c.mapping.expression", "p2c.mapping.arithmetic",
    "p2c.rules", "p2c.rules.numbering",
    "p2c.rules.pricelist", "p2c.rules.duplicates",
]  # fmt: skip


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name))
    assert result.attempted > 0 and result.failed == 0
