"""``p2c demo --serve``: after the demo, the sandbox and the service stay up; the URL and a token are
printed, the API answers with the demo's runs, and SIGTERM stops both."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest
from serve_helpers import free_port, wait_for
from test_console_browser import counts


@pytest.mark.slow
def test_demo_serve_leaves_the_service_running_on_the_demo(tmp_path: Path, browser: Any) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "p2c.cli",
            "demo",
            "--dir",
            str(tmp_path / "demo"),
            "--port-base",
            "0",
            "--serve",
            "--serve-port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1"},
    )
    out: list[str] = []
    reader = threading.Thread(target=lambda: out.extend(iter(proc.stdout.readline, "")), daemon=True)  # type: ignore[union-attr]
    reader.start()
    try:
        said = wait_for(lambda: (text := "".join(out)) and "API token" in text and text, timeout=180)
        url = re.search(r"p2c serve: (http://\S+)", said).group(1)  # type: ignore[union-attr]
        token = re.search(r"API token \(demo only; kept in .*\): (\S+)", said).group(1)  # type: ignore[union-attr]
        assert url == f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
            wait_for(lambda: _answers(client), timeout=60)
            [project] = client.get("/api/v1/projects").json()
            assert project["name"] == "demo" and project["last_run"]["status"] == "succeeded"
            runs = client.get("/api/v1/projects/demo/runs").json()
            assert [r["trigger"] for r in runs] == ["demo", "demo"]
            assert client.get("/api/v1/projects/demo?check=true").json()["health"] == {
                "crm": "ok",
                "erp": "ok",
            }
        assert f"console: {url}/" in said
        # the console shows the demo's runs, every task's counts adding up
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        page = context.new_page()
        page.goto(url + "/projects/demo/runs/2")
        page.get_by_label("API token").fill(token)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(url + "/projects/demo/runs/2")
        rows = counts(page)
        assert len(rows) == 13 and sum(r["new"] for r in rows) > 0
        fates = ("new", "updated", "deleted", "unchanged", "filtered", "skipped", "waiting", "failed")
        for r in rows:
            assert r["read"] == sum(r[f] for f in fates), r
        page.screenshot(path=str(tmp_path / "demo-run.png"), full_page=True)
        context.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
        reader.join(10)
        proc.stdout.close()  # type: ignore[union-attr]
    assert "demo run 2" in "".join(out)


def _answers(client: httpx.Client) -> bool:
    try:
        return client.get("/api/v1/projects").status_code == 200
    except httpx.HTTPError:
        return False
