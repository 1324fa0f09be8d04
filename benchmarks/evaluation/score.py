"""Score socklint's lifecycle findings (SKL1xx) against verdicts read by hand.

    python benchmarks/evaluation/score.py VERDICTS.json RESULT.json [RESULT.json ...]

Each RESULT is the output of ``socklint check --format json --exit-zero DIR`` over a corpus
of docs/evaluation.md. A finding matches a verdict when its file (normalised: the part after
``pkgs/`` or ``/pypi/``, or ``Lib/...`` for a standard library), line, code and the lines of
its trace are the same (and the trace's notes, for verdicts that record them: a witness that
changed which way a branch went is another finding). Prints how many findings there are, how many have a verdict, how many
of those are true, per code, and lists the findings without one (to be read and added).
"""

from __future__ import annotations

import collections
import json
import sys
from typing import Any


def norm(path: str) -> str:
    if "pkgs/" in path:
        return path.split("pkgs/", 1)[1]
    if "/pypi/" in path:
        return path.split("/pypi/", 1)[1]
    if "/lib/python3." in path:
        return "Lib/" + path.split("/lib/python3.", 1)[1].split("/", 1)[1]
    return path


def key(path: str, line: int, code: str, trace_lines: list[int]) -> tuple[Any, ...]:
    return (norm(path), line, code, tuple(trace_lines))


def _load(path: str) -> Any:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__)
        return 2
    # Several verdicts may share path, line, code and trace lines when their witnesses differ
    # in which way a branch went: those record `trace_notes`, and the one whose notes match wins.
    verdicts: dict[tuple[Any, ...], list[dict[str, Any]]] = collections.defaultdict(list)
    for v in _load(argv[0]):
        verdicts[key(v["path"], v["line"], v["code"], v["trace_lines"])].append(v)
    findings = [d for f in argv[1:] for d in _load(f) if d["code"].startswith("SKL1")]
    by_code: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0])
    missing = []
    for d in findings:
        notes = [s["note"] for s in d["trace"]]
        cands = verdicts.get(key(d["path"], d["line"], d["code"], [s["line"] for s in d["trace"]]), [])
        # Same lines but other notes: another path, so a verdict for a different witness.
        v = next((c for c in cands if c.get("trace_notes") == notes), None) or next(
            (c for c in cands if "trace_notes" not in c), None
        )
        if v is None:
            missing.append(d)
            continue
        by_code[d["code"]][1] += 1
        by_code[d["code"]][0] += v["verdict"] == "T"
    true = sum(t for t, _ in by_code.values())
    judged = sum(n for _, n in by_code.values())
    print(f"findings {len(findings)}, with a verdict {judged}, true {true}" + (f" ({100 * true / judged:.1f} %)" if judged else ""))
    for code in sorted(by_code):
        t, n = by_code[code]
        print(f"  {code}: {t} / {n}")
    for d in missing:
        print(f"no verdict: {norm(d['path'])}:{d['line']} {d['code']} {d['message']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
