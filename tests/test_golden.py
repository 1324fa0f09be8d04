"""The restructuring gate's comparison (benchmarks/golden.py): no network, no real corpus."""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import golden


def finding(path: str, line: int, code: str = "SKL101", message: str = "`s` is still open") -> dict[str, Any]:
    return {
        "path": path,
        "line": line,
        "column": 5,
        "end_line": line,
        "end_column": 9,
        "code": code,
        "name": "socket-leak-on-early-exit",
        "message": message,
        "severity": "warning",
        "trace": [
            {"line": line - 2, "column": 9, "note": "`s` created by `socket()`"},
            {"line": line, "column": 5, "note": "returns here with `s` open"},
        ],
    }


def render(findings: list[dict[str, Any]]) -> bytes:
    """What `socklint check --format json` prints."""
    return (json.dumps(findings, indent=2) + "\n").encode()


A = finding("./a.py", 10)
B = finding("./b.py", 20, "SKL102", "`s` is left open if `connect()` raises")
C = finding("./c.py", 30)


def test_identical_outputs_pass() -> None:
    diff = golden.compare(render([A, B]), render([A, B]))
    assert diff.identical and not diff.failed
    assert golden.format_diff(diff) == []


def test_one_finding_replaced_reports_added_and_removed() -> None:
    moved = {**B, "line": 21}
    diff = golden.compare(render([A, B, C]), render([A, moved, C]))
    assert not diff.identical and diff.failed
    assert diff.added == [moved] and diff.removed == [B]
    report = golden.format_diff(diff)
    assert report == [
        "  added (1):",
        "    ./b.py:21:5: SKL102 `s` is left open if `connect()` raises",
        "          18:9 `s` created by `socket()`",
        "          20:5 returns here with `s` open",
        "  removed (1):",
        "    ./b.py:20:5: SKL102 `s` is left open if `connect()` raises",
        "          18:9 `s` created by `socket()`",
        "          20:5 returns here with `s` open",
    ]


def test_a_changed_trace_is_a_difference() -> None:
    other = {**A, "trace": [*A["trace"][:1], {"line": 9, "column": 5, "note": "`x` is true"}, *A["trace"][1:]]}
    diff = golden.compare(render([A]), render([other]))
    assert diff.added == [other] and diff.removed == [A]


def test_duplicates_count() -> None:
    diff = golden.compare(render([A, A]), render([A]))
    assert diff.removed == [A] and diff.added == []


def test_only_the_first_findings_are_shown() -> None:
    new = [finding("./a.py", n) for n in range(3, 3 + golden.SHOW + 5)]
    report = golden.format_diff(golden.compare(render([]), render(new)))
    assert report[0] == f"  added ({golden.SHOW + 5}):"
    assert report[-1] == "    ... and 5 more"
    assert sum(line.startswith("    ./a.py:") for line in report) == golden.SHOW


def test_same_findings_in_another_order_fail() -> None:
    diff = golden.compare(render([A, B]), render([B, A]))
    assert diff.failed and not diff.added and not diff.removed
    assert diff.note == "the same findings in another order"


def test_same_findings_formatted_differently_fail() -> None:
    diff = golden.compare(render([A]), json.dumps([A]).encode())
    assert diff.failed and diff.note == "the same findings, formatted differently"


def test_output_that_is_not_json_fails() -> None:
    diff = golden.compare(render([A]), b"Traceback (most recent call last):\n")
    assert diff.failed and diff.note.startswith("not JSON")


def test_new_and_removed_fixture_files_are_set_apart() -> None:
    diff = golden.compare(render([A, B]), render([A, C]), new_files=["./c.py"], removed_files=["./b.py"])
    assert not diff.failed
    assert diff.added_in_new_files == [C] and diff.removed_in_removed_files == [B]
    report = "\n".join(golden.format_diff(diff))
    assert "new fixture files: 1, removed fixture files: 1" in report
    assert "    + ./c.py" in report and "    - ./b.py" in report


def test_a_new_fixture_file_does_not_hide_a_change_elsewhere() -> None:
    moved = {**A, "line": 11}
    diff = golden.compare(render([A]), render([moved, C]), new_files=["./c.py"])
    assert diff.failed and diff.added == [moved] and diff.removed == [A]


def test_run_problems() -> None:
    assert golden.Run(b"[]\n", "", 0, 0.1).problems() == []
    crashed = golden.Run(b"", "Traceback (most recent call last):\n  File x\nKeyError: 'y'\n", 1, 0.1)
    problems = crashed.problems()
    assert problems[0] == "exit status 1, expected 0"
    assert problems[1].startswith("traceback on stderr:") and "KeyError: 'y'" in problems[1]
    assert problems[2].startswith("stdout is not JSON")
    assert golden.Run(b"[]\n", "", 3, 0.1).problems() == ["exit status 3, expected 0"]


def test_eval_specs(tmp_path: Path) -> None:
    doc = tmp_path / "evaluation.md"
    doc.write_text(
        "# Evaluation\n\n## Corpus\n\n| source | versions |\n|---|---|\n"
        "| CPython standard library | 3.8.18, 3.9.18 |\n"
        "| PyPI, `pip download --no-deps NAME==VERSION` | PySocks 1.7.1, stomp.py 8.1.2 |\n"
        "| PyPI, hold-out 1 (the same, 2026) | kafka_python 2.0.2, PySocks 1.7.1 |\n\n"
        "## Commands\n\n| PyPI | not 1.0 |\n"
    )
    assert golden.eval_specs(doc) == [("PySocks", "1.7.1"), ("stomp.py", "8.1.2"), ("kafka_python", "2.0.2")]


def test_corpus_files_are_spelt_like_socklint_paths(tmp_path: Path) -> None:
    (tmp_path / "pkg" / "site-packages").mkdir(parents=True)
    (tmp_path / "top.py").write_text("x = 1\n")
    (tmp_path / "pkg" / "m.pyi").write_text("x: int\n")
    (tmp_path / "pkg" / "notes.txt").write_text("no\n")
    (tmp_path / "pkg" / "site-packages" / "skip.py").write_text("y = 2\n")
    files = golden.corpus_files(tmp_path, exclude=("site-packages",))
    assert sorted(files) == ["./pkg/m.pyi", "./top.py"]


def test_record_then_check_end_to_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """record and check with a stand-in socklint that prints a prepared output."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.py").write_text("import socket\n")
    output = tmp_path / "output.json"
    fake = tmp_path / "bin" / "socklint"
    fake.parent.mkdir()
    fake.write_text(f"#!{sys.executable}\nimport sys\nsys.stdout.write(open({str(output)!r}).read())\n")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("SOCKLINT_GOLDEN_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(golden, "MANIFEST", tmp_path / "manifest.json")
    monkeypatch.setattr(golden, "all_corpora", lambda: [golden.Corpus("fixtures", "tmp", lambda: corpus, fixtures=True)])

    output.write_bytes(render([A]))
    assert golden.main(["record", "--socklint", str(fake)]) == 0
    assert golden.main(["record", "--socklint", str(fake)]) == 2  # no silent overwrite
    assert (tmp_path / "cache" / "baseline" / "fixtures.all.json").read_bytes() == render([A])
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["corpora"]["fixtures"]["files"] == 1
    assert manifest["corpora"]["fixtures"]["variants"]["default"]["by_code"] == {"SKL101": 1}
    assert golden.main(["check", "--socklint", str(fake)]) == 0
    assert "identical everywhere" in capsys.readouterr().out

    output.write_bytes(render([{**A, "line": 12}]))
    assert golden.main(["check", "--socklint", str(fake), "--variant", "all"]) == 1
    out = capsys.readouterr().out
    assert "fixtures.all           DIFFERENT" in out and "./a.py:12:5: SKL101" in out
    assert "fixtures.default" not in out

    (corpus / "b.py").write_text("import socket\n")  # a new fixture file with its own finding
    output.write_bytes(render([A, finding("./b.py", 3)]))
    assert golden.main(["check", "--socklint", str(fake)]) == 0
    assert "agrees" in capsys.readouterr().out
    assert os.environ["SOCKLINT_GOLDEN_CACHE"] == str(tmp_path / "cache")
