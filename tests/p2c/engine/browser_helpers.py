"""A real browser for the console's tests: Debian's Chromium driven by Playwright for Python.

Chromium comes from Debian's ``chromium`` package (``/usr/bin/chromium``); when it is missing, the
first test that needs it installs it (``apt-get install -y chromium``, as root — the machines these
tests run on are set up that way), under a file lock: the suite runs in several processes
(pytest-xdist) and apt allows one install at a time. Playwright's own browser download is not used.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def ensure_chromium() -> Path:
    if CHROMIUM.exists():
        return CHROMIUM
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package (apt-get install -y chromium)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    with open("/tmp/p2c-tests-chromium.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another test process may be installing it right now
        if not CHROMIUM.exists():
            subprocess.run(["apt-get", "update", "-q"], check=True, capture_output=True, env=env, timeout=600)
            subprocess.run(
                ["apt-get", "install", "-y", "-q", "chromium"],
                check=True,
                capture_output=True,
                env=env,
                timeout=900,
            )
    assert CHROMIUM.exists(), "apt-get installed chromium but /usr/bin/chromium is not there"
    return CHROMIUM


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    path = ensure_chromium()
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(path), args=FLAGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()
