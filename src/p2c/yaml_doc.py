"""YAML as p2c reads it: YAML 1.2 booleans, exact decimals, line numbers, errors naming file:line and key path.

Every p2c file (connections, templates, projects, the catalog) goes through :func:`load_yaml`,
which differs from ``yaml.safe_load`` in three ways that matter for business data:

- only ``true``/``false`` are booleans: ``Yes``, ``No``, ``on`` and ``off`` stay strings, because
  ``Yes`` is an F&O enum member (``IsExternallyMaintained: {const: Yes}``) and ``NO`` is Norway;
- numbers with a fraction are :class:`~decimal.Decimal`, never float (``SalesPrice: 3.33``);
- a duplicate key is an error instead of silently keeping the last value.

The returned :class:`YamlDoc` remembers the line of every key, so an error found long after
parsing can still say where it is::

    >>> doc = parse_yaml("tasks:\\n  Accounts:\\n    filter: x eq\\n", "p2c.yaml")
    >>> doc.line(("tasks", "Accounts", "filter"))
    3
    >>> str(doc.error("bad filter", ("tasks", "Accounts", "filter")))
    'p2c.yaml:3: tasks.Accounts.filter: bad filter'
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from p2c.errors import ConfigError

__all__ = ["KeyPath", "YamlDoc", "format_path", "load_yaml", "parse_yaml", "validation_error"]

KeyPath = tuple[str | int, ...]


class _Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 booleans and Decimal floats (see the module docstring)."""


_BOOL_TAG = "tag:yaml.org,2002:bool"
_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != _BOOL_TAG]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(_BOOL_TAG, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))


def _construct_decimal(loader: yaml.SafeLoader, node: yaml.Node) -> Decimal:
    text = str(loader.construct_scalar(node)).replace("_", "").lower()  # type: ignore[arg-type]
    special = {".inf": "Infinity", "+.inf": "Infinity", "-.inf": "-Infinity", ".nan": "NaN"}
    try:
        return Decimal(special.get(text, text))
    except InvalidOperation:  # pragma: no cover - the resolver only matches numbers
        raise yaml.constructor.ConstructorError(None, None, f"bad number {text!r}", node.start_mark) from None


_Loader.add_constructor("tag:yaml.org,2002:float", _construct_decimal)

_PLAIN_KEY = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$-]*$")


def format_path(path: Sequence[str | int]) -> str:
    """``("tasks", "Accounts", "fields", "X")`` → ``tasks.Accounts.fields.X``; odd keys are quoted.

    >>> format_path(("value_maps", "country", "United States", 0))
    'value_maps.country["United States"][0]'
    """
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _PLAIN_KEY.match(part):
            out += f".{part}" if out else part
        else:
            out += f'["{part}"]'
    return out


@dataclass(frozen=True)
class YamlDoc:
    """A parsed YAML file: its data, display name and the line of every key path."""

    data: Any
    name: str
    lines: Mapping[KeyPath, int] = field(default_factory=dict, repr=False)
    path: Path | None = None

    def line(self, keypath: Sequence[str | int]) -> int | None:
        """The line of ``keypath``, or of its longest prefix this file has (1-based)."""
        parts = tuple(keypath)
        while parts:
            # keys are stored as text: a value-map key 1 is "1" in the index
            line = self.lines.get(tuple(p if isinstance(p, int) else str(p) for p in parts))
            if line is not None:
                return line
            parts = parts[:-1]
        return self.lines.get((), None)

    def error(self, reason: str, keypath: Sequence[str | int] = ()) -> ConfigError:
        """A ConfigError naming ``file:line``, the key path and the reason."""
        return config_error(reason, self.name, keypath, self.line(keypath))


def config_error(reason: str, name: str, keypath: Sequence[str | int], line: int | None) -> ConfigError:
    where = f"{name}:{line}" if line else name
    dotted = format_path(keypath)
    return ConfigError(
        reason,
        entity=where,
        field=dotted or None,
        detail={"file": name, "line": line, "path": dotted},
    )


def load_yaml(path: Path, name: str | None = None) -> YamlDoc:
    """Read and parse ``path``; a missing or unreadable file is a ConfigError."""
    display = name or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("file not found", entity=display) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the file: {exc}", entity=display) from None
    return parse_yaml(text, display, path)


def parse_yaml(text: str, name: str, path: Path | None = None) -> YamlDoc:
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        lines: dict[KeyPath, int] = {}
        if node is not None:
            lines[()] = node.start_mark.line + 1
            _index(node, (), lines, name)
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        reason = f"invalid YAML: {exc.problem or exc.context}"
        raise config_error(reason, name, (), line) from None
    except yaml.YAMLError as exc:  # pragma: no cover - every PyYAML error we know is marked
        raise ConfigError(f"invalid YAML: {exc}", entity=name) from None
    finally:
        loader.dispose()
    return YamlDoc(data, name, lines, path)


def _index(node: yaml.Node, prefix: KeyPath, lines: dict[KeyPath, int], name: str) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                continue
            key = str(key_node.value)
            path = (*prefix, key)
            line = key_node.start_mark.line + 1
            if key in seen and key != "<<":
                raise config_error(f"duplicate key '{key}'", name, path, line)
            seen.add(key)
            lines[path] = line
            _index(value_node, path, lines, name)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            path = (*prefix, i)
            lines[path] = item.start_mark.line + 1
            _index(item, path, lines, name)


def _allowed_keys(model: type[BaseModel], loc: Sequence[str | int]) -> list[str]:
    """The keys a model accepts at ``loc`` (for 'did you mean'); [] when it cannot tell."""
    current: Any = model
    for part in loc:
        if isinstance(current, type) and issubclass(current, BaseModel):
            info = current.model_fields.get(str(part))
            if info is None:
                return []
            current = _unwrap(info.annotation)
        else:
            current = _unwrap(getattr(current, "__args__", (None,))[-1])
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _unwrap(annotation: Any) -> Any:
    # Optional[Model] / Model | None -> Model; dict[str, Model] stays for the next step
    args = [a for a in getattr(annotation, "__args__", ()) if a is not type(None)]
    if getattr(annotation, "__origin__", None) is None and len(args) == 1:
        return args[0]
    if type(annotation).__name__ == "UnionType" and len(args) == 1:
        return args[0]
    return annotation


def suggest(word: str, choices: Sequence[str]) -> str:
    """`` (did you mean 'x'?)`` when a close match exists, else ''."""
    import difflib

    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.75)
    if not close:
        lowered = {c.lower(): c for c in choices}
        if word.lower() in lowered:
            close = [lowered[word.lower()]]
    return f" (did you mean '{close[0]}'?)" if close else ""


def validation_error(
    exc: ValidationError, doc: YamlDoc, model: type[BaseModel], prefix: KeyPath = ()
) -> ConfigError:
    """One ConfigError for a pydantic error: the first problem, where it is, and how many more.

    Input values are never quoted (they may be secrets); the reason comes from the error type.
    """
    errors = exc.errors(include_url=False, include_input=False)
    first = errors[0]
    loc: KeyPath = tuple(p for p in first["loc"] if isinstance(p, str | int))
    kind = first["type"]
    if kind == "extra_forbidden":
        key = str(loc[-1]) if loc else "?"
        allowed = _allowed_keys(model, loc[:-1])
        reason = f"unknown key '{key}'{suggest(key, allowed)}"
        if allowed:
            reason += f"; allowed: {', '.join(allowed)}"
    elif kind == "missing":
        reason = f"required key '{loc[-1]}' is missing" if loc else "a required key is missing"
        loc = loc[:-1] if loc else loc
    else:
        reason = str(first["msg"]).removeprefix("Value error, ")
    more = len(errors) - 1
    if more:
        reason += f" (and {more} more problem{'s' if more > 1 else ''})"
    return doc.error(reason, (*prefix, *loc))
