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


_FLOW_CASES = {
    # heuristic: (code, the finding it hides while on)
    "class-call-takes-ownership": (
        "import socket\n\n\ndef f(addr):\n    s = socket.create_connection(addr)\n    return Session(s)\n",
        "SKL102",
    ),
    "closes-by-name": (
        ("import socket\nfrom util import close_quietly\n\n\ndef f(addr, fast):\n"
        "    s = socket.create_connection(addr)\n    if fast:\n        s.close()\n        return None\n"
        "    close_quietly(s)\n    return 1\n"),
        "SKL101",
    ),
    "logging-call": (
        ("import socket\n\n\ndef f(addr, log):\n    s = socket.create_connection(addr)\n"
        "    log.debug('connected %s', s)\n    s.close()\n"),
        "SKL102",
    ),
    "constant-by-case": (
        ("import socket\n\n\ndef f(addr, mode):\n    if mode == PLAIN:\n        s = socket.create_connection(addr)\n"
        "    else:\n        s = None\n    if mode == TLS:\n        return None\n    if s is not None:\n        s.close()\n"),
        "SKL101",
    ),
}


@pytest.mark.parametrize("hid", sorted(_FLOW_CASES))
def test_switching_a_flow_heuristic_off_shows_what_it_hid(hid: str) -> None:
    from socklint.api import check_source

    source, code = _FLOW_CASES[hid]
    on = Settings(select=("ALL",))
    off = replace(on, heuristics=((hid, False),))
    codes_on = [d.code for d in check_source("m.py", source.encode(), on)]
    codes_off = [d.code for d in check_source("m.py", source.encode(), off)]
    assert code not in codes_on, codes_on
    assert code in codes_off, codes_off
