"""``[tool.socklint]`` through the real CLI: discovery, validation (exit 2, key named),
command-line precedence and ``--show-settings``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from frontend_sources import LEAK, NEVER_CLOSED

from socklint.api import check_source
from socklint.cli import main


def run(*args: str, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "socklint", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        input=stdin,
        check=False,
    )


def codes(proc: subprocess.CompletedProcess[str]) -> set[tuple[str, int, str]]:
    assert proc.returncode in (0, 1), proc.stderr
    return {(Path(d["path"]).name, d["line"], d["code"]) for d in json.loads(proc.stdout)}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    deep = tmp_path / "proj" / "src" / "pkg"
    deep.mkdir(parents=True)
    (deep / "leak.py").write_text(LEAK, encoding="utf-8")
    (deep / "never.py").write_text(NEVER_CLOSED, encoding="utf-8")
    return tmp_path / "proj"


def _reported(project: Path) -> list[str]:
    found = sorted(
        {
            d.code
            for name in ("leak.py", "never.py")
            for d in check_source(name, (project / "src" / "pkg" / name).read_bytes())
        }
    )
    assert len(found) >= 2, f"need two different findings to test selection, got {found}"
    return found


def _config(project: Path, body: str) -> None:
    (project / "pyproject.toml").write_text(
        f"[project]\nname = 'x'\n\n[tool.socklint]\n{body}\n", encoding="utf-8"
    )


def test_discovery_walks_up_from_the_checked_path(project: Path) -> None:
    first, *_ = _reported(project)
    baseline = codes(run("check", "--format", "json", "src", cwd=project))
    assert first in {c for *_, c in baseline}
    _config(project, f'ignore = ["{first}"]')
    # A pyproject.toml without [tool.socklint] on the way up does not stop the search.
    (project / "src" / "pyproject.toml").write_text("[project]\nname = 'inner'\n", encoding="utf-8")
    for cwd, target in (
        (project, "src"),
        (project / "src" / "pkg", "."),
        (project.parent, "proj/src/pkg/leak.py"),
    ):
        got = codes(run("check", "--format", "json", target, cwd=cwd))
        assert first not in {c for *_, c in got}, (cwd, target)
    shown = json.loads(run("check", "--show-settings", "src/pkg", cwd=project).stdout)
    assert shown["config-file"] == str((project / "pyproject.toml").resolve())
    assert shown["ignore"] == [first]


def test_stdin_uses_the_stdin_filename_for_discovery(project: Path) -> None:
    first, *_ = _reported(project)
    _config(project, f'ignore = ["{first}"]')
    outside = project.parent
    for name in ("leak.py", "never.py"):
        src = (project / "src" / "pkg" / name).read_text(encoding="utf-8")
        got = codes(
            run(
                "check",
                "--format",
                "json",
                "--stdin-filename",
                f"proj/src/pkg/{name}",
                "-",
                cwd=outside,
                stdin=src,
            )
        )
        assert first not in {c for *_, c in got}
        assert all(p == name for p, *_ in got)


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ('selekt = ["SKL1"]', "selekt"),
        ('select = "SKL1"', "select"),
        ('ignore = ["SKL1", 3]', "ignore"),
        ('extend-select = ["NOPE1"]', "extend-select"),
        ("exclude = 3", "exclude"),
        ('per-file-ignores = ["tests/*"]', "per-file-ignores"),
        ('per-file-ignores = { "tests/*" = ["XYZ"] }', "per-file-ignores"),
        ('socket-factories = "mylib.connect"', "socket-factories"),
        ("closers = [1]", "closers"),
        ("ownership-sinks = { a = 1 }", "ownership-sinks"),
        ("borrowers = true", "borrowers"),
        ('exception-sources = "everything"', "exception-sources"),
        ('target-windows = "yes"', "target-windows"),
        ("max-function-steps = 5", "max-function-steps"),
        ("heuristics = 3", "heuristics"),
        ('[tool.socklint.heuristics]\n"no-such-guess" = false', "no-such-guess"),
        ('[tool.socklint.heuristics]\n"test-file-path" = "off"', "test-file-path"),
        ("select = [", "cannot read"),
    ],
)
def test_bad_configuration_is_a_clear_error(
    project: Path,
    body: str,
    key: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # In-process (the same main() the console script calls): 18 cases x 2 runs.
    _config(project, body)
    monkeypatch.chdir(project)
    assert main(["check", "src"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert key in err and "pyproject.toml" in err
    # --show-settings validates too.
    assert main(["check", "--show-settings", "src"]) == 2
    assert key in capsys.readouterr().err


def test_bad_configuration_through_the_console_script(project: Path) -> None:
    _config(project, 'selekt = ["SKL1"]')
    proc = run("check", "src", cwd=project)
    assert proc.returncode == 2 and "selekt" in proc.stderr and "Traceback" not in proc.stderr


def test_command_line_overrides_the_file(project: Path) -> None:
    first, second, *_ = _reported(project)
    _config(project, f'select = ["{first}"]')
    only_first = codes(run("check", "--format", "json", "src", cwd=project))
    assert {c for *_, c in only_first} == {first}
    # --select replaces the file's selection (and its ignore list).
    only_second = codes(run("check", "--format", "json", "--select", second, "src", cwd=project))
    assert {c for *_, c in only_second} == {second}
    _config(project, f'ignore = ["{first}"]')
    assert first in {
        c
        for *_, c in codes(run("check", "--format", "json", "--select", first, "src", cwd=project))
    }
    # --ignore adds to the file's ignore list.
    neither = codes(run("check", "--format", "json", "--ignore", second, "src", cwd=project))
    assert not {first, second} & {c for *_, c in neither}
    shown = json.loads(
        run("check", "--show-settings", "--ignore", second, "src", cwd=project).stdout
    )
    assert shown["ignore"] == [first, second]


def test_bad_codes_on_the_command_line(project: Path) -> None:
    proc = run("check", "--select", "SKL1,NOPE", "src", cwd=project)
    assert proc.returncode == 2 and "--select" in proc.stderr and "NOPE" in proc.stderr


def test_explicit_config_file(project: Path, tmp_path: Path) -> None:
    first, *_ = _reported(project)
    other = tmp_path / "elsewhere.toml"
    other.write_text(f'[tool.socklint]\nignore = ["{first}"]\n', encoding="utf-8")
    got = codes(run("check", "--format", "json", "--config", str(other), "src", cwd=project))
    assert first not in {c for *_, c in got}
    missing = run("check", "--config", str(tmp_path / "missing.toml"), "src", cwd=project)
    assert (
        missing.returncode == 2
        and "missing.toml" in missing.stderr
        and "Traceback" not in missing.stderr
    )


def test_show_settings_defaults(tmp_path: Path) -> None:
    proc = run("check", "--show-settings", ".", cwd=tmp_path)
    assert proc.returncode == 0
    shown = json.loads(proc.stdout)
    assert shown["config-file"] is None
    assert shown["select"] == ["SKL"] and shown["ignore"] == []
    assert set(shown) >= {
        "select",
        "extend-select",
        "ignore",
        "exclude",
        "per-file-ignores",
        "socket-factories",
        "closers",
        "ownership-sinks",
        "borrowers",
        "exception-sources",
        "target-windows",
    }


def test_per_file_ignores_and_exclude(project: Path) -> None:
    first, *_ = _reported(project)
    _config(
        project, f'per-file-ignores = {{ "src/pkg/leak.py" = ["{first}"] }}\nexclude = ["never.py"]'
    )
    got = codes(run("check", "--format", "json", "src", cwd=project))
    assert ("leak.py", first) not in {(p, c) for p, _, c in got}
    assert all(p != "never.py" for p, *_ in got)


UNRELATED_RAISE = """\
import json
import socket


def report(addr, event):
    sock = socket.create_connection(addr)
    payload = json.dumps(event)
    try:
        sock.sendall(payload.encode())
    finally:
        sock.close()
"""


@pytest.mark.parametrize(
    ("body", "extra", "reported"),
    [
        ("", (), False),
        ('exception-sources = "socket-calls"', (), False),
        ('exception-sources = "any-call"', (), True),
        ('exception-sources = "any-call"\nignore = ["SKL106"]', (), False),
        ('exception-sources = "any-call"', ("--select", "SKL2"), False),
        ('exception-sources = "any-call"', ("--select", "SKL1"), True),
        ("", ("--extend-select", "SKL106"), True),
    ],
)
def test_exception_sources_any_call_reports_skl106(
    tmp_path: Path, body: str, extra: tuple[str, ...], reported: bool
) -> None:
    (tmp_path / "mod.py").write_text(UNRELATED_RAISE, encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text(f"[tool.socklint]\n{body}\n", encoding="utf-8")
    got = codes(run("check", "--no-cache", "--format", "json", *extra, "mod.py", cwd=tmp_path))
    assert (("mod.py", 7, "SKL106") in got) is reported, got


# A recv loop that never checks for end of stream: SKL105, which the test-code preset keeps.
_SPIN = """\
import socket


def read_all(sock):
    buf = b""
    while len(buf) < 4:
        buf += sock.recv(4 - len(buf))
    return buf
"""


def _test_code_preset() -> str:
    """The `[tool.socklint]` preset of docs/configuration.md, "Test code", as the page shows it
    (and the README, the same table)."""
    root = Path(__file__).resolve().parent.parent
    page = (root / "docs" / "configuration.md").read_text(encoding="utf-8")
    section = page.split("## Test code", 1)[1].split("\n## ", 1)[0]
    block = section.split("```toml\n", 1)[1].split("```", 1)[0]
    assert block.startswith("[tool.socklint]\n")
    assert block in (root / "README.md").read_text(encoding="utf-8")
    return block[len("[tool.socklint]\n") :]


@pytest.mark.parametrize(
    ("rel", "is_test"),
    [
        ("tests/test_client.py", True),
        ("pkg/tests/helpers.py", True),
        ("Lib/test/test_socket.py", True),
        ("pkg/testing/server.py", True),
        ("test_wire.py", True),
        ("pkg/wire_test.py", True),
        ("pkg/wire_tests.py", True),
        ("conftest.py", True),
        ("pkg/client.py", False),
        ("pkg/contest.py", False),
        ("pkg/testsuite_runner.py", False),
    ],
)
def test_the_test_code_preset_is_one_switch_and_names_the_test_files(tmp_path: Path, rel: str, is_test: bool) -> None:
    from socklint.rules._support import TEST_PATH

    # The preset's globs and the test-file-path heuristic agree on what test code is.
    assert bool(TEST_PATH.search(rel)) == is_test
    target = tmp_path / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(LEAK + "\n\n" + _SPIN, encoding="utf-8")
    before = {c for _, _, c in codes(run("check", "--format", "json", ".", cwd=tmp_path))}
    assert {"SKL101", "SKL102", "SKL105"} <= before  # reported by default, in tests too
    _config(tmp_path, _test_code_preset())
    after = {c for _, _, c in codes(run("check", "--format", "json", ".", cwd=tmp_path))}
    # With the preset: no leak finding in test code, the spinning loop still reported.
    assert after == ({"SKL105"} if is_test else before)
