"""Fixes (socklint/fixes.py, docs/fixes.md): the rewritten code is checked exactly, parses,
has no leak of the fixed socket and no new finding, really closes the descriptor when the
call that leaked it fails, and `socklint check --fix / --diff` write (or do not write) it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import warnings
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from fixture_markers import parse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from socklint.api import check_source
from socklint.config import Settings
from socklint.diagnostics import Diagnostic
from socklint.fixes import FIXABLE_CODES, checker, fix_file, fix_text, line_edit

ROOT = Path(__file__).resolve().parent.parent
FIX_FIXTURES = sorted((ROOT / "fixtures" / "fixes").glob("*.py"))
ALL_FIXTURES = sorted(p for p in (ROOT / "fixtures").rglob("*.py") if "project" not in p.parts)


def _leaks_of(diags: list[Diagnostic], line: int, name: str) -> list[Diagnostic]:
    return [
        d for d in diags
        if d.code.startswith("SKL1") and d.trace and d.trace[0].line == line and f"`{name}` (created at line" in d.message
    ]


def _key(d: Diagnostic) -> tuple[str, str]:
    import re

    return d.code, re.sub(r"\d+", "N", d.message)


def _assert_sound(path: str, old: str, new: str, applied: Any, st_: Settings) -> None:
    """What every fix promises: the file parses (compiles), the fixed sockets no longer leak,
    and nothing is reported that was not reported before."""
    compile(new, path, "exec")
    before = check_source(path, old.encode(), st_)
    after = check_source(path, new.encode(), st_)
    assert not (Counter(_key(d) for d in after) - Counter(_key(d) for d in before)), after
    for f in applied:
        # Each fix alone, on the text it was computed from: no leak of its socket is left.
        assert not _leaks_of(check_source(path, f.new_text.encode(), st_), f.line, f.name), f
        compile(f.new_text, path, "exec")


@pytest.mark.parametrize("path", FIX_FIXTURES, ids=[p.name for p in FIX_FIXTURES])
def test_fix_fixture_rewrites_exactly(path: Path) -> None:
    st_ = parse(path).settings
    data = path.read_bytes()
    expected = path.with_suffix(".fixed").read_bytes()
    unsafe_file = path.with_suffix(".unsafe-fixed")
    expected_unsafe = unsafe_file.read_bytes() if unsafe_file.exists() else expected
    safe, safe_result = fix_file(str(path), data, st_)
    unsafe, unsafe_result = fix_file(str(path), data, st_, unsafe=True)
    assert (safe or data).decode() == expected.decode()
    assert (unsafe or data).decode() == expected_unsafe.decode()
    for result in (safe_result, unsafe_result):
        if result.applied:
            _assert_sound(str(path), data.decode(), result.text, result.applied, st_)
    if path.name.startswith("unsafe_"):
        assert safe is None and unsafe is not None and all(not f.safe for f in unsafe_result.applied)
    elif path.name.startswith("not_fixed_"):
        assert unsafe is None
    else:
        # The fixtures of safe fixes: every leak finding of the file is gone.
        assert safe is not None
        left = [d for d in check_source(str(path), safe, st_) if d.code in FIXABLE_CODES]
        assert left == []


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=st.sampled_from(ALL_FIXTURES), unsafe=st.booleans())
def test_fixing_any_fixture_leaves_a_sound_file(path: Path, unsafe: bool) -> None:
    st_ = parse(path).settings
    data = path.read_bytes()
    new, result = fix_file(str(path), data, st_, unsafe=unsafe)
    if new is None:
        return
    assert unsafe or all(f.safe for f in result.applied)
    _assert_sound(str(path), data.decode(), new.decode(), result.applied, st_)


# Generated functions: a socket, a stretch of statements that use it, an ending that closes it,
# hands it on or leaves it; inside a loop or not.
_STEPS = [
    "s.settimeout(1)",
    "s.connect(addr)",
    "data = s.recv(4)",
    "if flag:\n    return None",
    "if flag:\n    raise ValueError('no')",
    "registry.track(s)",
    "try:\n    s.sendall(b'x')\nexcept OSError:\n    return None",
    "log.append(flag)",
    "if flag:\n    continue",
    "s.sendall(b'x')  # a comment",
]
_ENDS = ["s.close()", "return s", "self.sock = s", "", "try:\n    s.sendall(b'y')\nfinally:\n    s.close()"]
_MAKERS = ["socket.socket()", "socket.create_connection(addr)", "make()"]


def _program(maker: str, steps: list[str], end: str, loop: bool) -> str:
    body = [f"s = {maker}", *steps, end]
    if not loop:
        body = [b for b in body if "continue" not in b]
    text = "\n".join(b for b in body if b)
    pad = "        " if loop else "    "
    inner = "\n".join(pad + ln for ln in text.splitlines())
    head = "def run(self, addr, flag, registry, log):\n" + ("    for _ in range(3):\n" if loop else "")
    return "import socket\n\n\ndef make():\n    return socket.socket()\n\n\n" + head + inner + "\n"


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    maker=st.sampled_from(_MAKERS),
    steps=st.lists(st.sampled_from(_STEPS), min_size=1, max_size=5),
    end=st.sampled_from(_ENDS),
    loop=st.booleans(),
    unsafe=st.booleans(),
)
def test_fixing_generated_functions_leaves_a_sound_file(maker: str, steps: list[str], end: str, loop: bool, unsafe: bool) -> None:
    text = _program(maker, steps, end, loop)
    st_ = Settings()
    result = fix_text(text, checker("gen.py", st_), unsafe=unsafe)
    if result.applied:
        _assert_sound("gen.py", text, result.text, result.applied, st_)


# --- the fixed code really closes the socket ----------------------------------------------


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts descriptors in /proc")
@pytest.mark.parametrize("fixture,call", [
    ("close_on_failure_before_return", "open_channel(addr, 2)"),
    ("close_on_failure_before_protecting_try", "query(addr, b'x', 2)"),
    ("with_create_use_close", "ping(addr)"),
])
def test_fixed_code_closes_the_socket_when_connect_is_refused(fixture: str, call: str) -> None:
    # A port nothing listens on: bound, then closed, so connect() is refused.
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    addr = probe.getsockname()
    probe.close()
    counts = {}
    for suffix in (".py", ".fixed"):
        code = (ROOT / "fixtures" / "fixes" / (fixture + suffix)).read_text()
        env: dict[str, Any] = {"__name__": "fixture"}
        exec(compile(code, fixture + suffix, "exec"), env)  # noqa: S102 - the fixture is our own code
        before = _open_fds()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)
            try:
                eval(call, env, {"addr": addr})
            except OSError:
                # While the exception (and the failed frame with its socket) is alive: has the
                # descriptor been closed?
                counts[suffix] = _open_fds() - before
    assert counts == {".py": 1, ".fixed": 0}


# --- the command line ---------------------------------------------------------------------


def _cli(args: list[str], cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "socklint", "check", "--no-source", *args],
        cwd=cwd, check=False, capture_output=True, text=True, timeout=300, input=stdin,
    )


def _copy(tmp_path: Path, *names: str) -> list[Path]:
    out = []
    for name in names:
        dst = tmp_path / f"{name}.py"
        dst.write_bytes((ROOT / "fixtures" / "fixes" / f"{name}.py").read_bytes())
        out.append(dst)
    return out


def test_diff_prints_the_fixes_and_writes_nothing(tmp_path: Path) -> None:
    files = _copy(tmp_path, "with_create_use_close", "close_before_early_return", "not_fixed_fall_off_end")
    before = [p.read_bytes() for p in files]
    r = _cli(["--diff", "--no-cache", "."], tmp_path)
    assert r.returncode == 1, r.stderr
    assert [p.read_bytes() for p in files] == before
    assert "--- with_create_use_close.py\n+++ with_create_use_close.py\n" in r.stdout and "+    with socket.socket() as s:  # the probe" in r.stdout
    assert "not_fixed_fall_off_end" not in r.stdout
    assert "Would fix 4 findings in 2 files." in r.stderr
    # Nothing to fix: no diff, exit 0 (whatever findings are left).
    clean = _cli(["--diff", "--no-cache", "not_fixed_fall_off_end.py"], tmp_path)
    assert (clean.returncode, clean.stdout) == (0, "")


def test_fix_writes_the_fixed_files_and_reports_what_is_left(tmp_path: Path) -> None:
    files = _copy(tmp_path, "with_create_use_close", "unsafe_lent_before_hand_off", "not_fixed_fall_off_end")
    # A first run fills the cache with the findings of the old text.
    first = _cli(["."], tmp_path)
    assert first.returncode == 1 and first.stdout.count("SKL1") == 4
    r = _cli(["--fix", "."], tmp_path)
    assert files[0].read_text() == (ROOT / "fixtures/fixes/with_create_use_close.fixed").read_text()
    assert files[1].read_text() == (ROOT / "fixtures/fixes/unsafe_lent_before_hand_off.py").read_text()
    # What is left is reported from the new text, not from the cache of the old one.
    assert "with_create_use_close.py" not in r.stdout
    assert "unsafe_lent_before_hand_off.py:10:5: SKL102 `s`" in r.stdout
    assert "Fixed 2 findings in 1 file." in r.stdout
    assert r.returncode == 1
    again = _cli(["."], tmp_path)
    assert "with_create_use_close.py" not in again.stdout
    unsafe = _cli(["--fix", "--unsafe-fixes", "."], tmp_path)
    assert files[1].read_text() == (ROOT / "fixtures/fixes/unsafe_lent_before_hand_off.unsafe-fixed").read_text()
    assert "Fixed 1 finding in 1 file (1 unsafe fix)." in unsafe.stdout
    assert not list(tmp_path.glob(".*.tmp"))


def test_fix_through_a_symlink_keeps_the_link_and_the_mode(tmp_path: Path) -> None:
    (real,) = _copy(tmp_path, "close_before_raise_in_handler")
    real.chmod(0o640)
    link = tmp_path / "link.py"
    link.symlink_to(real.name)
    r = _cli(["--fix", "--no-cache", "link.py"], tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert link.is_symlink()
    assert real.read_text() == (ROOT / "fixtures/fixes/close_before_raise_in_handler.fixed").read_text()
    assert (real.stat().st_mode & 0o777) == 0o640


def test_text_output_marks_fixable_findings(tmp_path: Path) -> None:
    _copy(tmp_path, "with_create_use_close", "unsafe_lent_before_hand_off", "not_fixed_fall_off_end")
    plain = _cli(["--no-cache", "--output-format", "concise", "."], tmp_path)
    assert "[*]" not in plain.stdout  # marks are asked for: each costs a verified fix
    r = _cli(["--no-cache", "--output-format", "concise", "--show-fixable", "."], tmp_path)
    lines = r.stdout.splitlines()
    assert "with_create_use_close.py:10:5: SKL102 [*] `s` (created at line 9)" in lines[2]
    assert "[*]" not in lines[0] and "[*]" not in lines[1]  # no fix; an unsafe fix only
    assert lines[-1] == "[*] 2 fixable with `socklint check --fix` (1 more with `--unsafe-fixes`)."
    u = _cli(["--no-cache", "--output-format", "concise", "--unsafe-fixes", "."], tmp_path)
    assert "SKL102 [*]" in u.stdout.splitlines()[1]
    assert u.stdout.splitlines()[-1] == "[*] 3 fixable with `socklint check --fix --unsafe-fixes`."


def test_fix_on_stdin_prints_the_fixed_source(tmp_path: Path) -> None:
    src = (ROOT / "fixtures/fixes/close_before_early_return.py").read_text()
    r = _cli(["--fix", "--stdin-filename", "x.py"], tmp_path, stdin=src)
    assert r.stdout == (ROOT / "fixtures/fixes/close_before_early_return.fixed").read_text()
    assert r.returncode == 0


def test_line_edit_is_the_smallest_replacement() -> None:
    assert line_edit("a\nb\nc\n", "a\nx\ny\nc\n") == (1, 2, "x\ny\n")
    assert line_edit("a\nb\n", "a\nb\n") == (2, 2, "")
