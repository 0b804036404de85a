"""``p2c sandbox ...``: start, reset and drive the local sandbox.

The commands that act on a running sandbox find it through ``<DIR>/connections.yaml`` and use its
admin API (``/sandbox/...``); ``up`` is the only one that serves.
"""

from __future__ import annotations

import json
import logging
import ssl
from pathlib import Path
from typing import Any

import httpx
import typer
import yaml
from rich.console import Console
from rich.table import Table

from p2c_sandbox.config import SandboxConfig
from p2c_sandbox.dataverse.solution import SOLUTIONS

__all__ = ["app"]

app = typer.Typer(
    help="Run the local sandbox: emulated Entra ID, Dataverse (CRM) and F&O (ERP).", no_args_is_help=True
)
erp_app = typer.Typer(
    help="Business actions an ERP user would take (confirm, invoice, ...).", no_args_is_help=True
)
app.add_typer(erp_app, name="erp")
console = Console()
err = Console(stderr=True)

DataOpt = typer.Option(Path(".p2c-sandbox"), "--data", help="Directory for storage, CA and connections.yaml.")


def _seed_ok(seed: str, solution: str | None = None) -> str:
    """The seed spec; ``solution`` (or ``+name`` in it) adds a CRM solution such as Microsoft's P2C."""
    seed, _, given = seed.partition("+")
    solution = solution or given or None
    if solution is not None and solution not in SOLUTIONS:
        raise typer.BadParameter(f"unknown solution '{solution}': use {', '.join(SOLUTIONS)}")
    suffix = f"+{solution}" if solution else ""
    if seed in ("demo", "empty", "migrated"):
        return seed + suffix
    kind, _, count = seed.partition(":")
    if kind in ("large", "accounts") and count.isdigit() and int(count) > 0:
        return seed + suffix
    raise typer.BadParameter("use demo, migrated, empty, large:N or accounts:N (N a positive number)")


SolutionOpt = typer.Option(
    None,
    "--solution",
    help="Install a CRM solution with the seed: microsoft (Microsoft's P2C, msdynce_ columns).",
)


@app.command()
def up(
    data: Path = DataOpt,
    seed: str = typer.Option(
        "demo",
        help="Data on first start: demo, migrated (after Microsoft's P2C), empty, large:N or accounts:N.",
    ),
    solution: str | None = SolutionOpt,
    identity_port: int = typer.Option(8440, help="Port of the emulated Entra ID."),
    crm_port: int = typer.Option(8441, help="Port of the emulated Dataverse."),
    erp_port: int = typer.Option(8442, help="Port of the emulated F&O."),
    erp_release: str = typer.Option(
        "10.0.40", help="Emulate this F&O release (older ones lack some entities)."
    ),
    token_lifetime: int = typer.Option(3600, help="Access token lifetime in seconds."),
    latency_ms: int = typer.Option(
        0,
        "--latency-ms",
        min=0,
        help="Add this many milliseconds to every API request, as a real network and service do "
        "(a fault: `p2c sandbox faults crm latency_ms=N` changes it later).",
    ),
    protection: bool = typer.Option(
        True,
        "--protection/--no-protection",
        help="Service protection limits (52 concurrent, 6 000 requests per 5 minutes, per server).",
    ),
    split: bool = typer.Option(
        False,
        "--split",
        help="Serve the ERP from a process of its own, so the two services do not share one CPU "
        "(as a real Dataverse and F&O never do; benchmarks use it).",
    ),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log every request."),
) -> None:
    """Start the three servers on 127.0.0.1 and serve until Ctrl-C or SIGTERM."""
    from p2c_sandbox.server import Sandbox

    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    cfg = SandboxConfig(
        data_dir=data,
        seed=_seed_ok(seed, solution),
        identity_port=identity_port,
        crm_port=crm_port,
        erp_port=erp_port,
        erp_release=erp_release,
        token_lifetime_seconds=token_lifetime,
        latency_ms=latency_ms,
        protection=protection,
    )
    with console.status("preparing the sandbox (first start seeds the data)..."):
        try:
            sb = Sandbox(cfg, split=split)
        except OSError as exc:
            err.print(f"[red]error:[/red] {exc.strerror or exc}")
            raise typer.Exit(3) from exc
    t = Table(title="p2c sandbox", show_header=False)
    t.add_row("identity (Entra ID)", sb.identity_url)
    t.add_row("authority", sb.authority)
    t.add_row("CRM (Dataverse)", f"{sb.crm_url}/api/data/v9.2/")
    t.add_row("ERP (F&O)", f"{sb.erp_url}/data/")
    t.add_row("tenant id", sb.credentials.tenant_id)
    t.add_row("client id", sb.credentials.client_id)
    t.add_row("client secret", sb.credentials.client_secret)
    t.add_row("CA certificate", str(sb.ca_path))
    t.add_row("connections", str(data / "connections.yaml"))
    console.print(t)
    console.print("The client secret is the sandbox's own (not a real one). Ctrl-C stops the servers.")
    sb.run()
    console.print("sandbox stopped; data kept in " + str(data))


def _connections(data: Path) -> dict[str, Any]:
    path = data / "connections.yaml"
    if not path.exists():
        err.print(
            f"[red]error:[/red] {path} not found: start the sandbox with `p2c sandbox up --data {data}`"
        )
        raise typer.Exit(3)
    conns: dict[str, Any] = yaml.safe_load(path.read_text())
    return conns


def _admin(data: Path, which: str, method: str, path: str, body: Any = None) -> Any:
    conns = _connections(data)
    base = conns[which]["url"] + "/sandbox/"
    ca = conns[which].get("ca_bundle")
    verify: Any = ssl.create_default_context(cafile=ca) if ca else True
    try:
        with httpx.Client(base_url=base, verify=verify, timeout=300) as c:
            r = c.request(method, path, json=body)
    except httpx.ConnectError as exc:
        err.print(f"[red]error:[/red] the sandbox at {conns[which]['url']} is not running ({exc})")
        raise typer.Exit(3) from exc
    if r.status_code >= 400:
        try:
            msg = r.json().get("error", {}).get("message") or r.text
        except ValueError:
            msg = r.text
        err.print(f"[red]error:[/red] {method} /sandbox/{path}: {r.status_code} {msg}")
        raise typer.Exit(1)
    return r.json() if r.content else None


@app.command()
def reset(
    data: Path = DataOpt,
    seed: str = typer.Option(
        "demo", help="demo, migrated (after Microsoft's P2C), empty, large:N or accounts:N."
    ),
    solution: str | None = SolutionOpt,
) -> None:
    """Empty both services and load the seed again (on the running sandbox, or offline)."""
    seed = _seed_ok(seed, solution)
    conns_path = data / "connections.yaml"
    if conns_path.exists():
        try:
            for which in ("crm", "erp"):
                out = _admin(data, which, "POST", "reset", {"seed": seed})
                console.print(f"{which}: reset to '{seed}' in {out['seconds']} s")
            return
        except typer.Exit as exc:
            if exc.exit_code != 3:
                raise
            err.print("the sandbox is not running: resetting its storage offline")
    from p2c_sandbox.dataverse import DataverseService
    from p2c_sandbox.fno import FnoService

    cfg = SandboxConfig(data_dir=data, seed=seed)
    data.mkdir(parents=True, exist_ok=True)
    for name, cls in (("crm", DataverseService), ("erp", FnoService)):
        svc = cls(cfg, data / f"{name}.sqlite")
        svc.seed(seed)
        svc.close()
        console.print(f"{name}: reset to '{seed}'")


@app.command()
def faults(
    server: str = typer.Argument(..., help="crm or erp"),
    settings: list[str] = typer.Argument(
        None, help="name=value pairs, e.g. throttle_every=5 retry_after=2; 'off' switches all faults off"
    ),
    data: Path = DataOpt,
) -> None:
    """Show or switch the faults a server injects (429, 5xx, latency, dropped connections)."""
    if server not in ("crm", "erp"):
        raise typer.BadParameter("server must be crm or erp")
    if not settings:
        out = _admin(data, server, "GET", "faults")
    elif settings == ["off"]:
        out = _admin(data, server, "DELETE", "faults")
    else:
        values: dict[str, Any] = {}
        for item in settings:
            name, sep, value = item.partition("=")
            if not sep:
                raise typer.BadParameter(f"'{item}' is not name=value")
            values[name] = value
        out = _admin(data, server, "PUT", "faults", values)
    console.print_json(json.dumps(out))


def _order_action(
    action: str, company: str, order: str, data: Path, body: dict[str, Any] | None = None
) -> None:
    out = _admin(data, "erp", "POST", f"orders/{company}/{order}/{action}", body or {})
    console.print_json(json.dumps(out, default=str))


@erp_app.command()
def confirm(order: str, company: str = typer.Option("usmf"), data: Path = DataOpt) -> None:
    """Confirm a sales order."""
    _order_action("confirm", company, order, data)


@erp_app.command()
def pick(order: str, company: str = typer.Option("usmf"), data: Path = DataOpt) -> None:
    """Pick a confirmed sales order."""
    _order_action("pick", company, order, data)


@erp_app.command()
def deliver(order: str, company: str = typer.Option("usmf"), data: Path = DataOpt) -> None:
    """Post the packing slip (deliver) of a sales order."""
    _order_action("deliver", company, order, data)


@erp_app.command()
def invoice(order: str, company: str = typer.Option("usmf"), data: Path = DataOpt) -> None:
    """Invoice a sales order (creates the invoice header and lines)."""
    _order_action("invoice", company, order, data)


@erp_app.command()
def totals(order: str, company: str = typer.Option("usmf"), data: Path = DataOpt) -> None:
    """Run "calculate sales totals" for a sales order (sets AreTotalsUpdated)."""
    _order_action("calculate-totals", company, order, data)
