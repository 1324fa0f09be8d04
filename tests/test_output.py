"""Output for people, through the real CLI: the concise format, the summary line, --statistics,
--count, --quiet, --show-files, the warning when nothing was found, `rules --format json`, and
colour and progress on a real terminal (a pty) against a pipe."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from frontend_sources import CLEAN, LEAK, NEVER_CLOSED

from socklint.codes import CODES

ANSI = b"\x1b["
# What the child sees of the environment: nothing that decides colour, unless a test sets it.
COLOR_VARS = ("NO_COLOR", "FORCE_COLOR", "TERM", "CLICOLOR_FORCE")


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in COLOR_VARS}
    env.update(extra)
    return env


def _run(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "socklint", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env or _env(),
        stdin=subprocess.DEVNULL,
        check=False,
    )


def _run_on_pty(
    *args: str, cwd: Path, env: dict[str, str], stdout_tty: bool = True, stderr_tty: bool = False
) -> tuple[int, bytes, bytes]:
    """Run socklint with stdout and/or stderr on the slave side of a new pty; returns the exit
    status and what reached stdout and stderr. The other stream goes to a file, so a full pipe
    can never block the child while the parent reads the terminal."""
    master, slave = os.openpty()
    with tempfile.TemporaryFile() as out_file, tempfile.TemporaryFile() as err_file:
        proc = subprocess.Popen(
            [sys.executable, "-m", "socklint", *args],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=slave if stdout_tty else out_file,
            stderr=slave if stderr_tty else err_file,
        )
        os.close(slave)
        seen = bytearray()
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal (it exited)
                break
            if not chunk:
                break
            seen += chunk
        os.close(master)
        status = proc.wait(timeout=120)
        out_file.seek(0)
        err_file.seek(0)
        out = bytes(seen) if stdout_tty else out_file.read()
        err = bytes(seen) if stderr_tty else err_file.read()
    return status, out, err


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "leak.py").write_text(LEAK, encoding="utf-8")
    (tmp_path / "pkg" / "never_closed.py").write_text(NEVER_CLOSED, encoding="utf-8")
    (tmp_path / "pkg" / "clean.py").write_text(CLEAN, encoding="utf-8")
    return tmp_path


def _findings(project: Path, *args: str) -> list[dict[str, object]]:
    proc = _run("check", "--no-cache", "--format", "json", *args, "pkg", cwd=project)
    data = json.loads(proc.stdout)
    assert data, "the engine reports nothing on these sources; the test would prove nothing"
    return list(data)


def test_concise_is_one_line_per_finding(project: Path) -> None:
    expected = _findings(project)
    proc = _run("check", "--no-cache", "--output-format", "concise", "--show-fixable", "pkg", cwd=project)
    assert proc.returncode == 1, proc.stderr
    *lines, summary, hint = proc.stdout.splitlines()
    # A finding `--fix` removes is marked [*] after its code (docs/fixes.md, tests/test_fixes.py).
    assert [ln.replace(" [*] ", " ", 1) for ln in lines] == [
        f"{d['path']}:{d['line']}:{d['column']}: {d['code']} {d['message']}" for d in expected
    ]
    assert summary == f"Found {len(expected)} findings in 2 files (3 checked)"
    assert hint == f"[*] {sum(' [*] ' in ln for ln in lines)} fixable with `socklint check --fix`."
    # --format is the older spelling of the same option.
    assert _run("check", "--no-cache", "--format", "concise", "--show-fixable", "pkg", cwd=project).stdout == proc.stdout


def test_summary_line_on_text_formats_only(project: Path) -> None:
    expected = _findings(project)
    text = _run("check", "--no-cache", "--show-fixable", "pkg", cwd=project)
    # The summary, then how many findings `--fix` removes (docs/fixes.md).
    assert text.stdout.splitlines()[-2] == f"Found {len(expected)} findings in 2 files (3 checked)"
    assert text.stdout.splitlines()[-1].startswith("[*] ")
    assert _run("check", "--no-cache", "pkg", cwd=project).stdout.splitlines()[-1].startswith("Found ")
    assert text.stdout.count("Found ") == 1
    clean = _run("check", "--no-cache", "pkg/clean.py", cwd=project)
    assert (clean.returncode, clean.stdout) == (0, "All checks passed\n")
    one = _run("check", "--no-cache", "--select", "SKL103", "pkg/never_closed.py", cwd=project)
    assert one.stdout.splitlines()[-1] == "Found 1 finding in 1 file (1 checked)"
    # Machine formats stay machine-readable: nothing after the document.
    assert json.loads(_run("check", "--no-cache", "--format", "json", "pkg", cwd=project).stdout)
    assert json.loads(_run("check", "--no-cache", "--format", "sarif", "pkg", cwd=project).stdout)
    github = _run("check", "--no-cache", "--format", "github", "pkg", cwd=project).stdout
    assert all(line.startswith("::") for line in github.splitlines())
    # The report file holds what stdout would have held.
    out = project / "report.txt"
    assert _run("check", "--no-cache", "--show-fixable", "-o", str(out), "pkg", cwd=project).stdout == ""
    assert out.read_text(encoding="utf-8") == text.stdout


def test_quiet_prints_findings_only(project: Path) -> None:
    loud = _run("check", "--no-cache", "--format", "concise", "pkg", cwd=project).stdout
    quiet = _run("check", "--no-cache", "--format", "concise", "-q", "pkg", cwd=project)
    assert quiet.returncode == 1
    # Without the summary.
    assert quiet.stdout == "".join(line + "\n" for line in loud.splitlines()[:-1])
    clean = _run("check", "--no-cache", "--quiet", "pkg/clean.py", cwd=project)
    assert (clean.returncode, clean.stdout, clean.stderr) == (0, "", "")


def test_statistics_count_per_code(project: Path) -> None:
    expected = _findings(project, "--extend-select", "SKL106")
    counts: dict[str, int] = {}
    for d in expected:
        counts[str(d["code"])] = counts.get(str(d["code"]), 0) + 1
    order = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    proc = _run("check", "--no-cache", "--statistics", "--extend-select", "SKL106", "pkg", cwd=project)
    assert proc.returncode == 1
    *rows, summary = proc.stdout.splitlines()
    width = max(len(str(n)) for n in counts.values())
    assert rows == [f"{n:>{width}}\t{code}\t{CODES[code].name}" for code, n in order]
    assert summary.startswith(f"Found {len(expected)} findings")
    as_json = _run("check", "--no-cache", "--statistics", "--format", "json", "--extend-select", "SKL106", "pkg", cwd=project)
    assert json.loads(as_json.stdout) == [{"code": c, "name": CODES[c].name, "count": n} for c, n in order]
    sarif = _run("check", "--statistics", "--format", "sarif", "pkg", cwd=project)
    assert sarif.returncode == 2 and sarif.stdout == "" and "--statistics" in sarif.stderr


def test_count_is_the_last_line(project: Path) -> None:
    expected = _findings(project)
    proc = _run("check", "--no-cache", "--count", "--format", "concise", "pkg", cwd=project)
    lines = proc.stdout.splitlines()
    assert lines[-1] == str(len(expected)) and len(lines) == len(expected) + 1
    quiet = _run("check", "--no-cache", "--count", "-q", "--statistics", "pkg", cwd=project)
    assert quiet.stdout.splitlines()[-1] == str(len(expected))
    assert _run("check", "--no-cache", "--count", "pkg/clean.py", cwd=project).stdout == "0\n"
    bad = _run("check", "--count", "--format", "json", "pkg", cwd=project)
    assert bad.returncode == 2 and bad.stdout == "" and "--count" in bad.stderr


def test_warning_when_no_python_file(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "notes.txt").write_text("socket\n", encoding="utf-8")
    proc = _run("check", "docs", cwd=tmp_path)
    assert proc.returncode == 0
    assert proc.stderr == "socklint: warning: no Python files found under docs\n"
    assert proc.stdout == "All checks passed\n"
    quiet = _run("check", "-q", "docs", cwd=tmp_path)
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (0, "", "")
    as_json = _run("check", "--format", "json", "docs", cwd=tmp_path)
    assert json.loads(as_json.stdout) == [] and "no Python files" in as_json.stderr


def test_show_files_lists_without_checking(project: Path) -> None:
    (project / "pyproject.toml").write_text('[tool.socklint]\nexclude = ["pkg/clean.py"]\n', encoding="utf-8")
    (project / "pkg" / "README").write_text("not python\n", encoding="utf-8")
    proc = _run("check", "--show-files", "pkg", cwd=project)
    assert (proc.returncode, proc.stderr) == (0, "")
    assert proc.stdout.splitlines() == [os.path.join("pkg", "leak.py"), os.path.join("pkg", "never_closed.py")]
    assert not (project / ".socklint_cache").exists()  # nothing was analysed


def test_rules_json(tmp_path: Path) -> None:
    proc = _run("rules", "--format", "json", cwd=tmp_path)
    assert proc.returncode == 0
    rows = json.loads(proc.stdout)
    assert [r["code"] for r in rows] == list(CODES)
    for r in rows:
        c = CODES[r["code"]]
        assert r == {
            "code": c.code,
            "name": c.name,
            "summary": c.summary,
            "severity": c.severity.value,
            "default_enabled": c.default_enabled,
            "status": c.status,
            "docs_url": c.docs_url,
        }
    text = _run("rules", cwd=tmp_path).stdout.splitlines()
    assert len(text) == len(CODES) and text[0].startswith("SKL001  on ")


def test_output_is_deterministic(project: Path) -> None:
    for fmt in ("text", "concise", "sarif"):
        runs = {_run("check", "--no-cache", "-j", "2", "--format", fmt, "pkg", cwd=project).stdout for _ in range(2)}
        assert len(runs) == 1, fmt


def test_colour_on_a_terminal_only(project: Path) -> None:
    status, out, _ = _run_on_pty("check", "--no-cache", "pkg", cwd=project, env=_env())
    assert status == 1
    assert ANSI in out
    assert b"\x1b[1;33mSKL101\x1b[0m" in out  # warnings in yellow, the code in bold
    assert b"Found " in out and b"\x1b[1mFound " in out
    # The same run into a pipe: plain text.
    piped = _run("check", "--no-cache", "pkg", cwd=project)
    assert piped.returncode == 1 and "\x1b" not in piped.stdout
    # The terminal's output without its colours is exactly the piped output.
    plain = out.replace(b"\r\n", b"\n").decode()
    for seq in ("\x1b[1;33m", "\x1b[1;31m", "\x1b[1;36m", "\x1b[1;32m", "\x1b[1m", "\x1b[2m", "\x1b[34m", "\x1b[0m"):
        plain = plain.replace(seq, "")
    assert plain == piped.stdout
    # A clean run is green.
    _, clean, _ = _run_on_pty("check", "--no-cache", "pkg/clean.py", cwd=project, env=_env())
    assert b"\x1b[1;32mAll checks passed\x1b[0m" in clean


@pytest.mark.parametrize(
    ("args", "env", "on_tty", "coloured"),
    [
        ((), {"NO_COLOR": "1"}, True, False),
        ((), {"NO_COLOR": ""}, True, True),  # an empty NO_COLOR does not count (no-color.org)
        ((), {"TERM": "dumb"}, True, False),
        (("--color", "never"), {}, True, False),
        (("--color", "always"), {}, False, True),
        (("--color", "always"), {"NO_COLOR": "1"}, False, True),  # the flag beats the variable
        ((), {"FORCE_COLOR": "1"}, False, True),
        ((), {"FORCE_COLOR": "1", "NO_COLOR": "1"}, False, False),
        (("--format", "concise"), {}, True, True),
        (("--format", "json"), {}, True, False),  # machine formats are never coloured
        (("--format", "json", "--color", "always"), {}, True, False),
    ],
)
def test_colour_switches(project: Path, args: tuple[str, ...], env: dict[str, str], on_tty: bool, coloured: bool) -> None:
    full = ("check", "--no-cache", *args, "pkg")
    if on_tty:
        _, out, _ = _run_on_pty(*full, cwd=project, env=_env(**env))
    else:
        out = _run(*full, cwd=project, env=_env(**env)).stdout.encode()
    assert out.strip(), "no output: the test would prove nothing"
    assert (ANSI in out) is coloured


def test_no_colour_in_a_report_file(project: Path) -> None:
    out = project / "report.txt"
    for env in (_env(), _env(FORCE_COLOR="1")):
        status, _, _ = _run_on_pty("check", "--no-cache", "-o", str(out), "pkg", cwd=project, env=env)
        assert status == 1
        assert "\x1b" not in out.read_text(encoding="utf-8") and "Found " in out.read_text(encoding="utf-8")
    # Asked for explicitly, it is what the user gets.
    assert _run("check", "--no-cache", "--color", "always", "-o", str(out), "pkg", cwd=project).returncode == 1
    assert "\x1b[" in out.read_text(encoding="utf-8")


def _many_files(root: Path, n: int, functions: int = 1) -> None:
    root.mkdir()
    for i in range(n):
        text = "".join(LEAK.replace("def fetch", f"def fetch{i}_{j}") for j in range(functions))
        (root / f"m{i:03}.py").write_text(text, encoding="utf-8")


def test_progress_on_a_terminal_only(tmp_path: Path) -> None:
    # Enough work to outlast the half second before progress shows, even on an idle machine.
    # (Eight functions a file: one leak each is analysed in well under half a second.)
    _many_files(tmp_path / "many", 120, functions=8)
    args = ("check", "--no-cache", "-j", "1", "--statistics", "many")
    status, out, err = _run_on_pty(*args, cwd=tmp_path, env=_env(), stdout_tty=False, stderr_tty=True)
    assert status == 1, err
    assert b"socklint: " in err and b"/120 files" in err
    assert err.endswith(b"\r\x1b[K"), err[-80:]  # the line is erased before the report
    assert b"\t960\t" not in out and out.decode().splitlines()[0] == "960\tSKL101\tsocket-leak-on-early-exit"
    # Not a terminal: not a byte of progress (a CI log would keep every redraw).
    piped = _run(*args, cwd=tmp_path)
    assert piped.returncode == 1 and piped.stderr == ""
    # --quiet on a terminal: none either.
    _, _, quiet_err = _run_on_pty(*args, "-q", cwd=tmp_path, env=_env(), stdout_tty=False, stderr_tty=True)
    assert quiet_err == b""
