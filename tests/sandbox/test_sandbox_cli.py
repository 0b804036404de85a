"""`p2c sandbox up` / `reset` as a user runs them: a real process, real ports, real files."""

from __future__ import annotations

import os
import socket
import ssl
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import yaml

from p2c_sandbox.process import SandboxProcess, api_client, free_ports

P2C = [sys.executable, "-m", "p2c.cli"]


def _start(data: Path, ports: list[int]) -> SandboxProcess:
    return SandboxProcess.start(data, ports=ports, timeout=60)


def _stop(proc: SandboxProcess) -> str:
    code, out = proc.stop()
    assert code == 0, out
    return out


def _client(conns: dict[str, Any], which: str) -> httpx.Client:
    return api_client(conns[which])


def test_up_serves_prints_credentials_persists_and_stops_cleanly(tmp_path: Path) -> None:
    data = tmp_path / "sb"
    ports = free_ports(3)
    proc = _start(data, ports)
    try:
        assert (data / "ca.pem").read_text().startswith("-----BEGIN CERTIFICATE-----")
        conns = yaml.safe_load((data / "connections.yaml").read_text())
        assert conns["crm"]["url"] == f"https://127.0.0.1:{ports[1]}"
        assert conns["erp"]["api"] == f"https://127.0.0.1:{ports[2]}/data/"
        with _client(conns, "crm") as crm:
            r = crm.post("accounts", json={"name": "Persisted Ltd", "accountnumber": "PERSIST-1"})
            assert r.status_code == 204, r.text
        with _client(conns, "erp") as erp:
            assert erp.get("SellableReleasedProducts", params={"$filter": "ProductNumber eq 'D0001'"}).json()[
                "value"
            ]
    finally:
        out = _stop(proc)
    assert f"https://127.0.0.1:{ports[1]}" in out
    assert conns["crm"]["client_secret"] in out  # printed for the user, who needs it
    proc = _start(data, ports)
    try:
        with _client(conns, "crm") as crm:
            rows = crm.get("accounts", params={"$filter": "name eq 'Persisted Ltd'"}).json()["value"]
            assert [r["accountnumber"] for r in rows] == ["PERSIST-1"]
    finally:
        _stop(proc)


def test_port_in_use_is_a_clear_error(tmp_path: Path) -> None:
    ports = free_ports(3)
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", ports[1]))
    blocker.listen()
    try:
        out = subprocess.run(
            [
                *P2C,
                "sandbox",
                "up",
                "--data",
                str(tmp_path),
                "--identity-port",
                str(ports[0]),
                "--crm-port",
                str(ports[1]),
                "--erp-port",
                str(ports[2]),
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        blocker.close()
    assert out.returncode == 3
    assert f"127.0.0.1:{ports[1]}" in out.stderr
    assert "Traceback" not in out.stderr + out.stdout


def test_reset_offline_empties_and_reseeds(tmp_path: Path) -> None:
    data = tmp_path / "sb"
    ports = free_ports(3)
    proc = _start(data, ports)
    try:
        conns = yaml.safe_load((data / "connections.yaml").read_text())
        with _client(conns, "crm") as crm:
            assert crm.post("accounts", json={"name": "Gone Soon"}).status_code == 204
    finally:
        _stop(proc)
    out = subprocess.run(
        [*P2C, "sandbox", "reset", "--data", str(data)], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stdout + out.stderr
    proc = _start(data, ports)
    try:
        with _client(conns, "crm") as crm:
            assert crm.get("accounts", params={"$filter": "name eq 'Gone Soon'"}).json()["value"] == []
            assert crm.get("accounts", params={"$top": "1"}).json()["value"]
    finally:
        _stop(proc)


def test_version() -> None:
    out = subprocess.run([*P2C, "--version"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0
    assert out.stdout.startswith("p2c ")


def test_faults_and_erp_business_commands_drive_a_running_sandbox(tmp_path: Path) -> None:
    data = tmp_path / "sb"
    ports = free_ports(3)
    proc = _start(data, ports)
    try:
        conns = yaml.safe_load((data / "connections.yaml").read_text())

        def cli(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [*P2C, "sandbox", *args, "--data", str(data)],
                capture_output=True,
                text=True,
                timeout=60,
                env={**os.environ, "COLUMNS": "200"},
            )

        out = cli("faults", "erp", "throttle_every=2", "retry_after=3")
        assert out.returncode == 0, out.stderr
        with _client(conns, "erp") as erp:
            statuses = [erp.get("CustomerGroups").status_code for _ in range(4)]
            assert statuses == [200, 429, 200, 429]
            assert cli("faults", "erp", "off").returncode == 0
            assert erp.get("CustomerGroups").status_code == 200
            assert cli("faults", "erp", "bogus=1").returncode == 1

            flt = "SalesOrderProcessingStatus eq Microsoft.Dynamics.DataEntities.SalesOrderProcessingStatus'Active'"
            orders = erp.get(
                "CDSSalesOrderHeaders", params={"$filter": flt, "$select": "SalesOrderNumber"}
            ).json()
            number = orders["value"][0]["SalesOrderNumber"]
            out = cli("erp", "confirm", number)
            assert out.returncode == 0, out.stdout + out.stderr
            assert cli("erp", "totals", number).returncode == 0
            row = erp.get(f"CDSSalesOrderHeaders(dataAreaId='usmf',SalesOrderNumber='{number}')").json()
            assert row["SalesOrderProcessingStatus"] == "Confirmed"
            assert row["AreTotalsUpdated"] == "Yes"
            out = cli("erp", "confirm", "NO-SUCH-ORDER")
            assert out.returncode == 1
            assert "NO-SUCH-ORDER" in out.stderr
    finally:
        _stop(proc)


def _admin(conns: dict[str, Any], which: str) -> httpx.Client:
    ctx = ssl.create_default_context(cafile=conns[which]["ca_bundle"])
    return httpx.Client(base_url=conns[which]["url"] + "/sandbox/", verify=ctx)


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_realistic_mode_latency_sleeps_concurrently_and_burns_no_cpu(tmp_path: Path) -> None:
    """`up --latency-ms 80`: each request waits 80 ms, 8 at once still 80 ms, and waiting is no CPU."""
    proc = SandboxProcess.start(tmp_path / "sb", latency_ms=80, timeout=60)
    try:
        admin = _admin(proc.connections, "erp")
        assert admin.get("faults").json()["settings"]["latency_ms"] == 80
        assert admin.get("limits").json()["enabled"] is True
        clients = [proc.client("erp") for _ in range(8)]
        for c in clients:  # connections and TLS sessions open before anything is timed
            assert c.get("CustomerGroups", params={"$top": "1"}).status_code == 200
        started = time.perf_counter()
        clients[0].get("CustomerGroups", params={"$top": "1"}).raise_for_status()
        assert time.perf_counter() - started >= 0.08

        rounds, walls = 5, []
        cpu0 = _cpu_seconds(proc.proc.pid)
        with ThreadPoolExecutor(8) as pool:
            for _ in range(rounds):
                started = time.perf_counter()
                answers = list(pool.map(lambda c: c.get("CustomerGroups", params={"$top": "1"}), clients))
                walls.append(time.perf_counter() - started)
                assert {a.status_code for a in answers} == {200}
        cpu = _cpu_seconds(proc.proc.pid) - cpu0
        # serialised they would take 8 x 80 = 640 ms a round; a busy wait would burn >= 0.4 s of CPU
        assert min(walls) < 0.25, walls
        assert cpu < 0.2, cpu
        for c in clients:
            c.close()
        admin.close()
    finally:
        _stop(proc)


def test_protection_flag_switches_service_protection(tmp_path: Path) -> None:
    """Service protection is on by default (the real limits); `--no-protection` admits everything."""
    for protection, expected in ((True, [200, 200, 429]), (False, [200, 200, 200])):
        proc = SandboxProcess.start(tmp_path / f"sb-{protection}", protection=protection, timeout=60)
        try:
            conns = proc.connections
            with _admin(conns, "crm") as admin:
                limits = admin.put("limits", json={"requests_per_window": 2, "window_seconds": 60}).json()
                assert limits["enabled"] is protection
            with _client(conns, "crm") as crm:
                assert [crm.get("WhoAmI").status_code for _ in range(3)] == expected
        finally:
            _stop(proc)
