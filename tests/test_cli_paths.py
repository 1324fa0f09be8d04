"""What ``socklint check`` does with the paths and processes it is given, through the real CLI:
``--jobs`` is capped at the CPUs, an unreadable folder is reported, ``--stdin-filename`` reads
standard input, and a file named twice is reported once."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from frontend_sources import LEAK, NEVER_CLOSED

from socklint.runner import default_jobs


def _cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "socklint", "check", "--no-cache", *args]


def _run(*args: str, cwd: Path, stdin: str | None = None, prefix: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*prefix, *_cmd(*args)], cwd=cwd, input=stdin, capture_output=True, text=True, timeout=300, check=False
    )


def _findings(done: subprocess.CompletedProcess[str]) -> list[tuple[str, int, str]]:
    return [(d["path"], d["line"], d["code"]) for d in json.loads(done.stdout)]


def test_jobs_is_capped_at_the_cpu_count(tmp_path: Path) -> None:
    if not Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children").exists():
        pytest.skip("needs Linux /proc to count the workers")
    for i in range(120):
        (tmp_path / f"m{i:03}.py").write_text(LEAK.replace("fetch", f"fetch{i}"), encoding="utf-8")
    report = tmp_path / "report.json"
    # The report goes to a file: a pipe nobody reads while the children are counted would fill.
    proc = subprocess.Popen(_cmd("--jobs", "1000", "--format", "json", "-o", str(report), "."), cwd=tmp_path)
    most = 0
    while proc.poll() is None:
        try:
            children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
        except OSError:
            children = []
        most = max(most, len(children))
        time.sleep(0.002)
    assert proc.returncode == 1
    assert len({d["path"] for d in json.loads(report.read_text(encoding="utf-8"))}) == 120
    # Without the cap, 1000 asked for 120 workers (one per file); a process running more
    # workers than CPUs only pays their start-up. The pool's resource tracker is not a worker.
    assert 1 <= most <= default_jobs(), f"{most} child processes for {default_jobs()} CPUs"


def test_an_unreadable_folder_is_reported(tmp_path: Path) -> None:
    prefix: tuple[str, ...] = ()
    if os.geteuid() == 0:
        # root reads a mode-000 folder; drop the capabilities that let it, as setpriv can.
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root without setpriv to drop CAP_DAC_OVERRIDE")
        caps = "-dac_override,-dac_read_search"
        prefix = (setpriv, f"--inh-caps={caps}", f"--bounding-set={caps}")
    (tmp_path / "src" / "locked").mkdir(parents=True)
    (tmp_path / "src" / "locked" / "hidden.py").write_text(NEVER_CLOSED, encoding="utf-8")
    (tmp_path / "src" / "open.py").write_text(NEVER_CLOSED, encoding="utf-8")
    (tmp_path / "src" / "locked").chmod(0)
    try:
        done = _run("--format", "json", "src", cwd=tmp_path, prefix=prefix)
        text = _run("src", cwd=tmp_path, prefix=prefix)
        zero = _run("--exit-zero", "src", cwd=tmp_path, prefix=prefix)
    finally:
        (tmp_path / "src" / "locked").chmod(0o755)
    assert done.returncode == 1, done.stderr
    found = _findings(done)
    assert (os.path.join("src", "locked"), 1, "SKL002") in found
    assert ("src/open.py", 5, "SKL103") in found  # the rest of the tree was still checked
    assert "src/locked:1:1: SKL002 cannot read the folder: Permission denied" in text.stdout
    assert text.returncode == 1 and "Traceback" not in text.stderr
    assert zero.returncode == 0  # like any other finding


def test_stdin_filename_alone_reads_stdin(tmp_path: Path) -> None:
    (tmp_path / "on_disk.py").write_text(NEVER_CLOSED, encoding="utf-8")
    done = _run("--format", "json", "--stdin-filename", "pkg/piped.py", cwd=tmp_path, stdin=LEAK)
    assert done.returncode == 1, done.stderr
    assert {p for p, _, _ in _findings(done)} == {"pkg/piped.py"}  # not `.`, which has on_disk.py
    assert done.stderr == ""
    # Paths beside --stdin-filename are ignored with a warning, as ruff does.
    done = _run("--format", "json", "--stdin-filename", "piped.py", "on_disk.py", cwd=tmp_path, stdin=LEAK)
    assert {p for p, _, _ in _findings(done)} == {"piped.py"}
    assert "ignoring on_disk.py: --stdin-filename reads standard input" in done.stderr
    # With `-` it is what it always was.
    same = _run("--format", "json", "--stdin-filename", "pkg/piped.py", "-", cwd=tmp_path, stdin=LEAK)
    assert same.stdout == _run("--format", "json", "--stdin-filename", "pkg/piped.py", cwd=tmp_path, stdin=LEAK).stdout


def test_a_file_named_twice_is_reported_once(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.py").write_text(NEVER_CLOSED, encoding="utf-8")
    (tmp_path / "link.py").symlink_to("src/a.py")
    once = _findings(_run("--format", "json", "src/a.py", cwd=tmp_path))
    assert len(once) == 1
    for args in (
        ["src/a.py", "src/a.py"],
        ["src/a.py", "./src/a.py", str(tmp_path / "src" / "a.py")],
        ["src", "src/a.py"],
        ["src/a.py", "src"],
        ["src", "link.py"],  # a symlink named on the command line is the file it names
    ):
        got = _findings(_run("--format", "json", *args, cwd=tmp_path))
        assert len(got) == 1, (args, got)
    # Two folders holding the same files through a symlinked folder: each file once.
    (tmp_path / "alias").symlink_to("src", target_is_directory=True)
    assert len(_findings(_run("--format", "json", "src", "alias", cwd=tmp_path))) == 1
