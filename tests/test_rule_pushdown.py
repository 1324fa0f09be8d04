"""Rules run only for codes that are enabled, positions only for findings that are reported,
and the output is what filtering the full (``select = ["ALL"]``) output would give."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from socklint import engine
from socklint.api import check_source
from socklint.codes import CODES
from socklint.config import Settings
from socklint.rules import ALL_RULES, MODULE_RULES, ModuleRule, Rule

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = sorted((ROOT / "fixtures").rglob("*.py"))
ALL = Settings(select=("ALL",))

SELECTIONS = {
    "default": Settings(),
    "SKL1": Settings(select=("SKL1",)),
    "SKL2,SKL3": Settings(select=("SKL2", "SKL3")),
    "ignore SKL102": Settings(ignore=("SKL102",)),
    "SKL106 only": Settings(select=("SKL106",)),
    "SKL212 only": Settings(select=("SKL212",)),
    "per-file": Settings(per_file_ignores=(("*.py", ("SKL1",)),)),
}


@pytest.fixture(autouse=True)
def _cold_cache() -> Iterator[None]:
    # Cached snippets would skip the rules these tests watch.
    engine.SNIPPET_CACHE.clear()
    yield
    engine.SNIPPET_CACHE.clear()


def test_declared_codes_exist() -> None:
    for rule in (*ALL_RULES, *MODULE_RULES):
        assert rule.codes and set(rule.codes) <= set(CODES), rule


def test_rules_emit_only_the_codes_they_declare(monkeypatch: pytest.MonkeyPatch) -> None:
    # On every fixture, with every code on: a code missing from a declaration would be
    # silently lost whenever the other codes of that rule are off.
    emitted: dict[str, set[str]] = {}

    def spy_rule(rule: Rule) -> Rule:
        def check(ctx):  # type: ignore[no-untyped-def]
            for f in rule.check(ctx):
                emitted.setdefault(rule.check.__name__, set()).add(f.code)
                assert f.code in rule.codes, f"{rule.check.__name__} emitted {f.code}"
                yield f

        return Rule(rule.codes, check)

    def spy_module_rule(rule: ModuleRule) -> ModuleRule:
        def check(mctx):  # type: ignore[no-untyped-def]
            for f in rule.check(mctx):
                emitted.setdefault(rule.check.__name__, set()).add(f.code)
                assert f.code in rule.codes, f"{rule.check.__name__} emitted {f.code}"
                yield f

        return ModuleRule(rule.codes, check)

    monkeypatch.setattr(engine, "ALL_RULES", tuple(spy_rule(r) for r in ALL_RULES))
    monkeypatch.setattr(engine, "MODULE_RULES", tuple(spy_module_rule(r) for r in MODULE_RULES))
    for path in FIXTURES:
        check_source(str(path), path.read_bytes(), ALL)
    # The fixtures exercise every rule, so the check above is not vacuous.
    assert set(emitted) == {r.check.__name__ for r in (*ALL_RULES, *MODULE_RULES)}
    assert emitted["check_leaks"] == {"SKL101", "SKL102", "SKL103", "SKL104", "SKL106", "SKL107", "SKL108", "SKL111"}
    assert emitted["check_attribute_stores"] == {"SKL112"}


@pytest.mark.parametrize("name", sorted(SELECTIONS))
def test_selection_equals_filtered_full_output(name: str) -> None:
    settings = SELECTIONS[name]
    for path in FIXTURES:
        data = path.read_bytes()
        full = check_source(str(path), data, ALL)
        engine.SNIPPET_CACHE.clear()
        expected = [d for d in full if settings.is_enabled(d.code, str(path))]
        assert check_source(str(path), data, settings) == expected, path


def _calls(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Count the rule checks and position passes the engine runs."""
    calls: dict[str, int] = {}

    def counted(name: str, fn):  # type: ignore[no-untyped-def]
        def wrapper(*args, **kwargs):  # type: ignore[no-untyped-def]
            calls[name] = calls.get(name, 0) + 1
            return fn(*args, **kwargs)

        return wrapper

    monkeypatch.setattr(engine, "ALL_RULES", tuple(Rule(r.codes, counted(r.check.__name__, r.check)) for r in ALL_RULES))
    monkeypatch.setattr(
        engine, "MODULE_RULES", tuple(ModuleRule(r.codes, counted(r.check.__name__, r.check)) for r in MODULE_RULES)
    )
    monkeypatch.setattr(engine, "MetadataWrapper", counted("positions", engine.MetadataWrapper))
    return calls


LEAKY = b"""import json
import socket


def publish(addr, event):
    s = socket.create_connection(addr)
    payload = json.dumps(event)
    s.sendall(payload.encode())
    s.close()


def reuse(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("", port))
    except BaseException:
        s.close()
        raise
    return s
"""


def test_disabled_rules_do_not_run(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _calls(monkeypatch)
    diags = check_source("m.py", LEAKY, Settings(select=("SKL2",)))
    assert {d.code for d in diags} == {"SKL211"}
    assert "check_leaks" not in calls and "check_recv_loops" not in calls and "check_closing" not in calls
    assert calls["check_options"] == 2 and calls["check_module_options"] == 1


def test_no_positions_for_findings_that_are_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    # SKL106 (off by default) and SKL102 in `publish`; only SKL102 with it ignored and SKL106
    # off: `publish` needs no positions at all, `reuse` still does (SKL211).
    calls = _calls(monkeypatch)
    full = check_source("m.py", LEAKY, ALL)
    assert sorted(d.code for d in full) == ["SKL102", "SKL106", "SKL211"]
    assert calls["positions"] == 2
    engine.SNIPPET_CACHE.clear()
    calls.clear()
    assert [d.code for d in check_source("m.py", LEAKY, Settings(ignore=("SKL102",)))] == ["SKL211"]
    assert calls["positions"] == 1
    engine.SNIPPET_CACHE.clear()
    calls.clear()
    assert check_source("m.py", LEAKY, Settings(select=("SKL1",), ignore=("SKL102",))) == []
    assert "positions" not in calls


def test_nothing_to_report_skips_the_snippets(monkeypatch: pytest.MonkeyPatch) -> None:
    # Only a whole-module code is on: no function is parsed with libcst.
    parsed: list[str] = []
    real = engine.cst.parse_module
    monkeypatch.setattr(engine.cst, "parse_module", lambda src, *a, **k: parsed.append(src) or real(src, *a, **k))
    assert check_source("m.py", LEAKY, Settings(select=("SKL212",))) == []
    assert parsed == []
    check_source("m.py", LEAKY, Settings(select=("SKL212", "SKL003")))
    assert len(parsed) == 2
