"""The mutation check of docs/evaluation.md: does removing a real function's cleanup ``close()``
get reported, and is the untouched function clean?

    python benchmarks/mutation_check.py

Each ``fixtures/realworld/mut_*.py`` holds a real function twice: untouched (a class
``Original``, or a function ``f``) and with the ``close()`` taken out of its except/finally
cleanup (a class ``Mutated``, or ``f_mutated``). socklint runs as a subprocess on each file; the
table lists the SKL1xx findings inside each copy. ``tests/test_fixtures.py`` checks the same
files line by line through their ``# expect:`` markers; this script only summarises them.
"""

from __future__ import annotations

import ast
import collections
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def spans(tree: ast.Module) -> list[tuple[int, int, str]]:
    out: list[tuple[int, int, str]] = []
    top = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    for node in ast.walk(tree):
        if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            name = node.name.lower()
            end = node.end_lineno or node.lineno
            if "mutated" in name:
                out.append((node.lineno, end, "mutated"))
            elif name == "original" or name.endswith("_original") or node.name + "_mutated" in top:
                out.append((node.lineno, end, "untouched"))
    return out


def main() -> int:
    rows = []
    for f in sorted((ROOT / "fixtures" / "realworld").glob("mut_*.py")):
        res = subprocess.run(
            [sys.executable, "-m", "socklint", "check", "--no-cache", "--format", "json", "--exit-zero", str(f)],
            capture_output=True, text=True, check=True,
        )
        found: dict[str, list[str]] = collections.defaultdict(list)
        for d in json.loads(res.stdout):
            if d["code"].startswith("SKL1"):
                for a, b, side in spans(ast.parse(f.read_text())):
                    if a <= d["line"] <= b:
                        found[side].append(d["code"])
        rows.append((f.name, found["untouched"], found["mutated"]))
    print("| fixture | untouched | close() removed |\n|---|---|---|")
    for name, untouched, mutated in rows:
        print(f"| {name} | {', '.join(untouched) or 'clean'} | {', '.join(mutated) or '**missed**'} |")
    caught = sum(1 for r in rows if r[2])
    clean = sum(1 for r in rows if not r[1])
    print(f"\nreported after the mutation: {caught} / {len(rows)}; untouched with no finding: {clean} / {len(rows)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
