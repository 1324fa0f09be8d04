"""Score socklint's lifecycle findings (SKL1xx) against verdicts read by hand.

    python benchmarks/evaluation/score.py [--split] [--no-missing] VERDICTS.json RESULT.json [RESULT.json ...]

Each RESULT is the output of ``socklint check --format json --exit-zero DIR`` over a corpus
of docs/evaluation.md. A finding matches a verdict when its file (normalised: the part after
``pkgs/`` or ``/pypi/``, or ``Lib/...`` for a standard library), line, code and the lines of
its trace are the same (and the trace's notes, for verdicts that record them: a witness that
changed which way a branch went is another finding). Prints how many findings there are, how many have a verdict, how many
of those are true, per code, and lists the findings without one (to be read and added).

``--split`` adds, for verdicts that name a ``group`` (a reading's own grouping, e.g. "A" for
asyncio resources, "B" for SKL108) and ``where`` ("library" / "tests"), one line per group and
per group and place: read, true, precision with its 95 % Wilson interval, and how many true ones
are worth a fix (``why`` ending ``[stakes: worth]``). ``--no-missing`` prints only how many
findings have no verdict instead of listing them (a sampled reading leaves most unread).
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


def wilson(true: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """The 95 % Wilson score interval of a proportion ``true / n`` (the one docs/evaluation.md
    quotes: it stays inside 0..1 and is honest for small samples and for 0 or n successes)."""
    if n == 0:
        return (0.0, 1.0)
    p = true / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * ((p * (1 - p) / n + z * z / (4 * n * n)) ** 0.5) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def _split_line(label: str, vs: list[dict[str, Any]]) -> str:
    n = len(vs)
    t = sum(v["verdict"] == "T" for v in vs)
    worth = sum(v["verdict"] == "T" and v["why"].rstrip().endswith("[stakes: worth]") for v in vs)
    if n == 0:
        return f"  {label}: read 0"
    lo, hi = wilson(t, n)
    return f"  {label}: read {n}, true {t}, false {n - t}, precision {100 * t / n:.1f} % (95 % Wilson {100 * lo:.1f} % to {100 * hi:.1f} %), worth {worth}"


def _load(path: str) -> Any:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def main(argv: list[str]) -> int:
    split = "--split" in argv
    no_missing = "--no-missing" in argv
    argv = [a for a in argv if a not in ("--split", "--no-missing")]
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
    matched: list[dict[str, Any]] = []
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
        matched.append(v)
    true = sum(t for t, _ in by_code.values())
    judged = sum(n for _, n in by_code.values())
    print(f"findings {len(findings)}, with a verdict {judged}, true {true}" + (f" ({100 * true / judged:.1f} %)" if judged else ""))
    for code in sorted(by_code):
        t, n = by_code[code]
        print(f"  {code}: {t} / {n}")
    if split:
        groups = sorted({str(v.get("group", "")) for v in matched})
        for g in groups:
            in_g = [v for v in matched if str(v.get("group", "")) == g]
            print(_split_line(f"group {g or '-'}", in_g))
            for w in sorted({str(v.get("where", "")) for v in in_g}):
                print("  " + _split_line(f"{w or '-'}", [v for v in in_g if str(v.get("where", "")) == w]))
    if no_missing:
        print(f"no verdict: {len(missing)}")
    else:
        for d in missing:
            print(f"no verdict: {norm(d['path'])}:{d['line']} {d['code']} {d['message']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
