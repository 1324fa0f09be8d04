"""A run killed at any moment leaves its report absent or complete, never torn.

The real CLI runs in a subprocess over a large tree and gets SIGKILL, at random moments and at
the moment its temporary report file appears (the write itself, the window a non-atomic
writer would tear). Leftover temporary files are allowed only beside the report, under the
documented name, and the next run removes them.
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from socklint.fileio import atomic_write_text, remove_stale_temp_files

LEAKY = b"""import socket


def leaky(addr):
    s = socket.socket()
    s.connect(addr)
    data = s.recv(1024)
    if not data:
        return None
    s.close()
    return data
"""

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")

TEMP_NAME = re.compile(r"\.report\.json\.\d+-\w+\.tmp\Z")


def _snapshot(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def _start(cwd: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "socklint", "check", "tree", "--format", "json", "--output", "out/report.json"],
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _state(target: Path) -> tuple[int, int, int] | None:
    try:
        st = target.stat()
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def _check_target(target: Path, complete: str) -> None:
    if target.exists():
        text = target.read_text(encoding="utf-8")
        json.loads(text)  # valid JSON ...
        assert text == complete  # ... and the whole report, not a valid prefix of it


def test_killed_runs_leave_no_torn_report(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    for i in range(500):
        (tree / f"leaky{i:04}.py").write_bytes(LEAKY)
        (tree / f"bad{i:04}.py").write_bytes(b"import socket\n\xff\n")  # SKL002 whatever the engine
    target = tmp_path / "out" / "report.json"
    before = _snapshot(tree)

    start = time.perf_counter()
    full = _start(tmp_path)
    assert full.wait(timeout=300) == 1
    duration = time.perf_counter() - start
    complete = target.read_text(encoding="utf-8")
    assert len(json.loads(complete)) >= 500

    rng = random.Random(2024)
    for attempt in range(8):
        if attempt % 2:
            target.unlink(missing_ok=True)  # half the runs start with no report at all
        proc = _start(tmp_path)
        if attempt < 4:
            time.sleep(rng.uniform(0.0, duration * 1.05))  # anywhere in the run
        else:
            # The moment the run starts writing its report: a temporary file appears, or (for
            # a writer that is not atomic) the target itself changes.
            state = _state(target)
            deadline = time.perf_counter() + duration * 3 + 30
            while time.perf_counter() < deadline and proc.poll() is None:
                if _state(target) != state or any(TEMP_NAME.match(n) for n in os.listdir(target.parent)):
                    break
                time.sleep(0.0002)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        _check_target(target, complete)
        leftovers = {n for n in os.listdir(target.parent) if n != "report.json"}
        assert all(TEMP_NAME.match(n) for n in leftovers), leftovers

    assert _snapshot(tree) == before  # nothing was ever written into the checked tree
    assert not list(tmp_path.glob("*.tmp"))

    # The next complete run writes the whole report and removes the dead runs' leftovers.
    again = _start(tmp_path)
    assert again.wait(timeout=300) == 1
    assert target.read_text(encoding="utf-8") == complete
    assert os.listdir(target.parent) == ["report.json"]


def test_a_live_writers_temp_file_is_left_alone(tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    mine = tmp_path / f".report.json.{os.getppid()}-abc123.tmp"  # the pytest runner's parent: alive
    mine.write_text("in progress")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f".report.json.{dead.pid}-xyz789.tmp"
    stale.write_text("half")
    other = tmp_path / ".other.json.1-abc.tmp"  # another target's: not ours to judge
    other.write_text("x")
    assert remove_stale_temp_files(target) == [stale]
    atomic_write_text(target, "[]\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["report.json", mine.name, other.name])


def _check_to(cwd: Path, output: str, *, umask: int = -1) -> subprocess.CompletedProcess[bytes]:
    (cwd / "leaky.py").write_bytes(LEAKY)
    return subprocess.run(
        [sys.executable, "-m", "socklint", "check", "leaky.py", "--no-cache", "--output", output],
        cwd=cwd,
        capture_output=True,
        timeout=120,
        umask=umask,
        check=False,
    )


def _report(cwd: Path) -> bytes:
    (cwd / "leaky.py").write_bytes(LEAKY)
    done = subprocess.run(
        [sys.executable, "-m", "socklint", "check", "leaky.py", "--no-cache"],
        cwd=cwd, capture_output=True, timeout=120, check=False,
    )
    assert done.returncode == 1 and b"SKL" in done.stdout, done
    return done.stdout


def test_output_through_a_symlink_writes_its_target(tmp_path: Path) -> None:
    expected = _report(tmp_path)
    (tmp_path / "reports").mkdir()
    real = tmp_path / "reports" / "real.txt"
    real.write_text("old\n")
    real.chmod(0o640)
    link = tmp_path / "link.txt"
    link.symlink_to("reports/real.txt")
    done = _check_to(tmp_path, "link.txt")
    assert done.returncode == 1, done.stderr
    assert link.is_symlink() and os.readlink(link) == "reports/real.txt"  # the link stays a link
    assert real.read_bytes() == expected  # ... and its target got the report
    assert real.stat().st_mode & 0o777 == 0o640  # with the mode it had
    assert sorted(os.listdir(tmp_path / "reports")) == ["real.txt"]  # no temporary file left


def test_output_to_a_fifo_reaches_its_reader(tmp_path: Path) -> None:
    if not hasattr(os, "mkfifo"):
        pytest.skip("needs FIFOs")
    expected = _report(tmp_path)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    done = _check_to(tmp_path, "pipe")
    reader.join(timeout=30)
    assert done.returncode == 1, done.stderr
    assert received == [expected]
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)  # still a FIFO, not a regular file


def test_output_modes_follow_the_umask_and_the_existing_file(tmp_path: Path) -> None:
    done = _check_to(tmp_path, "new.txt", umask=0o027)
    assert done.returncode == 1, done.stderr
    assert (tmp_path / "new.txt").stat().st_mode & 0o777 == 0o640  # 0666 minus the umask
    done = _check_to(tmp_path, "shared.txt", umask=0o002)
    assert (tmp_path / "shared.txt").stat().st_mode & 0o777 == 0o664
    # An existing report keeps its mode, whatever the umask of the run that rewrites it.
    (tmp_path / "kept.txt").write_text("old\n")
    (tmp_path / "kept.txt").chmod(0o604)
    done = _check_to(tmp_path, "kept.txt", umask=0o077)
    assert done.returncode == 1, done.stderr
    assert (tmp_path / "kept.txt").stat().st_mode & 0o777 == 0o604
    assert (tmp_path / "kept.txt").read_text() != "old\n"


def test_read_only_output_is_treated_as_a_shell_redirection_would(tmp_path: Path) -> None:
    expected = _report(tmp_path)
    target = tmp_path / "readonly.txt"
    target.write_text("old\n")
    target.chmod(0o444)
    done = _check_to(tmp_path, "readonly.txt")
    if os.access(target, os.W_OK):
        # root may write any file (as `> readonly.txt` would): the report, with the mode kept.
        assert done.returncode == 1, done.stderr
        assert target.read_bytes() == expected
    else:
        # Anyone else is refused although the folder would allow a rename over the file.
        assert done.returncode == 2
        assert b"cannot write readonly.txt" in done.stderr and b"Traceback" not in done.stderr
        assert target.read_text() == "old\n"
    assert target.stat().st_mode & 0o777 == 0o444
