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
from socklint.codes import CODES
from socklint.diagnostics import Diagnostic, Severity, TraceStep
from socklint.reporting import format_github, format_sarif

ROOT = Path(__file__).resolve().parent.parent
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
    assert [r["id"] for r in rules] == list(CODES)
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
    for item in data:
        assert set(item) == keys
        assert item["code"] in CODES and item["name"] == CODES[item["code"]].name
        assert item["severity"] in ("error", "warning", "info")
        assert all(set(step) == {"line", "column", "note"} for step in item["trace"])
