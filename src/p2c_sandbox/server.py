"""Run the three emulated servers (identity, CRM, ERP) in one process, over HTTPS on loopback.

:class:`Sandbox` prepares the data directory (storage, CA, credentials, ``connections.yaml``),
binds the sockets (port 0 picks a free port, as tests do), and serves either in the foreground
until SIGINT/SIGTERM (``run``) or on a background thread (``start``/``stop``).

``split=True`` (``p2c sandbox up --split``) serves the ERP from a process of its own
(:mod:`p2c_sandbox.split`), so the two services do not share one CPU — a real Dataverse and a real
F&O never do, and a benchmark that reads one while writing the other would otherwise measure the
emulator's single event loop. The two services share no state; the child gets the ERP's socket
and the data directory, seeds or loads its own store, and ends with the parent.

Example::

    sb = Sandbox(SandboxConfig(data_dir=tmp, identity_port=0, crm_port=0, erp_port=0))
    sb.start()
    print(sb.crm_url)     # https://127.0.0.1:40123
    sb.stop()
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import orjson
import uvicorn
import yaml

from p2c_sandbox.app import ServiceApp
from p2c_sandbox.config import SandboxConfig, ServerCredentials
from p2c_sandbox.faults import Protection
from p2c_sandbox.identity import IdentityApp, TokenIssuer
from p2c_sandbox.service import Service
from p2c_sandbox.tls import ensure_certificates

__all__ = ["SERVERS", "Sandbox", "load_credentials"]

SERVERS = ("identity", "crm", "erp")

log = logging.getLogger("p2c_sandbox")


def load_credentials(data_dir: Path | None) -> ServerCredentials:
    """The app registration of this data directory, created on first use and kept (mode 600)."""
    if data_dir is None:
        return ServerCredentials()
    path = data_dir / "identity.json"
    if path.exists():
        return ServerCredentials(**orjson.loads(path.read_bytes()))
    creds = ServerCredentials()
    data_dir.mkdir(parents=True, exist_ok=True)
    path.write_bytes(orjson.dumps(asdict(creds), option=orjson.OPT_INDENT_2))
    path.chmod(0o600)
    return creds


class _QuietDrops(logging.Filter):
    """Injected dropped connections are the point of the fault, not an error worth a traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, ConnectionAbortedError)


logging.getLogger("uvicorn.error").addFilter(_QuietDrops())


class _Server(uvicorn.Server):
    """A uvicorn server that leaves signal handling to :class:`Sandbox` (three servers, one process)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _bind(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # accepted sockets inherit it: without it, Nagle + delayed ACK add 40 ms to every TLS response
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise OSError(
            exc.errno,
            f"cannot listen on {host}:{port}: {exc.strerror} (is another sandbox running? "
            "choose other ports with --identity-port/--crm-port/--erp-port)",
        ) from exc
    sock.listen(2048)
    sock.setblocking(False)
    return sock


class Sandbox:
    def __init__(
        self,
        config: SandboxConfig,
        *,
        split: bool = False,
        serve: tuple[str, ...] = SERVERS,
        sockets: dict[str, socket.socket] | None = None,
        urls: dict[str, str] | None = None,
    ) -> None:
        """``split``: the ERP is served by a process of its own, started by :meth:`run`;
        ``serve``, ``sockets``, ``urls``: that process's part (the servers it runs, their bound
        sockets, and every server's URL)."""
        from p2c_sandbox.dataverse import DataverseService
        from p2c_sandbox.fno import FnoService

        self.config = config
        self.split = split
        self.serving = tuple(n for n in serve if not (split and n == "erp"))
        data_dir = config.data_dir
        if data_dir is not None:
            data_dir.mkdir(parents=True, exist_ok=True)
        self.credentials = config.credentials or load_credentials(data_dir)
        self.scheme = "https" if config.tls else "http"
        ports = {"identity": config.identity_port, "crm": config.crm_port, "erp": config.erp_port}
        given = sockets or {}
        self._sockets = {name: given.get(name) or _bind(config.host, ports[name]) for name in serve}
        host = f"[{config.host}]" if ":" in config.host else config.host
        self.urls = {
            **(urls or {}),
            **{name: f"{self.scheme}://{host}:{s.getsockname()[1]}" for name, s in self._sockets.items()},
        }
        self.ssl_files: tuple[Path, Path, Path] | None = None
        if config.tls:
            cert_dir = data_dir if data_dir is not None else Path(".p2c-sandbox")
            self.ssl_files = ensure_certificates(cert_dir)
        self.issuer = TokenIssuer(self.credentials, self.urls["identity"], config.token_lifetime_seconds)
        store = (lambda n: data_dir / f"{n}.sqlite") if data_dir is not None else (lambda n: None)
        # the services this process serves, each seeded on first start or loaded from its store
        self.services: dict[str, Service] = {}
        if "crm" in self.serving:
            self.services["crm"] = DataverseService(config, store("crm"))
        if "erp" in self.serving:
            self.services["erp"] = FnoService(config, store("erp"))
        self.apps: dict[str, Any] = {}
        if "identity" in self.serving:
            self.apps["identity"] = IdentityApp(self.issuer, lambda: (self.urls["crm"], self.urls["erp"]))
        limits = {"crm": config.crm_limits, "erp": config.erp_limits}
        for name, svc in self.services.items():
            self.apps[name] = ServiceApp(
                svc, self.urls[name], self.issuer, Protection(limits[name], config.protection)
            )
            if config.latency_ms:
                self.apps[name].faults.update({"latency_ms": config.latency_ms})
        self._servers: list[_Server] = []
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        if data_dir is not None and "identity" in self.serving:
            self.write_connections(data_dir / "connections.yaml")

    # -- facts for users -----------------------------------------------------------------------

    @property
    def crm(self) -> Service:
        return self._service("crm")

    @property
    def erp(self) -> Service:
        return self._service("erp")

    def _service(self, name: str) -> Service:
        if name not in self.services:
            raise RuntimeError(f"the {name} service is served by another process of this sandbox")
        return self.services[name]

    @property
    def identity_url(self) -> str:
        return self.urls["identity"]

    @property
    def crm_url(self) -> str:
        return self.urls["crm"]

    @property
    def erp_url(self) -> str:
        return self.urls["erp"]

    @property
    def authority(self) -> str:
        return f"{self.identity_url}/{self.credentials.tenant_id}"

    @property
    def ca_path(self) -> Path | None:
        return self.ssl_files[0] if self.ssl_files else None

    def connections(self) -> dict[str, Any]:
        ca = str(self.ca_path.resolve()) if self.ca_path else None
        common = {
            "authority": self.authority,
            "tenant_id": self.credentials.tenant_id,
            "client_id": self.credentials.client_id,
            "client_secret": self.credentials.client_secret,
            "ca_bundle": ca,
        }
        return {
            "# p2c sandbox connections": "generated by `p2c sandbox up`; the secret is the sandbox's own",
            "identity": {"url": self.identity_url, "tenant_id": self.credentials.tenant_id},
            "crm": {
                "kind": "dataverse",
                "url": self.crm_url,
                "api": f"{self.crm_url}/api/data/v9.2/",
                **common,
            },
            "erp": {
                "kind": "fno",
                "url": self.erp_url,
                "api": f"{self.erp_url}/data/",
                **common,
                "companies": ["usmf", "demf"],
                "default_company": self.config.erp_default_company,
            },
            "legal_entities": {"usmf": "Contoso US"},
        }

    def write_connections(self, path: Path) -> None:
        data = self.connections()
        data.pop("# p2c sandbox connections")
        text = "# p2c sandbox connections, written by `p2c sandbox up`. The secret is the sandbox's own.\n"
        path.write_text(text + yaml.safe_dump(data, sort_keys=False))
        path.chmod(0o600)

    # -- serving -------------------------------------------------------------------------------

    def _make_servers(self) -> list[_Server]:
        servers = []
        for name, app in self.apps.items():
            kwargs: dict[str, Any] = {}
            if self.ssl_files:
                kwargs = {"ssl_certfile": str(self.ssl_files[1]), "ssl_keyfile": str(self.ssl_files[2])}
            cfg = uvicorn.Config(
                app,
                lifespan="off",
                log_level="warning",
                access_log=False,
                timeout_keep_alive=30,
                timeout_graceful_shutdown=3,
                backlog=2048,
                **kwargs,
            )
            server = _Server(cfg)
            server._p2c_name = name  # type: ignore[attr-defined]
            servers.append(server)
        return servers

    async def serve(self) -> None:
        if not self._servers:
            self._servers = self._make_servers()
        names = list(self.apps)
        try:
            await asyncio.gather(
                *(s.serve(sockets=[self._sockets[n]]) for s, n in zip(self._servers, names, strict=True))
            )
        finally:
            self.close()

    def shutdown(self) -> None:
        for s in self._servers:
            s.should_exit = True

    def run(self, *, until: Callable[[], str | None] | None = None) -> None:
        """Serve in the foreground until SIGINT or SIGTERM, or until ``until()`` gives a reason
        (asked every half second). Split, the ERP's process is started first and stopped after,
        and its end stops this one (:mod:`p2c_sandbox.split`)."""
        from p2c_sandbox.split import child_gone, start_erp_process, stop_process

        child = start_erp_process(self) if self.split else None
        check = child_gone(child) if child is not None else until

        async def watch(check: Callable[[], str | None]) -> None:
            while (reason := check()) is None:
                await asyncio.sleep(0.5)
            log.error("%s: stopping", reason)
            self.shutdown()

        async def main() -> None:
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, self.shutdown)
            watching = asyncio.ensure_future(watch(check)) if check is not None else None
            try:
                await self.serve()
            finally:
                if watching is not None:
                    watching.cancel()

        try:
            asyncio.run(main())
        finally:
            if child is not None:
                stop_process(child)

    def start(self, timeout: float = 30.0) -> None:
        """Serve on a background thread; return once all three servers accept connections."""
        if self.split:
            raise RuntimeError(
                "a split sandbox serves in the foreground (run), its ERP in a process of its own"
            )
        ready = threading.Event()

        def target() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)

            async def main() -> None:
                self._servers = self._make_servers()
                task = asyncio.ensure_future(self.serve())
                while not all(getattr(s, "started", False) for s in self._servers) and not task.done():
                    await asyncio.sleep(0.01)
                ready.set()
                await task

            try:
                loop.run_until_complete(main())
            finally:
                ready.set()
                loop.close()

        self._thread = threading.Thread(target=target, name="p2c-sandbox", daemon=True)
        self._thread.start()
        if not ready.wait(timeout) or not all(getattr(s, "started", False) for s in self._servers):
            raise RuntimeError("the sandbox did not start in time")

    def call(self, fn: Any, *args: Any) -> Any:
        """Run ``fn(*args)`` on the server thread (the services are single-threaded) and return its result."""
        if self._loop is None or self._thread is None or not self._thread.is_alive():
            return fn(*args)
        fut = asyncio.run_coroutine_threadsafe(_call(fn, *args), self._loop)
        return fut.result(timeout=120)

    def stop(self) -> None:
        self.shutdown()
        if self._thread is not None:
            self._thread.join(timeout=15)
            self._thread = None

    def close(self) -> None:
        for svc in self.services.values():
            with contextlib.suppress(Exception):
                svc.close()

    def ssl_context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cafile=str(self.ca_path) if self.ca_path else None)
        return ctx


async def _call(fn: Any, *args: Any) -> Any:
    return fn(*args)
