"""benchmarks/evaluation/score.py, run as the program docs/evaluation.md tells readers to run:
findings are matched to hand verdicts by file, line, code and trace lines, and ``--split``
gives the per-group figures with the Wilson interval that the evaluation tables quote."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SCORE = ROOT / "benchmarks" / "evaluation" / "score.py"
VERDICTS = ROOT / "benchmarks" / "evaluation" / "verdicts-async16.json"


def _finding(path: str, line: int, code: str, trace_lines: list[int]) -> dict[str, Any]:
    # The shape `socklint check --format json` writes, as much of it as score.py reads.
    return {
        "path": path,
        "line": line,
        "code": code,
        "message": "m",
        "trace": [{"line": n, "column": 1, "note": "n"} for n in trace_lines],
    }


def _run(tmp_path: Path, findings: list[dict[str, Any]], *flags: str) -> list[str]:
    result = tmp_path / "result.json"
    result.write_text(json.dumps(findings))
    out = subprocess.run(
        [sys.executable, str(SCORE), *flags, str(VERDICTS), str(result)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return out.splitlines()


def test_split_figures_of_the_async16_reading(tmp_path: Path) -> None:
    # The fresh reading's verdicts (those added when the final engine was re-scored carry the
    # tag "rescore": their findings are not in the reading's outputs).
    verdicts = [v for v in json.loads(VERDICTS.read_text()) if v.get("tag") != "rescore"]
    # Findings as a run under /work/tmp/read16/pkgs wrote them, plus one without a verdict and
    # one whose trace differs (another path: no verdict either).
    findings = [_finding("/somewhere/pkgs/" + v["path"], v["line"], v["code"], v["trace_lines"]) for v in verdicts]
    first = verdicts[0]
    findings.append(_finding("/somewhere/pkgs/" + first["path"], first["line"], first["code"], [1, 2, 3]))
    findings.append(_finding("/somewhere/pkgs/other-1.0/x.py", 3, "SKL102", [1, 3]))
    lines = _run(tmp_path, findings, "--split", "--no-missing")
    t_a = sum(v["verdict"] == "T" for v in verdicts if v["group"] == "A")
    n_a = sum(v["group"] == "A" for v in verdicts)
    assert lines[0] == f"findings {len(verdicts) + 2}, with a verdict {len(verdicts)}, true {sum(v['verdict'] == 'T' for v in verdicts)} ({100 * sum(v['verdict'] == 'T' for v in verdicts) / len(verdicts):.1f} %)"
    group_a = next(line for line in lines if line.strip().startswith("group A:"))
    assert group_a.strip().startswith(f"group A: read {n_a}, true {t_a}, false {n_a - t_a}")
    # The figures docs/evaluation.md quotes for this reading.
    assert "precision 71.1 % (95 % Wilson 56.6 % to 82.3 %), worth 14" in group_a
    assert any(line.strip().startswith("library: read 29, true 19") for line in lines)
    assert lines[-1] == "no verdict: 2"


def test_without_flags_the_unread_findings_are_listed(tmp_path: Path) -> None:
    lines = _run(tmp_path, [_finding("/x/pkgs/other-1.0/x.py", 3, "SKL102", [1, 3])])
    assert lines == ["findings 1, with a verdict 0, true 0", "no verdict: other-1.0/x.py:3 SKL102 m"]


def test_wilson_matches_the_intervals_already_published() -> None:
    sys.path.insert(0, str(SCORE.parent))
    try:
        from score import wilson
    finally:
        sys.path.remove(str(SCORE.parent))
    # Session 14's SKL108 (5 of 5) and SKL102 (21 of 22) rows of docs/evaluation.md.
    assert [round(100 * x, 1) for x in wilson(5, 5)] == [56.6, 100.0]
    assert [round(100 * x, 1) for x in wilson(21, 22)] == [78.2, 99.2]
    assert wilson(0, 0) == (0.0, 1.0)
