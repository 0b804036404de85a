"""``lean_malloc``: what ``p2c run``, ``retry``, ``worker`` and ``serve`` set first: threads share
malloc arenas. In a child process each time: the cap is process-wide and, once a ninth arena was
wanted, fixed for the process's life."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(
    platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="malloc arenas are glibc's"
)

# eight threads, alive at once, each allocating from malloc (over pymalloc's 512 bytes, under
# mmap's 128 KiB); then glibc's own account of its arenas (malloc_info: one <heap> each)
THREADS = """
import ctypes, os, sys, tempfile, threading
from p2c.cli.base import lean_malloc

if sys.argv[1] == "capped":
    assert lean_malloc()
barrier = threading.Barrier(9)
held = []

def work():
    held.append([bytearray(4096) for _ in range(64)])
    barrier.wait()
    barrier.wait()

threads = [threading.Thread(target=work) for _ in range(8)]
for t in threads:
    t.start()
barrier.wait()
libc = ctypes.CDLL(None)
libc.fopen.restype = ctypes.c_void_p
fd, path = tempfile.mkstemp()
os.close(fd)
out = libc.fopen(path.encode(), b"w")
libc.malloc_info(0, ctypes.c_void_p(out))
libc.fclose(ctypes.c_void_p(out))
barrier.wait()
for t in threads:
    t.join()
with open(path) as f:
    print(f.read().count("<heap nr="))
os.unlink(path)
"""


def arenas(mode: str) -> int:
    done = subprocess.run(
        [sys.executable, "-c", THREADS, mode], capture_output=True, text=True, check=False, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return int(done.stdout)


def test_threads_share_two_arenas_where_each_had_its_own() -> None:
    assert arenas("default") > 2  # what the cap is against: a thread, an arena (up to 8 per core)
    assert arenas("capped") <= 2
