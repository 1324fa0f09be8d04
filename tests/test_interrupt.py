"""Ctrl-C through the real CLI: while files are being found and read, and while the process
pool works. The run stops within a couple of seconds of the signal, exits 130 with one line and
no traceback, leaves no worker behind, and the cache it leaves gives the same report as no cache.

Linux only: the test watches ``/proc`` to send the signal while the run is in the phase under
test (workers started; the run blocked reading a FIFO), instead of guessing with a sleep.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/task").is_dir() or not hasattr(os, "mkfifo"), reason="needs Linux /proc and FIFOs"
)

# Slow enough per file that two workers are busy for many seconds on the whole tree.
LEAKY = "import socket\n\n\ndef fetch{i}(addr, x):\n    s = socket.socket()\n    s.connect(addr)\n" + "".join(
    f"    if x == {k}:\n        s.send(b'{k}')\n        return s.recv({k})\n" for k in range(40)
) + "    s.close()\n"
BOUND = 5.0  # seconds from the signal to the exit: generous for a loaded machine; it was 17-49 s


def _tree(root: Path, files: int) -> Path:
    tree = root / "tree"
    tree.mkdir()
    for i in range(files):
        (tree / f"mod{i:04}.py").write_text(LEAKY.format(i=i), encoding="utf-8")
    return tree


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(c) for c in text.split()]


def _alive(pid: int) -> bool:
    try:
        # A zombie is dead for our purpose: it runs no code.
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except (OSError, IndexError):
        return False


def _start(cwd: Path, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "socklint", "check", "--jobs", "2", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group, as a terminal's foreground job has
    )


def _interrupt(proc: subprocess.Popen[bytes], *, group: bool) -> tuple[float, bytes]:
    sent = time.perf_counter()
    if group:
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does: every process
    else:
        proc.send_signal(signal.SIGINT)  # the parent only (kill -INT, a CI runner's cancel)
    try:
        _, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail("still running 60 s after SIGINT")
    return time.perf_counter() - sent, err


def _wait_for(condition: object, proc: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.perf_counter() + 240
    while not condition():  # type: ignore[operator]
        if proc.poll() is not None:
            pytest.fail(f"the run ended (status {proc.returncode}) before {what}")
        if time.perf_counter() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            pytest.fail(f"never saw {what}")
        time.sleep(0.01)


@pytest.mark.parametrize("group", [True, False], ids=["process-group", "parent-only"])
def test_ctrl_c_while_the_pool_works(tmp_path: Path, group: bool) -> None:
    _tree(tmp_path, 250)  # about 10 s of CPU: the pool is still busy when the signal comes
    proc = _start(tmp_path, "tree")
    _wait_for(lambda: len(_children(proc.pid)) >= 2, proc, "the workers start")
    time.sleep(0.5)  # let them get into the files
    workers = _children(proc.pid)
    elapsed, err = _interrupt(proc, group=group)
    assert proc.returncode == 130, err.decode(errors="replace")
    assert b"Traceback" not in err, err.decode(errors="replace")
    assert err.decode() == "socklint: interrupted\n"
    assert elapsed < BOUND, f"{elapsed:.1f} s from SIGINT to exit"
    assert not [w for w in workers if _alive(w)], "workers outlived the run"

    # The cache the interrupted run left is consistent: only whole entries, no temporary file,
    # and a cached run reports what an uncached one does.
    cache = tmp_path / ".socklint_cache"
    assert not list(cache.rglob("*.tmp"))
    for entry in cache.rglob("*.json"):
        assert json.loads(entry.read_bytes())["format"]
    if group:
        return  # one full comparison is enough (each costs a whole run)
    cached = subprocess.run(
        [sys.executable, "-m", "socklint", "check", "--jobs", "2", "tree"],
        cwd=tmp_path, capture_output=True, timeout=600, check=False,
    )
    fresh = subprocess.run(
        [sys.executable, "-m", "socklint", "check", "--jobs", "2", "--no-cache", "tree"],
        cwd=tmp_path, capture_output=True, timeout=600, check=False,
    )
    assert cached.returncode == fresh.returncode == 1
    assert cached.stdout == fresh.stdout


def test_ctrl_c_while_reading_files(tmp_path: Path) -> None:
    # A FIFO nobody writes to holds the run in the phase before the pool (finding and reading
    # files); the signal must end that phase as quietly as the pool's.
    _tree(tmp_path, 20)
    fifo = tmp_path / "stuck.py"
    os.mkfifo(fifo)
    proc = _start(tmp_path, "tree", "stuck.py")
    writer: list[int] = []

    def reader_is_waiting() -> bool:
        try:
            # Succeeds only once the run has the FIFO open for reading; the write end stays
            # open and silent, so the run waits in read().
            writer.append(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        except OSError:
            return False
        return True

    try:
        _wait_for(reader_is_waiting, proc, "the run open the FIFO")
        time.sleep(0.2)
        elapsed, err = _interrupt(proc, group=True)
    finally:
        for fd in writer:
            os.close(fd)
    assert proc.returncode == 130, err.decode(errors="replace")
    assert err.decode() == "socklint: interrupted\n"
    assert elapsed < BOUND, f"{elapsed:.1f} s from SIGINT to exit"
