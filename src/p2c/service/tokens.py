"""API tokens of ``p2c serve``: who may call it.

Every endpoint but ``/healthz`` asks for ``Authorization: Bearer <token>``. Tokens are named (the
name shows in logs and in what a person did: "paused by ops"); several may be valid at once. They
come from, in this order:

1. ``P2C_API_TOKENS`` in the environment: ``name=token,name2=token2`` (or ``P2C_API_TOKEN``: one
   token, named ``admin``);
2. ``--token-file F``: one ``name: token`` per line (``#`` comments), or a single token;
3. otherwise a file next to the first project, ``.p2c-api-tokens``, created on first start with
   one random token named ``admin``, readable by its owner only (mode 600).

A token file that others may read is refused (like ssh does with keys). Tokens are compared in
constant time, and never logged, shown or returned.
"""

from __future__ import annotations

import hmac
import os
import secrets
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from p2c.errors import ConfigError
from p2c.settings import Secret

__all__ = ["DEFAULT_TOKEN_FILE", "ApiToken", "Tokens"]

DEFAULT_TOKEN_FILE = ".p2c-api-tokens"
_MIN_LENGTH = 16


@dataclass(frozen=True)
class ApiToken:
    name: str
    secret: Secret


class Tokens:
    """The valid tokens; :meth:`check` tells whose a presented token is."""

    def __init__(self, tokens: list[ApiToken], source: str) -> None:
        if not tokens:
            raise ConfigError(f"{source}: no API token", entity=source)
        for t in tokens:
            if len(t.secret.get_secret_value()) < _MIN_LENGTH:
                raise ConfigError(
                    f"{source}: token {t.name!r} is shorter than {_MIN_LENGTH} characters", entity=source
                )
        self.tokens = tokens
        self.source = source  # where they came from (never the tokens themselves)

    def __repr__(self) -> str:
        return f"Tokens({[t.name for t in self.tokens]}, from {self.source})"

    def check(self, presented: str | None) -> str | None:
        """The name of the token ``presented`` is, or None. Every token is compared, in constant
        time, whatever matches first."""
        if not presented:
            return None
        found = None
        given = presented.encode()
        for t in self.tokens:
            if hmac.compare_digest(given, t.secret.get_secret_value().encode()):
                found = t.name
        return found

    # -- where tokens come from ---------------------------------------------------------------------

    @classmethod
    def load(
        cls, *, token_file: Path | None, default_dir: Path, env: Mapping[str, str] | None = None
    ) -> Tokens:
        environ = os.environ if env is None else env
        if environ.get("P2C_API_TOKENS"):
            return cls(_pairs(environ["P2C_API_TOKENS"].split(","), "P2C_API_TOKENS", "="), "P2C_API_TOKENS")
        if environ.get("P2C_API_TOKEN"):
            return cls([ApiToken("admin", Secret(environ["P2C_API_TOKEN"].strip()))], "P2C_API_TOKEN")
        path = token_file or default_dir / DEFAULT_TOKEN_FILE
        if token_file is None and not path.exists():
            generate(path)
        return cls.from_file(path)

    @classmethod
    def from_file(cls, path: Path) -> Tokens:
        if not path.is_file():
            raise ConfigError(f"{path}: token file not found", entity=str(path))
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise ConfigError(
                f"{path}: the token file may be read by others (mode {mode:o}); `chmod 600 {path}`",
                entity=str(path),
            )
        lines = [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines()]
        lines = [ln for ln in lines if ln and not ln.startswith("#")]
        if len(lines) == 1 and ":" not in lines[0]:
            return cls([ApiToken("admin", Secret(lines[0]))], str(path))
        return cls(_pairs(lines, str(path), ":"), str(path))


def generate(path: Path) -> str:
    """Write a new token file at ``path`` (mode 600) with one random token named admin; returns it."""
    token = secrets.token_urlsafe(32)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write("# p2c serve: API tokens, one 'name: token' per line; keep this file private\n")
        f.write(f"admin: {token}\n")
    return token


def _pairs(items: list[str], source: str, sep: str) -> list[ApiToken]:
    out: list[ApiToken] = []
    for n, item in enumerate(items, 1):
        name, found, token = item.partition(sep)
        if not found or not name.strip() or not token.strip():
            raise ConfigError(f"{source}: entry {n} is not 'name{sep} token'", entity=source)
        out.append(ApiToken(name.strip(), Secret(token.strip())))
    names = [t.name for t in out]
    if len(set(names)) != len(names):
        raise ConfigError(f"{source}: a token name is given twice", entity=source)
    return out
