"""Output formats through the real CLI: SARIF against the official schema, GitHub workflow
commands, and the JSON contract (docs/json-output.md)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from frontend_sources import LEAK, NEVER_CLOSED

from socklint.api import check_source
from socklint.codes import CODES, TOOL_CODES
from socklint.diagnostics import Diagnostic, Severity, TraceStep
from socklint.reporting import FINGERPRINT_KEY, format_github, format_sarif

ROOT = Path(__file__).resolve().parent.parent
# The codes whose findings carry a "failure" (docs/json-output.md).
LEAK_CODES = frozenset({"SKL101", "SKL102", "SKL103", "SKL104", "SKL106", "SKL107"})
# The official schema, vendored (tests/data/README.md): a clone validates SARIF offline.
SCHEMA = Path(__file__).resolve().parent / "data" / "sarif-schema-2.1.0.json"


def _find_schema() -> Path:
    return SCHEMA


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "socklint", "check", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        check=False,
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "leak.py").write_text(LEAK, encoding="utf-8")
    (tmp_path / "pkg" / "never closed.py").write_text(NEVER_CLOSED, encoding="utf-8")
    return tmp_path


def _library(project: Path) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for p in sorted((project / "pkg").glob("*.py")):
        rel = str(p.relative_to(project))
        out.extend(check_source(rel, p.read_bytes()))
    assert out, "the engine reports nothing on these sources; the test would prove nothing"
    return out


def test_sarif_is_valid_and_complete(project: Path) -> None:
    expected = _library(project)
    proc = _run("--format", "sarif", "pkg", cwd=project)
    assert proc.returncode == 1, proc.stderr
    log = json.loads(proc.stdout)
    schema = json.loads(_find_schema().read_text(encoding="utf-8"))
    jsonschema.Draft4Validator(schema).validate(log)  # raises with the failing path

    (run,) = log["runs"]
    rules = run["tool"]["driver"]["rules"]
    # Tool failures are notifications of the run, not rules that could raise alerts.
    assert [r["id"] for r in rules] == [c for c in CODES if c not in TOOL_CODES]
    assert [n["id"] for n in run["tool"]["driver"]["notifications"]] == [c for c in CODES if c in TOOL_CODES]
    assert run["invocations"] == [{"executionSuccessful": True}]
    for r in rules:
        c = CODES[r["id"]]
        assert r["helpUri"] == c.docs_url
        assert r["help"]["text"] and r["help"]["markdown"]
        assert r["defaultConfiguration"]["enabled"] == c.default_enabled

    results = run["results"]
    assert len(results) == len(expected)
    level = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
    by_key = {(d.path.replace("\\", "/"), d.line, d.column, d.code): d for d in expected}
    for res in results:
        loc = res["locations"][0]["physicalLocation"]
        uri = loc["artifactLocation"]["uri"]
        assert loc["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
        path = uri.replace("%20", " ")
        d = by_key[(path, loc["region"]["startLine"], loc["region"]["startColumn"], res["ruleId"])]
        assert rules[res["ruleIndex"]]["id"] == d.code
        assert res["level"] == level[d.severity]
        assert res["message"]["text"] == d.message
        assert set(res["partialFingerprints"]) == {FINGERPRINT_KEY}
        # A leak finding's failure kind is a result property, as in the JSON output.
        assert res.get("properties", {}).get("failure") == d.failure
        assert (d.failure is not None) == (d.code in LEAK_CODES)
        # The witness path, step by step, as a code flow.
        if d.trace:
            steps = res["codeFlows"][0]["threadFlows"][0]["locations"]
            assert [
                (
                    s["location"]["physicalLocation"]["region"]["startLine"],
                    s["location"]["message"]["text"],
                )
                for s in steps
            ] == [(t.line, t.note) for t in d.trace]
        else:
            assert "codeFlows" not in res
    assert any("codeFlows" in r for r in results), "no finding carries a trace"
    # A space in a file name is percent-encoded, never raw, in a SARIF URI.
    assert any(
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "pkg/never%20closed.py"
        for r in results
    )


def _sarif_results(tmp_path: Path, name: str, text: str) -> list[dict[str, object]]:
    (tmp_path / name).write_text(text, encoding="utf-8")
    proc = _run("--no-cache", "--format", "sarif", name, cwd=tmp_path)
    log = json.loads(proc.stdout)
    jsonschema.Draft4Validator(json.loads(_find_schema().read_text(encoding="utf-8"))).validate(log)
    results: list[dict[str, object]] = log["runs"][0]["results"]
    assert results, "no finding: the test would prove nothing"
    return results


def _prints(results: list[dict[str, object]]) -> list[tuple[object, str]]:
    return [(r["ruleId"], r["partialFingerprints"][FINGERPRINT_KEY]) for r in results]  # type: ignore[index]


def _start_lines(results: list[dict[str, object]]) -> list[int]:
    return [r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in results]  # type: ignore[index]


def test_sarif_fingerprints_survive_moved_lines(tmp_path: Path) -> None:
    before = _sarif_results(tmp_path, "mod.py", LEAK + "\n\n" + NEVER_CLOSED.split("\n\n\n", 1)[1])
    # Blank lines and a whole new function above both findings: every line number moves, and
    # the messages' "created at line N" with them.
    moved = LEAK.replace(
        "\n\ndef fetch",
        "\n\n\n\n\ndef unrelated(a):\n    return a + 1\n\n\n\n\ndef fetch",
    ) + "\n\n" + NEVER_CLOSED.split("\n\n\n", 1)[1]
    after = _sarif_results(tmp_path, "mod.py", moved)
    assert len(before) == len(after) >= 2
    assert _start_lines(before) != _start_lines(after)
    assert [r["message"] for r in before] != [r["message"] for r in after]  # line numbers in the text
    assert _prints(before) == _prints(after)
    # Two different findings never share a fingerprint.
    assert len({fp for _, fp in _prints(before)}) == len(before)


def test_sarif_fingerprints_tell_functions_apart(tmp_path: Path) -> None:
    # The same leaks in two functions, alike but for their line numbers: the function's name
    # tells them apart.
    twice = LEAK + "\n\n" + LEAK.split("\n\n\n", 1)[1].replace("def fetch", "def fetch_again")
    results = _sarif_results(tmp_path, "twice.py", twice)
    half = len(results) // 2
    assert half >= 1 and [r["ruleId"] for r in results[:half]] == [r["ruleId"] for r in results[half:]]
    first = [fp.split(":")[0] for _, fp in _prints(results[:half])]
    second = [fp.split(":")[0] for _, fp in _prints(results[half:])]
    assert set(first).isdisjoint(second)
    # And a finding's fingerprint does not depend on what else the file holds.
    alone = _sarif_results(tmp_path, "alone.py", LEAK)
    moved_copy = _sarif_results(tmp_path, "alone.py", LEAK.replace("def fetch", "def fetch_again"))
    assert _prints(alone) != _prints(moved_copy)  # renaming the function is a new identity


def test_sarif_fingerprints_count_identical_findings(tmp_path: Path) -> None:
    # The same finding twice in one function, same message, no witness: hash:1 and hash:2,
    # numbered in file order (so still stable when both move together).
    call = "    await loop.create_datagram_endpoint(proto, reuse_address=True)\n"
    results = _sarif_results(tmp_path, "same.py", "async def serve(loop, proto):\n" + call + call)
    prints = [fp for _, fp in _prints(results)]
    assert [r["ruleId"] for r in results] == ["SKL212", "SKL212"]
    assert [fp.rsplit(":", 1)[1] for fp in prints] == ["1", "2"]
    assert prints[0].rsplit(":", 1)[0] == prints[1].rsplit(":", 1)[0]
    moved = _sarif_results(tmp_path, "same.py", "\n\n\nasync def serve(loop, proto):\n" + call + "\n" + call)
    assert _prints(moved) == _prints(results)


def test_sarif_tool_failures_are_notifications(tmp_path: Path) -> None:
    (tmp_path / "leak.py").write_text(LEAK, encoding="utf-8")
    (tmp_path / "broken.py").write_text("import socket\ndef f(:\n", encoding="utf-8")
    (tmp_path / "latin1.py").write_bytes(b"import socket\nx = '\xff\xfe'\n")
    proc = _run("--no-cache", "--format", "sarif", ".", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    log = json.loads(proc.stdout)
    jsonschema.Draft4Validator(json.loads(_find_schema().read_text(encoding="utf-8"))).validate(log)
    (run,) = log["runs"]
    assert sorted(r["ruleId"] for r in run["results"]) == ["SKL101", "SKL102"]
    (invocation,) = run["invocations"]
    assert invocation["executionSuccessful"] is False
    notes = invocation["toolExecutionNotifications"]
    descriptors = run["tool"]["driver"]["notifications"]
    got = sorted(
        (n["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], n["descriptor"]["id"], n["level"])
        for n in notes
    )
    assert got == [("broken.py", "SKL001", "error"), ("latin1.py", "SKL002", "error")]
    for n in notes:
        assert descriptors[n["descriptor"]["index"]]["id"] == n["descriptor"]["id"]
        assert n["message"]["text"].startswith(n["descriptor"]["id"] + " ")


def test_sarif_budget_notice_keeps_the_run_successful() -> None:
    # SKL003 (a function too large to analyse) is an "info": the run still did its job.
    schema = json.loads(_find_schema().read_text(encoding="utf-8"))
    d = Diagnostic("big.py", 4, 1, 4, 2, "SKL003", "analysis budget exceeded in `f`", Severity.INFO)
    log = json.loads(format_sarif([d]))
    jsonschema.Draft4Validator(schema).validate(log)
    (invocation,) = log["runs"][0]["invocations"]
    assert invocation["executionSuccessful"] is True
    assert invocation["toolExecutionNotifications"][0]["level"] == "note"
    assert log["runs"][0]["results"] == []


def test_sarif_schema_rejects_a_broken_log() -> None:
    # The validator really validates: a result without a message is not SARIF.
    schema = json.loads(_find_schema().read_text(encoding="utf-8"))
    d = Diagnostic("a.py", 3, 5, 3, 9, "SKL103", "m", Severity.WARNING, (TraceStep(3, 5, "here"),))
    log = json.loads(format_sarif([d]))
    jsonschema.Draft4Validator(schema).validate(log)
    del log["runs"][0]["results"][0]["message"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft4Validator(schema).validate(log)


def test_sarif_from_output_file_with_no_findings(tmp_path: Path) -> None:
    (tmp_path / "ok.py").write_text("x = 1\n", encoding="utf-8")
    out = tmp_path / "report" / "socklint.sarif"
    proc = _run("--format", "sarif", "--output", str(out), "ok.py", cwd=tmp_path)
    assert proc.returncode == 0 and proc.stdout == ""
    log = json.loads(out.read_text(encoding="utf-8"))
    jsonschema.Draft4Validator(json.loads(_find_schema().read_text(encoding="utf-8"))).validate(log)
    assert log["runs"][0]["results"] == []


def test_github_annotations(project: Path) -> None:
    expected = _library(project)
    proc = _run("--format", "github", "pkg", cwd=project)
    assert proc.returncode == 1, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == len(expected)
    kind = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}
    for line, d in zip(lines, sorted(expected, key=Diagnostic.sort_key)):
        assert line.startswith(f"::{kind[d.severity]} file={d.path},line={d.line},col={d.column},")
        assert f"title={d.code} {d.name}::" in line


def test_github_escaping() -> None:
    # The runner's escaping rules: %, CR, LF in data; additionally : and , in properties.
    d = Diagnostic(
        "dir,with:odd%/f.py",
        7,
        2,
        7,
        9,
        "SKL101",
        "100% sure: a\nb\rc",
        Severity.WARNING,
        (TraceStep(5, 1, "x, y"),),
    )
    (line,) = format_github([d]).splitlines()
    assert line == (
        "::warning file=dir%2Cwith%3Aodd%25/f.py,line=7,col=2,endLine=7,endColumn=9,"
        "title=SKL101 socket-leak-on-early-exit::100%25 sure: a%0Ab%0Dc%0A5:1: x, y"
    )


def test_json_contract(project: Path) -> None:
    expected = _library(project)
    proc = _run("--format", "json", "pkg", cwd=project)
    data = json.loads(proc.stdout)
    assert isinstance(data, list) and len(data) == len(expected)
    keys = {
        "path",
        "line",
        "column",
        "end_line",
        "end_column",
        "code",
        "name",
        "message",
        "severity",
        "trace",
    }
    schema = json.loads((ROOT / "docs" / "json-output.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema).validate(data)  # raises with the failing path
    for item in data:
        # Leak findings say what their witness needs to fail; the others carry no such field.
        assert set(item) == (keys | {"failure"} if item["code"] in LEAK_CODES else keys)
        assert item["code"] in CODES and item["name"] == CODES[item["code"]].name
        assert item["severity"] in ("error", "warning", "info")
        assert all(set(step) == {"line", "column", "note"} for step in item["trace"])
    # fetch(): the early return after `if not greeting` needs no failure, `recv()` raising an I/O
    # error; probe(): never closed, whatever happens.
    assert sorted((i["code"], i["failure"]) for i in data) == [("SKL101", "none"), ("SKL102", "io-error"), ("SKL103", "none")]
