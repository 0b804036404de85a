"""Pictures of the console for the README: ``p2c demo --serve``, then Chromium on two pages.

    .venv/bin/python scripts/console_screenshots.py [docs]

Needs Debian's chromium (/usr/bin/chromium) and playwright (the test extras). Writes
console-overview.png and console-run.png into the folder given (default: docs).
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "docs")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    work = Path(tempfile.mkdtemp(prefix="p2c-shots-"))
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "p2c.cli",
            "demo",
            "--dir",
            str(work / "demo"),
            "--port-base",
            "0",
            "--serve",
            "--serve-port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    said = ""
    assert proc.stdout is not None
    while "API token" not in said:
        line = proc.stdout.readline()
        if not line:
            raise SystemExit(f"the demo ended:\n{said}")
        said += line
    token = re.search(r"API token \(demo only; kept in .*\): (\S+)", said).group(1)  # type: ignore[union-attr]
    url = f"http://127.0.0.1:{port}"
    time.sleep(1.0)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto(url + "/login")
            page.get_by_label("API token").fill(token)
            page.get_by_role("button", name="Log in").click()
            page.wait_for_url(url + "/")
            page.screenshot(path=str(out / "console-overview.png"), full_page=True)
            page.goto(url + "/projects/demo/runs/2")
            page.screenshot(path=str(out / "console-run.png"), full_page=True)
            browser.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
    print(f"wrote {out / 'console-overview.png'} and {out / 'console-run.png'}")


if __name__ == "__main__":
    main()
