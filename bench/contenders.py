"""What the issue-13 benchmarks compare p2c with, and the realistic sandbox they all run against.

Shared by ``bench/throughput.py`` (goal 1) and ``bench/million.py`` (goal 6); not a benchmark itself.

- :func:`start_realistic` starts ``p2c sandbox up --seed large:N`` in its own process with added
  latency per request and, on request, the real service-protection limits (DATAVERSE.md §2.12,
  FNO.md §1.9). It is the one place that knows how: today through the sandbox's admin API
  (``/sandbox/faults``, ``/sandbox/limits``) once it answers; when ``p2c sandbox up`` gets
  ``--latency-ms`` and protection flags, only this function changes.
- :func:`p2c_session` writes the project ``p2c init`` would and provisions it (``p2c setup``).
- Three contenders write the same rows of one task (:class:`BenchTask`) into a fresh sandbox each:
  :func:`run_p2c` (the engine, exactly as ``p2c run``), :func:`run_raw` (a raw bulk writer posting
  prepared payloads — UpsertMultiple of 1 000 into Dataverse, ``$batch`` of one-op change sets into
  F&O — with p2c's concurrency, no mapping, no store) and :func:`run_per_record` (one request per
  record, sequential: Microsoft's Dataverse SDK, or one OData POST per F&O customer).
  The prepared payloads come from p2c's own plan (:func:`prepared`), so all three write the same.
"""

from __future__ import annotations

import os
import ssl
import time
from collections.abc import Collection, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import msal
from azure.core.credentials import AccessToken

from p2c.connectors.multipart import ChangeSet, HttpPart, parse_batch, render_batch
from p2c.connectors.protocol_json import dumps
from p2c.engine import Engine, ProjectSession, open_project
from p2c.mapping import to_wire
from p2c.project import write_sandbox_project
from p2c.settings import System
from p2c.setup import provision
from p2c.store import Action
from p2c_sandbox.process import SandboxProcess, api_client, free_ports

__all__ = [
    "TASKS",
    "BenchTask",
    "Result",
    "p2c_session",
    "prepared",
    "run_p2c",
    "run_per_record",
    "run_raw",
    "sandbox_requests",
    "start_realistic",
    "start_side_by_side",
    "target_core",
    "verdict",
]

#: DATAVERSE.md §2.12 / FNO.md §1.9: per user, per web server, 300-second sliding window
REAL_LIMITS = {"max_concurrent": 52, "requests_per_window": 6000, "window_seconds": 300.0}
NO_LIMITS = {"max_concurrent": 100_000, "requests_per_window": 1_000_000_000, "window_seconds": 300.0}
CRM_BATCH = 1000  # UpsertMultiple's limit (DATAVERSE.md §2.9)
ERP_BATCH = 200  # the F&O connector's default $batch size (FNO.md §1.7: keep batches small)


@dataclass(frozen=True)
class BenchTask:
    key: str  # "crm" or "erp": the service written
    task: str  # the p2c task
    template: str
    logical: str  # the target table's logical name (CRM) or entity set (ERP)
    entity_set: str
    label: str


TASKS = {
    "crm": BenchTask(
        "crm", "Products", "products", "product", "products", "CRM-bound: Products → CRM products"
    ),
    "erp": BenchTask(
        "erp", "Accounts", "accounts", "CustomersV3", "CustomersV3", "ERP-bound: Accounts → ERP CustomersV3"
    ),
}


@dataclass
class Result:
    """One contender on one task: rows written, wall seconds, HTTP requests (extrapolated when sampled)."""

    rows: int
    seconds: float
    requests: int
    note: str = ""
    to_target: int | None = None  # of ``requests``, those to the service written (p2c only)
    sandbox_cpu: float | None = None  # CPU seconds of the sandbox's processes meanwhile
    first_write: float | None = None  # p2c: seconds from its start to its first write to the target
    writing: float | None = None  # p2c: seconds from its first write to the target to the last's answer
    cpu: float | None = None  # p2c: CPU seconds of its process (every thread) during the run

    @property
    def busy(self) -> float:
        """The sandbox's CPU seconds per second of wall time (1.0: one process busy throughout)."""
        return (self.sandbox_cpu or 0.0) / self.seconds if self.seconds else 0.0

    @property
    def rate(self) -> float:
        return self.rows / self.seconds if self.seconds else float("inf")


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSES TARGET"


def _admin(sandbox: SandboxProcess, which: str) -> httpx.Client:
    conn = sandbox.connections[which]
    return httpx.Client(
        base_url=f"{conn['url']}/sandbox/",
        verify=ssl.create_default_context(cafile=conn["ca_bundle"]),
        timeout=60,
    )


def start_realistic(
    seed: str,
    data: Path,
    *,
    latency_ms: int,
    protection: bool,
    ports: list[int] | None = None,
    split: bool = False,
) -> SandboxProcess:
    """``p2c sandbox up --seed SEED`` in its own process, then on both servers ``latency_ms`` added to
    every request and the real service-protection limits (``protection``) or none. ``split``: the
    ERP in a process of its own (``--split``), so reading the CRM does not slow writing the ERP.

    Today through the admin API after start; once ``p2c sandbox up`` takes ``--latency-ms`` and
    protection flags, pass them as ``SandboxProcess.start(..., extra=(...))`` here instead."""
    sandbox = SandboxProcess.start(data, seed=seed, ports=ports, timeout=7200, split=split)
    try:
        for which in ("crm", "erp"):
            with _admin(sandbox, which) as admin:
                admin.patch("faults", json={"latency_ms": latency_ms}).raise_for_status()
                admin.put("limits", json=REAL_LIMITS if protection else NO_LIMITS).raise_for_status()
    except BaseException:
        sandbox.stop()
        raise
    return sandbox


def start_side_by_side(
    seeds: dict[str, str], work: Path, *, latency_ms: int, protection: bool, split: bool = False
) -> dict[str, SandboxProcess]:
    """One fresh realistic sandbox per name (``seeds``: name → seed), seeded at the same time;
    all are stopped again when one fails to start."""
    ports = free_ports(3 * len(seeds))
    with ThreadPoolExecutor(len(seeds)) as pool:
        futures = {
            name: pool.submit(
                start_realistic,
                seed,
                work / f"sandbox-{name}",
                latency_ms=latency_ms,
                protection=protection,
                ports=ports[3 * n : 3 * n + 3],
                split=split,
            )
            for n, (name, seed) in enumerate(seeds.items())
        }
        out: dict[str, SandboxProcess] = {}
        failed: BaseException | None = None
        for name, future in futures.items():
            try:
                out[name] = future.result()
            except BaseException as exc:
                failed = failed or exc
    if failed is not None:
        for sandbox in out.values():
            sandbox.stop()
        raise failed
    return out


def sandbox_requests(sandbox: SandboxProcess, which: str) -> int:
    """Requests the server has answered so far (its own count, whoever sent them)."""
    with _admin(sandbox, which) as admin:
        return int(admin.get("info").raise_for_status().json()["stats"]["requests"])


@contextmanager
def p2c_session(work: Path, sandbox: SandboxProcess, templates: Sequence[str]) -> Iterator[ProjectSession]:
    """The project ``p2c init`` writes for this sandbox (only ``templates``), provisioned as ``p2c setup`` does."""
    path = write_sandbox_project(work, sandbox.data / "connections.yaml", templates=list(templates))
    with open_project(path) as session:
        setup = provision(session.project, session.connectors.crm, wait_seconds=300)
        if not setup.ok:
            raise SystemExit(f"provisioning failed: {setup.failed}")
        yield session


def _set_cores(pid: int, cores: Collection[int]) -> None:
    """Every thread of process ``pid`` on ``cores`` (Linux binds each thread on its own)."""
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            os.sched_setaffinity(int(tid), cores)
        except OSError:
            continue  # ended meanwhile


@contextmanager
def target_core(sandbox: SandboxProcess | None, key: str, on: bool = True) -> Iterator[str | None]:
    """While a contender writes: the process of the service written (``key``) on a core of its own,
    the contender (this process) and the other service's process on the rest. A real service never
    shares a CPU with its clients or with the other service; on a 2-core machine, unpinned, the
    service p2c writes to competed for a core with p2c's own work and with the source service
    answering p2c's reads and write-backs, while the raw writer (almost no CPU of its own, no reads)
    left it a core to itself. Both contenders run the same way. Yields what was done (the result's
    note says it), or ``None`` when nothing was: off, one core, or a sandbox not ``split``."""
    cores = sorted(os.sched_getaffinity(0))
    pids = sandbox.pids() if sandbox is not None else []
    if not on or len(cores) < 2 or len(pids) != 2:
        yield None
        return
    crm, erp = pids  # a split sandbox: the main process serves the CRM, its child the ERP
    target, other = (crm, erp) if key == "crm" else (erp, crm)
    alone, rest = {cores[-1]}, set(cores[:-1])
    try:
        _set_cores(target, alone)
        _set_cores(other, rest)
        _set_cores(os.getpid(), rest)
        yield f"{key.upper()} on core {cores[-1]}, the rest on {sorted(rest)}"
    finally:
        for pid in (target, other, os.getpid()):
            try:
                _set_cores(pid, cores)
            except OSError:
                continue


def engine_of(session: ProjectSession) -> Engine:
    return Engine(session.project, session.store, session.by_system, redactor=session.redactor)


def run_p2c(
    session: ProjectSession, task: BenchTask, sandbox: SandboxProcess | None = None, *, pin: bool = False
) -> Result:
    """The engine running ``task`` as ``p2c run --task`` does; requests = both services, reads included;
    with ``sandbox``, the CPU it spent meanwhile. ``writing``: from the first chunk handed to the
    target's connector to the last one's answer (the connector's ``write`` timed for the run).
    ``pin``: the service written on a core of its own meanwhile (:func:`target_core`)."""
    target = session.by_system[System.CRM if task.key == "crm" else System.ERP]
    spans: list[tuple[float, float]] = []
    write = target.write

    def timed(entity: str, ops: Any) -> Any:
        started = time.perf_counter()
        try:
            return write(entity, ops)
        finally:
            if entity == task.entity_set:
                spans.append((started, time.perf_counter()))

    target.write = timed
    with target_core(sandbox, task.key, pin) as pinned:
        cpu = sandbox.cpu_seconds() if sandbox is not None else 0.0
        own = time.process_time()
        t0 = time.perf_counter()
        try:
            report = engine_of(session).run([task.task])
        finally:
            del target.write  # the class's own again
        wall = time.perf_counter() - t0
    own = time.process_time() - own
    spent = sandbox.cpu_seconds() - cpu if sandbox is not None else None
    (t,) = report.tasks
    per = ", ".join(f"{k} {v}" for k, v in report.requests.items())
    note = f"{per}; side writes {t.side_writes}, failed {t.failed}, waiting {t.waiting}" + (
        f"; {pinned}" if pinned else ""
    )
    result = Result(
        t.written, wall, sum(report.requests.values()), note, report.requests.get(task.key), spent, cpu=own
    )
    if spans:
        result.first_write = min(s for s, _ in spans) - t0
        result.writing = max(e for _, e in spans) - min(s for s, _ in spans)
    return result


def prepared(session: ProjectSession, task: BenchTask) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(key, wire payload) of every record ``task`` would write now, from p2c's plan: what p2c sends."""
    report = engine_of(session).plan([task.task])
    (spec,) = engine_of(session).select([task.task])
    entity = session.project.catalog.entity(spec.target.system, spec.target.entity)
    out = []
    for p in report.tasks[0].planned:
        if p.operation is not None or p.action not in (Action.CREATED, Action.UPDATED) or not p.payload:
            continue
        key = {k: p.payload[k] for k in spec.key_target}
        wire = to_wire(p.payload, entity) if spec.target.system is System.CRM else dict(p.payload)
        out.append((key, wire))
    return out


def _retrying(client: httpx.Client, method: str, url: str, **kw: Any) -> httpx.Response:
    """One request; a 429 waits its Retry-After and goes again, as any client must."""
    while True:
        r = client.request(method, url, **kw)
        if r.status_code != 429:
            return r.raise_for_status()
        time.sleep(float(r.headers.get("retry-after", "1")))


def _odata_id(set_name: str, key: dict[str, Any]) -> str:
    parts = ",".join(f"{k}='{str(v).replace(chr(39), chr(39) * 2)}'" for k, v in key.items())
    return f"{set_name}({parts})"


def _crm_bulk(
    client: httpx.Client, task: BenchTask, rows: Sequence[tuple[dict[str, Any], dict[str, Any]]]
) -> None:
    targets = [
        {
            "@odata.type": f"Microsoft.Dynamics.CRM.{task.logical}",
            "@odata.id": _odata_id(task.entity_set, k),
            **p,
        }
        for k, p in rows
    ]
    _retrying(
        client,
        "POST",
        f"{task.entity_set}/Microsoft.Dynamics.CRM.UpsertMultiple",
        content=dumps({"Targets": targets}),
        headers={"Content-Type": "application/json"},
    )


def _erp_batch(
    client: httpx.Client, api: str, task: BenchTask, rows: Sequence[tuple[dict[str, Any], dict[str, Any]]]
) -> None:
    """One ``$batch``, one change set per record (as p2c sends them), every part must succeed."""
    headers = {"Content-Type": "application/json", "OData-Version": "4.0", "Prefer": "return=minimal"}
    url = f"{api}{task.entity_set}?cross-company=true"
    sets: list[HttpPart | ChangeSet] = [
        ChangeSet([HttpPart.request("POST", url, headers, dumps({**p, **k}), str(i + 1))])
        for i, (k, p) in enumerate(rows)
    ]
    ctype, body = render_batch(sets, kind="request")
    r = _retrying(client, "POST", "$batch", content=body, headers={"Content-Type": ctype})
    parts = [
        p
        for item in parse_batch(r.headers["content-type"], r.content)
        for p in getattr(item, "parts", [item])
    ]
    bad = [p.status for p in parts if not p.status or p.status >= 300]
    if bad or len(parts) != len(rows):
        raise RuntimeError(f"raw $batch: {len(parts)} answers for {len(rows)} rows, statuses {bad[:5]}")


def run_raw(
    sandbox: SandboxProcess,
    task: BenchTask,
    rows: Sequence[tuple[dict[str, Any], dict[str, Any]]],
    *,
    batch_size: int,
    concurrency: int,
    pin: bool = False,
) -> Result:
    """Post ``rows`` in batches of ``batch_size`` with ``concurrency`` requests in flight: rows/s.
    ``pin``: as :func:`run_p2c`'s."""
    conn = sandbox.connections[task.key]
    client = api_client(conn)
    batches = [rows[i : i + batch_size] for i in range(0, len(rows), batch_size)]
    before = sandbox_requests(sandbox, task.key)
    with target_core(sandbox, task.key, pin) as pinned:
        cpu = sandbox.cpu_seconds()
        t0 = time.perf_counter()
        with client, ThreadPoolExecutor(concurrency, thread_name_prefix="raw") as pool:
            if task.key == "crm":
                list(pool.map(lambda b: _crm_bulk(client, task, b), batches))
            else:
                list(pool.map(lambda b: _erp_batch(client, conn["api"], task, b), batches))
        wall = time.perf_counter() - t0
    spent = sandbox.cpu_seconds() - cpu
    requests = sandbox_requests(sandbox, task.key) - before
    note = f"batches of {batch_size}, {concurrency} in flight" + (f"; {pinned}" if pinned else "")
    return Result(len(rows), wall, requests, note, sandbox_cpu=spent)


class _MsalCredential:
    """An azure-core TokenCredential over msal client credentials, as the SDK conformance test uses."""

    def __init__(self, conn: dict[str, Any]) -> None:
        self.app = msal.ConfidentialClientApplication(
            conn["client_id"],
            authority=conn["authority"],
            client_credential=conn["client_secret"],
            instance_discovery=False,
            http_client=httpx.Client(verify=ssl.create_default_context(cafile=conn["ca_bundle"])),
        )

    def get_token(self, *scopes: str, **_: Any) -> AccessToken:
        out = self.app.acquire_token_for_client(scopes=list(scopes))
        return AccessToken(out["access_token"], int(time.time()) + int(out["expires_in"]))


def _plain(payload: dict[str, Any]) -> dict[str, Any]:
    return {k: float(v) if isinstance(v, Decimal) else v for k, v in payload.items()}


def _sdk_upserts(
    sandbox: SandboxProcess, task: BenchTask, rows: Sequence[tuple[dict[str, Any], dict[str, Any]]]
) -> None:
    """Microsoft's Dataverse SDK, one ``upsert`` (a PATCH by alternate key) per record (DATAVERSE.md §1.5)."""
    from PowerPlatform.Dataverse import DataverseClient
    from PowerPlatform.Dataverse.core.errors import HttpError
    from PowerPlatform.Dataverse.models.upsert import UpsertItem

    conn = sandbox.connections["crm"]
    os.environ["REQUESTS_CA_BUNDLE"] = conn["ca_bundle"]  # the SDK talks `requests` (DATAVERSE.md §1.7)
    with DataverseClient(conn["url"], _MsalCredential(conn)) as client:
        for key, payload in rows:
            body = {k: v for k, v in _plain(payload).items() if k not in key}
            while True:
                try:
                    client.records.upsert(task.logical, [UpsertItem(alternate_key=key, record=body)])
                    break
                except HttpError as exc:  # the SDK does not retry a 429 (§1.4): its user does
                    if getattr(exc, "status_code", None) != 429:
                        raise
                    time.sleep(float(getattr(exc, "retry_after", None) or 1))


def _odata_posts(
    sandbox: SandboxProcess, task: BenchTask, rows: Sequence[tuple[dict[str, Any], dict[str, Any]]]
) -> None:
    with api_client(sandbox.connections["erp"]) as client:
        for key, payload in rows:
            _retrying(
                client,
                "POST",
                f"{task.entity_set}?cross-company=true",
                content=dumps({**payload, **key}),
                headers={"Content-Type": "application/json"},
            )


def run_per_record(
    sandbox: SandboxProcess,
    task: BenchTask,
    rows: Sequence[tuple[dict[str, Any], dict[str, Any]]],
    total: int,
) -> Result:
    """One request per record, in turn; ``rows`` may be a sample of ``total``: then the time and the
    requests are extrapolated linearly to ``total`` (the note says so)."""
    before = sandbox_requests(sandbox, task.key)
    t0 = time.perf_counter()
    if task.key == "crm":
        _sdk_upserts(sandbox, task, rows)
    else:
        _odata_posts(sandbox, task, rows)
    wall = time.perf_counter() - t0
    requests = sandbox_requests(sandbox, task.key) - before
    client = "Dataverse SDK upsert" if task.key == "crm" else "OData POST"
    if len(rows) >= total:
        return Result(total, wall, requests, f"{client} per record, all {total}")
    scale = total / len(rows)
    fixed = max(0, requests - len(rows))  # the SDK's metadata reads, once per table
    note = (
        f"{client} per record: timed {len(rows)} of {total} ({wall:.1f} s, {requests} requests), "
        f"extrapolated x{scale:.1f}"
    )
    return Result(total, wall * scale, fixed + round((requests - fixed) * scale), note)
