"""Run ``socklint check`` over every ``.py`` file of every Python that pyenv installed.

    python benchmarks/all_pythons.py                 # all versions, a table
    python benchmarks/all_pythons.py 3.12.1 2.7.18   # some versions
    python benchmarks/all_pythons.py --json out.json

For each version: how many files, how many got SKL001 (does not parse) and SKL002 (cannot be
read or decoded), findings per code, wall time, and every SKL003 / SKL900 / traceback, listed.
socklint runs as a subprocess, exactly as a user runs it (the current interpreter's socklint),
over the version's whole prefix (lib/pythonX.Y with its test suite, site-packages, and the rest).
The default exclusions (``build``, ``venv``, ``__pycache__``, ...) still apply, so the table gives
both the ``.py`` files on disk and the files socklint checked.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from socklint.api import iter_python_files
from socklint.config import Settings


def pyenv_versions() -> list[str]:
    out = subprocess.run(["pyenv", "versions", "--bare"], capture_output=True, text=True, check=True)
    return [v.strip() for v in out.stdout.splitlines() if v.strip() and "/" not in v]


def pyenv_prefix(version: str) -> Path:
    out = subprocess.run(["pyenv", "prefix", version], capture_output=True, text=True, check=True)
    return Path(out.stdout.strip())


def count_py_files(root: Path) -> int:
    return sum(1 for _, _, files in os.walk(root) for f in files if f.endswith((".py", ".pyi")))


def check_version(version: str, timeout: float) -> dict[str, object]:
    prefix = pyenv_prefix(version)
    checked = sum(1 for _ in iter_python_files([str(prefix)], Settings()))
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "socklint", "check", str(prefix), "--format", "json"],
        capture_output=True,
        check=False,
        timeout=timeout,
        cwd="/",  # no pyproject.toml of ours applies
    )
    elapsed = time.perf_counter() - start
    stderr = proc.stderr.decode("utf-8", "replace")
    try:
        report = json.loads(proc.stdout)
    except json.JSONDecodeError:
        report = []
    codes = Counter(d["code"] for d in report)
    files_with = {c: len({d["path"] for d in report if d["code"] == c}) for c in ("SKL001", "SKL002")}
    notable = [
        {"path": d["path"], "line": d["line"], "code": d["code"], "message": d["message"]}
        for d in report
        if d["code"] in ("SKL003", "SKL900")
    ]
    return {
        "version": version,
        "prefix": str(prefix),
        "py_files_on_disk": count_py_files(prefix),
        "files_checked": checked,
        "exit_status": proc.returncode,
        "seconds": round(elapsed, 1),
        "skl001_files": files_with["SKL001"],
        "skl002_files": files_with["SKL002"],
        "findings": dict(sorted(codes.items())),
        "notable": notable,
        "traceback": "Traceback" in stderr,
        "stderr": stderr[-3000:],
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("versions", nargs="*", help="pyenv versions (default: all)")
    ap.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    ap.add_argument("--timeout", type=float, default=3600.0, help="seconds per version")
    args = ap.parse_args(argv)
    results = []
    bad = False
    for v in args.versions or pyenv_versions():
        try:
            r = check_version(v, args.timeout)
        except subprocess.TimeoutExpired:
            r = {"version": v, "timeout": True}
            bad = True
            print(f"{v}: TIMEOUT after {args.timeout}s", flush=True)
            results.append(r)
            continue
        results.append(r)
        findings = r["findings"]
        assert isinstance(findings, dict)
        rules = {c: n for c, n in findings.items() if c not in ("SKL001", "SKL002", "SKL003", "SKL900")}
        print(
            f"{v:<8} files {r['files_checked']:>5}/{r['py_files_on_disk']:<5} SKL001 {r['skl001_files']:>3}  SKL002 {r['skl002_files']:>3}  "
            f"SKL003 {findings.get('SKL003', 0):>2}  SKL900 {findings.get('SKL900', 0):>2}  "
            f"traceback {'YES' if r['traceback'] else 'no'}  exit {r['exit_status']}  {r['seconds']:>6}s  {rules}",
            flush=True,
        )
        for item in r["notable"]:  # type: ignore[attr-defined]
            print(f"    {item['code']} {item['path']}:{item['line']}: {item['message']}", flush=True)
        if r["traceback"]:
            print("    stderr: " + str(r["stderr"]).replace("\n", "\n    "), flush=True)
            bad = True
        if r["exit_status"] not in (0, 1) or findings.get("SKL900"):
            bad = True
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
