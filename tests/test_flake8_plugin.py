"""The flake8 plugin through the real ``flake8`` program, compared with ``socklint check``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from frontend_sources import CLEAN, LEAK, NEVER_CLOSED, NO_SOCKETS

from socklint.codes import CODES

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = sorted((ROOT / "fixtures").rglob("*.py"))
BIN = Path(sys.executable).parent
FLAKE8 = [
    sys.executable,
    "-m",
    "flake8",
    "--no-show-source",
    "--format=%(path)s:%(row)d:%(col)d:%(code)s",
]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    return env


def flake8(*args: str, cwd: Path | None = None) -> tuple[int, set[tuple[str, int, int, str]]]:
    proc = subprocess.run(
        [*FLAKE8, *args], capture_output=True, text=True, cwd=cwd, env=_env(), check=False
    )
    assert proc.returncode in (0, 1), proc.stderr + proc.stdout
    found = set()
    for line in proc.stdout.splitlines():
        path, row, col, code = line.rsplit(":", 3)
        found.add((os.path.normpath(path), int(row), int(col), code))
    return proc.returncode, found


def socklint(*args: str, cwd: Path | None = None) -> set[tuple[str, int, int, str]]:
    proc = subprocess.run(
        [sys.executable, "-m", "socklint", "check", "--format", "json", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=_env(),
        check=False,
    )
    assert proc.returncode in (0, 1), proc.stderr
    return {
        (os.path.normpath(d["path"]), d["line"], d["column"], d["code"])
        for d in json.loads(proc.stdout)
    }


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "leak.py").write_text(LEAK, encoding="utf-8")
    (tmp_path / "never.py").write_text(NEVER_CLOSED, encoding="utf-8")
    (tmp_path / "clean.py").write_text(CLEAN, encoding="utf-8")
    (tmp_path / "plain.py").write_text(NO_SOCKETS, encoding="utf-8")
    return tmp_path


def test_same_findings_as_socklint_check_on_every_fixture() -> None:
    assert FIXTURES, "no fixtures to compare on"
    paths = [str(p.relative_to(ROOT)) for p in FIXTURES]
    expected = socklint(*paths, cwd=ROOT)
    assert expected, "socklint reports nothing on the fixtures; the comparison would prove nothing"
    _, got = flake8("--select", "SKL,E999", *paths, cwd=ROOT)
    # flake8 runs no AST plugin on a file its own parser rejects (E999): those files cannot be
    # compared, the rest must match exactly.
    unparsable = {p for p, *_, c in got if c == "E999"}
    assert got - {g for g in got if g[0] in unparsable} == {
        e for e in expected if e[0] not in unparsable
    }


def test_same_findings_on_small_project(project: Path) -> None:
    expected = socklint(".", cwd=project)
    assert expected
    rc, got = flake8("--select", "SKL", ".", cwd=project)
    assert rc == 1
    assert got == expected
    # -j2: the same result from worker processes.
    assert flake8("-j2", "--select", "SKL", ".", cwd=project)[1] == expected


def test_noqa_and_extend_ignore(project: Path) -> None:
    _, before = flake8("--select", "SKL", "leak.py", cwd=project)
    assert before
    target = min(before)
    line_no, code = target[1], target[3]
    lines = LEAK.splitlines(keepends=True)
    lines[line_no - 1] = lines[line_no - 1].rstrip("\n") + f"  # noqa: {code}\n"
    (project / "leak.py").write_text("".join(lines), encoding="utf-8")
    _, after = flake8("--select", "SKL", "leak.py", cwd=project)
    assert target not in after
    assert after == before - {target}

    # --extend-ignore by full code and by prefix; note "S" (bandit users) hides SKL too.
    _, ignored = flake8("--extend-ignore", code, "never.py", "leak.py", cwd=project)
    assert code not in {c for *_, c in ignored}
    rc, none = flake8("--extend-ignore", "S", "never.py", "leak.py", cwd=project)
    assert rc == 0 and none == set()
    # ...and selecting SKL explicitly brings them back (the longer prefix wins).
    _, back = flake8(
        "--extend-ignore", "S", "--extend-select", "SKL", "never.py", "leak.py", cwd=project
    )
    assert {c for *_, c in back} == {
        c for *_, c in flake8("never.py", "leak.py", cwd=project)[1] if c.startswith("SKL")
    }
    assert back


def test_opt_in_codes_are_default_ignored() -> None:
    # The plugin tells flake8 which codes are opt-in, from codes.py.
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            (
                "from flake8.options.manager import OptionManager\n"
                "from socklint.integrations.flake8 import Plugin\n"
                "m = OptionManager(version='x', plugin_versions='', parents=[], formatter_names=[])\n"
                "Plugin.add_options(m)\n"
                "print(','.join(m.extended_default_ignore))\n"
            ),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert set(proc.stdout.strip().split(",")) == {
        c.code for c in CODES.values() if not c.default_enabled
    }


def test_config_error_names_the_key(project: Path) -> None:
    (project / "pyproject.toml").write_text(
        '[tool.socklint]\nselekt = ["SKL1"]\n', encoding="utf-8"
    )
    proc = subprocess.run(
        [*FLAKE8, "leak.py"], capture_output=True, text=True, cwd=project, env=_env(), check=False
    )
    assert proc.returncode != 0
    assert "selekt" in proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr


def test_engine_settings_come_from_pyproject(project: Path) -> None:
    # A project's own factory: findings only because [tool.socklint] names it.
    (project / "pyproject.toml").write_text(
        '[tool.socklint]\nsocket-factories = ["mylib.open_channel"]\n', encoding="utf-8"
    )
    factory_src = "from mylib import open_channel\n\n\ndef use(host):\n    ch = open_channel(host)\n    if not host:\n        return None\n    ch.close()\n"
    (project / "factory.py").write_text(factory_src, encoding="utf-8")
    expected = socklint("factory.py", cwd=project)
    assert expected, "socket-factories did not teach the engine the factory"
    assert flake8("--select", "SKL", "factory.py", cwd=project)[1] == expected


def test_file_without_socket_code_costs_next_to_nothing(tmp_path: Path) -> None:
    # In-process: the plugin on 2000 lines of non-socket code must not parse them with libcst
    # (its cost against flake8 is measured by benchmarks/run.py, not timed here).
    code = (
        "import sys\n"
        "from socklint.integrations.flake8 import Plugin\n"
        f"lines = [{NO_SOCKETS!r}] * 2000\n"
        "text = ''.join(lines).splitlines(True)\n"
        "for _ in range(3): print(len(list(Plugin(None, 'plain.py', text).run())))\n"
        "print('libcst' in sys.modules)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, check=True
    )
    *counts, libcst_loaded = proc.stdout.split()
    assert counts == ["0", "0", "0"]
    assert libcst_loaded == "False"


def test_declared_encoding_keeps_columns(tmp_path: Path) -> None:
    # flake8 hands the plugin decoded text; re-encoding it as UTF-8 under a latin-1 cookie
    # would shift every column after the "é" on that line.
    src = "# -*- coding: latin-1 -*-\n" + NEVER_CLOSED.replace(
        "    sock = socket", '    tag = "é"; sock = socket'
    )
    (tmp_path / "latin.py").write_bytes(src.encode("latin-1"))
    expected = socklint("latin.py", cwd=tmp_path)
    assert expected
    assert flake8("--select", "SKL", "latin.py", cwd=tmp_path)[1] == expected
    line = src.splitlines()[min(e[1] for e in expected) - 1]
    assert "é" in line, "the finding is not on the line with the non-ASCII character"


def test_stdin(project: Path) -> None:
    expected = socklint("leak.py", cwd=project)
    assert expected
    proc = subprocess.run(
        [*FLAKE8, "--select", "SKL", "--stdin-display-name", "leak.py", "-"],
        input=LEAK,
        capture_output=True,
        text=True,
        cwd=project,
        env=_env(),
        check=False,
    )
    got = {
        (p, int(r), int(c), code)
        for p, r, c, code in (ln.rsplit(":", 3) for ln in proc.stdout.splitlines())
    }
    assert got == expected


def test_undecodable_file_is_reported_like_the_cli(tmp_path: Path) -> None:
    # Invalid UTF-8: flake8 falls back to latin-1 and runs the plugin; socklint check says SKL002.
    (tmp_path / "bad.py").write_bytes(NEVER_CLOSED.encode("utf-8").replace(b"True", b"'\xff'"))
    expected = socklint("bad.py", cwd=tmp_path)
    assert {c for *_, c in expected} == {"SKL002"}
    assert flake8("--select", "SKL", "bad.py", cwd=tmp_path)[1] == expected
