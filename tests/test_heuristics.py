"""Named heuristics: the registry, the ``[tool.socklint.heuristics]`` table, ``socklint
heuristics``, and the documentation table in docs/configuration.md."""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from socklint.config import ConfigError, Settings, settings_from_mapping
from socklint.heuristics import HEURISTICS, enabled, words

ROOT = Path(__file__).resolve().parent.parent
CONFIG_DOC = ROOT / "docs" / "configuration.md"


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "socklint", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        check=False,
    )


def _doc_rows() -> dict[str, list[str]]:
    text = CONFIG_DOC.read_text(encoding="utf-8")
    section = text.split("## Heuristics", 1)[1].split("\n## ", 1)[0]
    rows: dict[str, list[str]] = {}
    for line in section.splitlines():
        m = re.match(r"^\| `([a-z0-9-]+)` \|(.*)\|\s*$", line)
        if m:
            rows[m.group(1)] = [c.strip() for c in m.group(2).split(" | ")]
    return rows


def test_the_documentation_table_matches_the_registry() -> None:
    rows = _doc_rows()
    assert sorted(rows) == sorted(HEURISTICS)
    for hid, h in HEURISTICS.items():
        guesses, why, codes, default, off = rows[hid]
        assert guesses == h.summary, hid
        assert why == h.why, hid
        assert codes == ", ".join(h.codes), hid
        assert default == ("on" if h.default else "off"), hid
        assert off == f'`"{hid}" = {"false" if h.default else "true"}`', hid


def test_every_heuristic_says_what_why_and_which_codes() -> None:
    for h in HEURISTICS.values():
        assert h.summary and h.why and h.codes, h.id
        assert all(re.fullmatch(r"SKL\d{3}", c) for c in h.codes), h.id


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("serve_dropbox", ["serve", "dropbox"]),
        ("isWindows", ["is", "windows"]),
        ("IS_WINDOWS", ["is", "windows"]),
        ('sys.platform == "win32"', ["sys", "platform", "win", "32"]),
        ("HTTPServer", ["http", "server"]),
        ("self.timed_out", ["self", "timed", "out"]),
    ],
)
def test_words_split_identifiers(text: str, expected: list[str]) -> None:
    assert words(text) == expected


def test_settings_keep_only_switched_heuristics_hashable_and_sorted() -> None:
    some = sorted(HEURISTICS)[:2]
    s = settings_from_mapping({"heuristics": {some[1]: False, some[0]: False}})
    assert s.heuristics == ((some[0], False), (some[1], False))
    hash(s)
    assert not enabled(s, some[0]) and enabled(s, sorted(HEURISTICS)[2])
    # Restating a default stores nothing: the cache key stays that of the defaults.
    same = settings_from_mapping({"heuristics": {some[0]: HEURISTICS[some[0]].default}})
    assert same.cache_key() == Settings().cache_key()
    assert s.cache_key() != Settings().cache_key()


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"abort-funtion-name": False}, "unknown heuristic 'abort-funtion-name'"),
        ({"test-file-path": "no"}, "expected true or false"),
        ({"test-file-path": 0}, "expected true or false"),
        (["test-file-path"], "expected a table"),
    ],
)
def test_bad_heuristics_tables_are_config_errors(table: object, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        settings_from_mapping({"heuristics": table}, source="pyproject.toml")


def test_unknown_id_is_a_programming_error() -> None:
    with pytest.raises(KeyError):
        enabled(Settings(), "no-such-heuristic")


def test_the_command_lists_ids_defaults_and_effective_state(tmp_path: Path) -> None:
    first, second = sorted(HEURISTICS)[:2]
    (tmp_path / "pyproject.toml").write_text(
        f'[tool.socklint.heuristics]\n"{second}" = false\n', encoding="utf-8"
    )
    (tmp_path / "pkg").mkdir()
    proc = run("heuristics", "pkg", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].split() [:3] == ["id", "default", "effective"]
    table = [ln.split(None, 3) for ln in lines[1:]]
    assert [r[0] for r in table] == sorted(HEURISTICS)
    state = {r[0]: (r[1], r[2], r[3]) for r in table}
    assert state[first][:2] == ("on", "on") and state[second][:2] == ("on", "off")
    assert state[first][2] == HEURISTICS[first].summary
    # Deterministic: the same bytes twice.
    assert run("heuristics", "pkg", cwd=tmp_path).stdout == proc.stdout


def test_the_command_reports_a_bad_table(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.socklint.heuristics]\n"nope" = false\n', encoding="utf-8"
    )
    proc = run("heuristics", cwd=tmp_path)
    assert proc.returncode == 2
    assert "unknown heuristic 'nope'" in proc.stderr and "Traceback" not in proc.stderr


def test_show_settings_prints_the_table(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.socklint.heuristics]\n"test-file-path" = false\n', encoding="utf-8"
    )
    proc = run("check", "--show-settings", ".", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert '"test-file-path": false' in proc.stdout


def test_replace_keeps_settings_frozen() -> None:
    s = replace(Settings(), heuristics=(("test-file-path", False),))
    with pytest.raises(AttributeError):
        s.heuristics = ()  # type: ignore[misc]


def test_each_rule_page_names_the_heuristics_that_change_it() -> None:
    rules = ROOT / "docs" / "rules"
    missing = [
        (h.id, code)
        for h in HEURISTICS.values()
        for code in h.codes
        if f"`{h.id}`" not in (rules / f"{code}.md").read_text(encoding="utf-8")
    ]
    assert missing == []


def _src(*lines: str) -> str:
    return "\n".join(lines) + "\n"


# heuristic: (source, code, reported while the guess is on?)
_FLOW_CASES: dict[str, tuple[str, str, bool]] = {
    "resource-types": (
        _src(
            "import socket",
            "",
            "class Conn:",
            "    def __init__(self, addr):",
            "        self.sock = socket.create_connection(addr)",
            "",
            "    def close(self):",
            "        self.sock.close()",
            "",
            "def f(addr, quick):",
            "    c = Conn(addr)",
            "    if quick:",
            "        return None",
            "    c.close()",
        ),
        "SKL101",
        True,
    ),
    "class-call-takes-ownership": (
        _src("import socket", "", "def f(addr):", "    s = socket.create_connection(addr)", "    return Session(s)"),
        "SKL102",
        False,
    ),
    "class-variable-call-takes-ownership": (
        _src("import socket", "", "def f(self, addr):", "    s = socket.create_connection(addr)", "    return self.handler_class(s)"),
        "SKL102",
        False,
    ),
    "closes-by-name": (
        _src(
            "import socket",
            "from util import close_quietly",
            "",
            "def f(addr, fast):",
            "    s = socket.create_connection(addr)",
            "    if fast:",
            "        s.close()",
            "        return None",
            "    close_quietly(s)",
            "    return 1",
        ),
        "SKL101",
        False,
    ),
    "logging-call": (
        _src("import socket", "", "def f(addr, log):", "    s = socket.create_connection(addr)", "    log.debug('connected %s', s)", "    s.close()"),
        "SKL102",
        False,
    ),
    "logger-receiver": (
        _src(
            "import socket",
            "",
            "def note(msg):",
            "    vlog.err(msg)",
            "",
            "def f(addr):",
            "    s = socket.create_connection(addr)",
            "    note('connected')",
            "    s.close()",
        ),
        "SKL106",
        False,
    ),
    "test-assertion": (
        _src(
            "import socket",
            "import unittest",
            "",
            "class T(unittest.TestCase):",
            "    def test_x(self, n=1):",
            "        s = socket.socket()",
            "        self.assertGreater(n, 0)",
            "        s.close()",
        ),
        "SKL106",
        False,
    ),
    "accessor": (
        _src("import socket", "", "def f(addr):", "    s = socket.create_connection(addr)", "    s.getstate()", "    s.close()"),
        "SKL102",
        False,
    ),
    "constant-by-case": (
        _src(
            "import socket",
            "",
            "def f(addr, mode):",
            "    if mode == PLAIN:",
            "        s = socket.create_connection(addr)",
            "    else:",
            "        s = None",
            "    if mode == TLS:",
            "        return None",
            "    if s is not None:",
            "        s.close()",
        ),
        "SKL101",
        False,
    ),
    "wrapper-socket-attribute": (
        _src("import socket", "", "def f(addr):", "    s = socket.create_connection(addr)", "    s._sock.close()"),
        "SKL103",
        False,
    ),
    "event-loop-by-name": (
        _src(
            "import socket",
            "",
            "async def f(self):",
            "    s = socket.socket()",
            "    fut = self.loop.sock_recv(s, 1)",
            "    s.close()",
            "    return fut",
        ),
        "SKL102",
        False,
    ),
    "socket-module-by-name": (
        _src("import gevent.socket", "", "def f(addr):", "    s = gevent.socket.create_connection(addr)", "    return s.recv(1)"),
        "SKL103",
        True,
    ),
    "ssl-context-by-name": (
        _src("def f(ctx, raw):", "    conn = ctx.wrap_socket(raw)", "    return conn.recv(1)"),
        "SKL103",
        True,
    ),
    "dup-receiver-name": (
        _src("def f(self):", "    d = self.sock.dup()", "    return d.recv(1)"),
        "SKL103",
        True,
    ),
    # `self.disconnect()` of a base class in another module, in the handler of `__init__`.
    "object-method-closes-by-name": (
        _src(
            "import socket",
            "from lib import Base",
            "",
            "class C(Base):",
            "    def __init__(self, addr):",
            "        self.sock = socket.create_connection(addr)",
            "        try:",
            "            self.sock.sendall(b'x')",
            "        except BaseException:",
            "            self.disconnect()",
            "            raise",
        ),
        "SKL111",
        False,
    ),
}


def test_every_flow_heuristic_has_a_case() -> None:
    flow = sorted(hid for hid, h in HEURISTICS.items() if any(c.startswith("SKL1") for c in h.codes))
    assert sorted(_FLOW_CASES) == flow


@pytest.mark.parametrize("hid", sorted(_FLOW_CASES))
def test_switching_a_flow_heuristic_off_undoes_its_guess(hid: str) -> None:
    from socklint.api import check_source

    source, code, when_on = _FLOW_CASES[hid]
    on = Settings(select=("ALL",))
    off = replace(on, heuristics=((hid, False),))
    codes_on = [d.code for d in check_source("m.py", source.encode(), on)]
    codes_off = [d.code for d in check_source("m.py", source.encode(), off)]
    assert (code in codes_on) is when_on, codes_on
    assert (code in codes_off) is not when_on, codes_off
