#!/usr/bin/env python3
"""The restructuring gate: socklint's JSON output must stay byte-identical on a large corpus.

From the repository root, in the project's venv::

    # once, with the frozen engine that every refactoring step is compared against
    python benchmarks/golden.py record --socklint /work/base/.venv/bin/socklint  # --force to replace

    # after each step (default: the socklint next to this interpreter, every corpus, both variants)
    python benchmarks/golden.py check
    python benchmarks/golden.py check --corpora quick            # fixtures, stdlib-3.11, pypi
    python benchmarks/golden.py check --corpora fixtures,stdlib-3.13 --variant all

    python benchmarks/golden.py list                  # the corpora, without building them
    python benchmarks/golden.py fetch [--retry-failed]  # download and unpack only

Per corpus socklint runs as ``socklint check --no-cache -j2 --format json --select ALL
--exit-zero .`` (variant ``all``) with the corpus root as working directory, so reported paths
are relative and no output depends on where the cache lives. The ``fixtures`` and
``stdlib-3.11`` corpora also run with default settings (variant ``default``: no ``--select``).
The JSON is compared byte for byte; when it differs the findings added and removed are listed
(``path:line:column: code message`` and the trace, the first 20 of each). A run must also exit
0 and print no traceback. ``check`` exits 1 on any difference or problem.

Corpora (``--corpora`` takes names, or ``quick``, ``stdlib``, ``all``):

- ``fixtures``: the repository's ``fixtures/``. Findings in fixture files that exist on one
  side only are reported apart, as new / removed fixture files, and do not fail the check.
- ``stdlib-X.Y``: ``$(pyenv prefix V)/lib/pythonX.Y`` with ``--exclude site-packages`` for
  every Python in ``pyenv versions --bare``.
- ``pypi``: ``PYPI_PACKAGES`` of ``benchmarks/run.py``, built by its ``build_pypi_corpus``.
- ``eval``: every ``NAME VERSION`` of the ``| PyPI`` rows of the "## Corpus" table in
  ``docs/evaluation.md``, fetched once with ``pip download --no-deps NAME==VERSION`` into
  ``downloads/`` and unpacked (``.py`` files only) into ``pkgs/NAME-VERSION/``. A package that
  cannot be downloaded is listed in ``failed.txt`` and skipped (``--retry-failed`` tries again).

Everything lives in ``benchmarks/.cache/golden/`` (or ``$SOCKLINT_GOLDEN_CACHE``); the outputs
are ``baseline/<corpus>.<variant>.json``. ``record`` also rewrites the committed manifest
``benchmarks/golden-baseline.json``: per corpus and variant the sha256 of the output and the
findings per code, per corpus the number of files and a digest of their contents, and the
socklint (commit, code digest, Python, libcst) that recorded it. See docs/design/gate.md.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import datetime
import fcntl
import hashlib
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
MANIFEST = HERE / "golden-baseline.json"
EVALUATION_DOC = ROOT / "docs" / "evaluation.md"
VARIANT_ARGS: dict[str, tuple[str, ...]] = {"all": ("--select", "ALL"), "default": ()}
DEFAULT_VARIANT_CORPORA = ("fixtures", "stdlib-3.11")
QUICK = ("fixtures", "stdlib-3.11", "pypi")
SHOW = 20  # findings shown per side of a difference
TRACEBACK = "Traceback (most recent call last)"

Finding = dict[str, Any]


def cache_dir() -> Path:
    """Where corpora, downloads and baselines live: ``$SOCKLINT_GOLDEN_CACHE`` if set."""
    env = os.environ.get("SOCKLINT_GOLDEN_CACHE")
    return Path(env).expanduser().absolute() if env else ROOT / "benchmarks" / ".cache" / "golden"


class Unavailable(Exception):
    """A corpus cannot be built on this machine (no such Python, downloads failed)."""


# --------------------------------------------------------------------------------------------
# Corpora


@dataclass(frozen=True)
class Corpus:
    name: str
    where: str  # the root, for people (stable across machines where possible)
    build: Callable[[], Path]  # returns the root; may download; raises Unavailable
    exclude: tuple[str, ...] = ()
    fixtures: bool = False

    @property
    def variants(self) -> tuple[str, ...]:
        return ("all", "default") if self.name in DEFAULT_VARIANT_CORPORA else ("all",)


def pyenv_pythons() -> dict[str, str]:
    """``X.Y`` -> the newest local pyenv version ``X.Y.Z``."""
    try:
        out = subprocess.run(
            ["pyenv", "versions", "--bare"], capture_output=True, text=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return {}
    best: dict[str, tuple[int, ...]] = {}
    for line in out.split():
        if re.fullmatch(r"\d+\.\d+\.\d+", line):
            v = tuple(int(x) for x in line.split("."))
            xy = f"{v[0]}.{v[1]}"
            best[xy] = max(best.get(xy, v), v)
    ordered = sorted(best.items(), key=lambda kv: kv[1])
    return {xy: ".".join(map(str, v)) for xy, v in ordered}


def _stdlib_builder(version: str, xy: str) -> Callable[[], Path]:
    def build() -> Path:
        try:
            prefix = subprocess.run(
                ["pyenv", "prefix", version], capture_output=True, text=True, check=True
            ).stdout.strip()
        except (OSError, subprocess.CalledProcessError) as exc:
            raise Unavailable(f"pyenv prefix {version} failed: {exc}") from exc
        root = Path(prefix) / "lib" / f"python{xy}"
        if not root.is_dir():
            raise Unavailable(f"no standard library at {root}")
        return root

    return build


def _build_fixtures() -> Path:
    return ROOT / "fixtures"


def _build_pypi() -> Path:
    sys.path.insert(0, str(HERE))
    try:
        import run  # benchmarks/run.py: the performance benchmark's pinned PyPI corpus
    finally:
        sys.path.remove(str(HERE))
    root = run.build_pypi_corpus(cache_dir() / "run")
    if root is None:
        raise Unavailable("a package of PYPI_PACKAGES cannot be downloaded (see above)")
    return root


def all_corpora() -> list[Corpus]:
    corpora = [Corpus("fixtures", "fixtures/", _build_fixtures, fixtures=True)]
    for xy, version in pyenv_pythons().items():
        corpora.append(
            Corpus(
                f"stdlib-{xy}",
                f"$(pyenv prefix {version})/lib/python{xy}",
                _stdlib_builder(version, xy),
                exclude=("site-packages",),
            )
        )
    corpora.append(Corpus("pypi", "benchmarks/run.py PYPI_PACKAGES", _build_pypi))
    corpora.append(Corpus("eval", "docs/evaluation.md, | PyPI rows", lambda: build_eval(cache_dir())))
    return corpora


def select_corpora(corpora: list[Corpus], spec: str) -> list[Corpus]:
    by_name = {c.name: c for c in corpora}
    wanted: list[str] = []
    for item in filter(None, (s.strip() for s in spec.split(","))):
        if item == "all":
            wanted += by_name
        elif item == "quick":
            wanted += QUICK
        elif item == "stdlib":
            wanted += [n for n in by_name if n.startswith("stdlib-")]
        elif item in by_name:
            wanted.append(item)
        else:
            sys.exit(f"golden: unknown corpus {item!r} (known: {', '.join(by_name)}, quick, stdlib, all)")
    return [by_name[n] for n in dict.fromkeys(wanted) if n in by_name]


# --- the evaluation corpus ------------------------------------------------------------------


def eval_specs(doc: Path = EVALUATION_DOC) -> list[tuple[str, str]]:
    """``(NAME, VERSION)`` of every package in the ``| PyPI`` rows of the "## Corpus" table."""
    text = doc.read_text(encoding="utf-8")
    section = text.split("\n## Corpus\n", 1)[1].split("\n## ", 1)[0]
    specs: list[tuple[str, str]] = []
    for line in section.splitlines():
        if not line.startswith("| PyPI"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        for item in cells[1].split(","):
            parts = item.split()
            if len(parts) != 2:
                raise ValueError(f"{doc}: not 'NAME VERSION': {item.strip()!r}")
            if (parts[0], parts[1]) not in specs:
                specs.append((parts[0], parts[1]))
    return specs


def _download(name: str, version: str, target: Path) -> str:
    """Download one package into ``target``; '' on success, else why not (also stamped)."""
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    r = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", str(target), f"{name}=={version}"],
        capture_output=True,
        text=True,
        check=False,
    )
    archives = [p for p in target.iterdir() if not p.name.startswith(".")]
    if r.returncode == 0 and len(archives) == 1:
        (target / ".ok").write_text(archives[0].name + "\n")
        return ""
    lines = [ln for ln in (r.stderr or r.stdout).strip().splitlines() if ln.startswith("ERROR")]
    why = lines[-1] if lines else f"pip exit {r.returncode}, {len(archives)} files downloaded"
    (target / ".failed").write_text(why + "\n")
    return why


def build_eval(cache: Path, retry_failed: bool = False, jobs: int = 2) -> Path:
    """Download (once) and unpack the evaluation packages; failures go to ``failed.txt``."""
    sys.path.insert(0, str(HERE))
    try:
        from run import unpack_py_files
    finally:
        sys.path.remove(str(HERE))
    specs = eval_specs()
    downloads, pkgs = cache / "downloads", cache / "pkgs"
    pkgs.mkdir(parents=True, exist_ok=True)
    todo = [
        (n, v)
        for n, v in specs
        if not (downloads / f"{n}-{v}" / ".ok").exists()
        and (retry_failed or not (downloads / f"{n}-{v}" / ".failed").exists())
    ]
    if todo:
        print(f"eval: downloading {len(todo)} of {len(specs)} packages", flush=True)
        with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
            futures = {pool.submit(_download, n, v, downloads / f"{n}-{v}"): (n, v) for n, v in todo}
            for i, fut in enumerate(concurrent.futures.as_completed(futures), 1):
                n, v = futures[fut]
                why = fut.result()
                if why or i % 50 == 0:
                    print(f"eval: {i}/{len(todo)} {n} {v}{': FAILED ' + why if why else ''}", flush=True)
    failed: list[str] = []
    wanted: set[str] = set()
    for n, v in specs:
        d = downloads / f"{n}-{v}"
        if not (d / ".ok").exists():
            why = (d / ".failed").read_text().strip() if (d / ".failed").exists() else "not downloaded"
            failed.append(f"{n} {v}: {why}")
            continue
        wanted.add(f"{n}-{v}")
        out = pkgs / f"{n}-{v}"
        stamp = d / ".unpacked"
        if not stamp.exists() or not out.exists():
            shutil.rmtree(out, ignore_errors=True)
            out.mkdir()
            archive = d / (d / ".ok").read_text().strip()
            stamp.write_text(f"{unpack_py_files(archive, out)} files\n")
    for stale in pkgs.iterdir():  # packages no longer in the table
        if stale.name not in wanted:
            shutil.rmtree(stale)
    listing = "".join(f"{line}\n" for line in failed)
    if not (cache / "failed.txt").exists() or (cache / "failed.txt").read_text() != listing:
        (cache / "failed.txt").write_text(listing)  # only when it changes: a shared cache stays as it is
    print(f"eval: {len(wanted)} packages unpacked, {len(failed)} failed (failed.txt)", flush=True)
    return pkgs


def failed_downloads(cache: Path) -> list[str]:
    path = cache / "failed.txt"
    return path.read_text().splitlines() if path.exists() else []


# --- what a corpus holds ---------------------------------------------------------------------


def corpus_files(root: Path, exclude: Sequence[str] = ()) -> dict[str, str]:
    """``./relative/path`` -> sha256 of every .py/.pyi file (directories in ``exclude`` pruned),
    spelt as socklint reports paths when run on ``.``."""
    out: dict[str, str] = {}
    for base, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in exclude and d != "__pycache__")
        rel = os.path.relpath(base, root)
        for name in sorted(files):
            if name.endswith((".py", ".pyi")):
                key = "./" + (name if rel == "." else f"{rel}/{name}").replace(os.sep, "/")
                try:
                    out[key] = hashlib.sha256(Path(base, name).read_bytes()).hexdigest()
                except OSError:
                    out[key] = "unreadable"
    return out


def digest_files(files: dict[str, str]) -> str:
    return hashlib.sha256("".join(f"{k}\0{v}\n" for k, v in sorted(files.items())).encode()).hexdigest()


def settings_file_above(root: Path) -> Path | None:
    """A pyproject.toml with [tool.socklint] at or above ``root``: it would change the output."""
    for d in (root.resolve(), *root.resolve().parents):
        p = d / "pyproject.toml"
        try:
            if p.is_file() and re.search(r"^\s*\[tool\.socklint", p.read_text(encoding="utf-8"), re.MULTILINE):
                return p
        except (OSError, UnicodeDecodeError):
            continue
    return None


# --------------------------------------------------------------------------------------------
# Running socklint


def command(socklint: Path, variant: str, exclude: Sequence[str] = ()) -> list[str]:
    excl = [arg for pattern in exclude for arg in ("--exclude", pattern)]
    return [
        str(socklint), "check", "--no-cache", "-j2", "--format", "json",
        *VARIANT_ARGS[variant], "--exit-zero", *excl, ".",
    ]  # fmt: skip


@dataclass
class Run:
    stdout: bytes
    stderr: str
    returncode: int
    seconds: float  # wall
    cpu: float = 0.0  # user + system of socklint and its worker processes

    def problems(self) -> list[str]:
        out: list[str] = []
        if self.returncode != 0:
            out.append(f"exit status {self.returncode}, expected 0")
        if TRACEBACK in self.stderr:
            tail = self.stderr[self.stderr.index(TRACEBACK) :].strip().splitlines()
            out.append("traceback on stderr:\n      " + "\n      ".join(tail[-12:]))
        try:
            if not isinstance(json.loads(self.stdout), list):
                out.append("stdout is not a JSON array")
        except ValueError:
            out.append(f"stdout is not JSON: {self.stdout[:200]!r}")
        return out


def run_socklint(socklint: Path, corpus: Corpus, root: Path, variant: str) -> Run:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    r = subprocess.run(command(socklint, variant, corpus.exclude), cwd=root, capture_output=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return Run(r.stdout, r.stderr.decode("utf-8", "replace"), r.returncode, wall, cpu)


_IDENTITY = r"""
import hashlib, importlib.metadata as md, json, os, platform, socklint
pkg = os.path.dirname(socklint.__file__)
h = hashlib.sha256()
for base, dirs, files in os.walk(pkg):
    dirs[:] = sorted(d for d in dirs if d not in ("__pycache__", "rule_docs"))
    for name in sorted(files):
        if name.endswith((".py", ".toml", ".json")):
            rel = os.path.relpath(os.path.join(base, name), pkg)
            h.update(rel.encode() + b"\0")
            with open(os.path.join(base, name), "rb") as fh:
                h.update(hashlib.sha256(fh.read()).digest())
try:
    url = json.loads(md.distribution("flake8-socklint").read_text("direct_url.json") or "{}").get("url", "")
except Exception:
    url = ""
print(json.dumps({"version": socklint.__version__, "code_sha256": h.hexdigest(), "source": url,
                  "python": platform.python_version(), "libcst": md.version("libcst")}))
"""


def socklint_identity(socklint: Path) -> dict[str, Any]:
    """What engine ``socklint`` is: version, a digest of its package, the git commit of the tree
    it was installed from (and whether that tree's socklint/ had uncommitted changes)."""
    python = socklint.parent / "python"
    try:
        first = socklint.read_text(encoding="utf-8", errors="replace").split("\n", 1)[0]
        if first.startswith("#!") and Path(first[2:].strip()).exists():
            python = Path(first[2:].strip())
    except OSError:
        pass
    ident: dict[str, Any] = {"executable": str(socklint)}
    # -I and cwd="/": the socklint that is installed there, not a checkout in the working directory
    r = subprocess.run([str(python), "-I", "-c", _IDENTITY], capture_output=True, text=True, check=False, cwd="/")
    if r.returncode != 0:
        ident["error"] = r.stderr.strip()[-300:]
        return ident
    ident.update(json.loads(r.stdout))
    source = str(ident.get("source", ""))
    if source.startswith("file://"):
        src = source[len("file://") :]
        git = ["git", "-C", src]
        head = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True, check=False)
        if head.returncode == 0:
            ident["commit"] = head.stdout.strip()
            dirty = subprocess.run(
                [*git, "status", "--porcelain", "--", "socklint"], capture_output=True, text=True, check=False
            )
            ident["dirty"] = bool(dirty.stdout.strip())
    return ident


# --------------------------------------------------------------------------------------------
# Comparing two outputs


def finding_key(f: Finding) -> str:
    return json.dumps(f, sort_keys=True)


def _minus(a: list[Finding], b: list[Finding]) -> list[Finding]:
    """The findings of ``a`` (in a's order, with multiplicity) that ``b`` does not have."""
    left = Counter(finding_key(f) for f in b)
    out: list[Finding] = []
    for f in a:
        k = finding_key(f)
        if left[k]:
            left[k] -= 1
        else:
            out.append(f)
    return out


def _canonical(raw: bytes, parsed: list[Finding]) -> bool:
    """Whether ``raw`` is exactly socklint's rendering of ``parsed`` (json.dumps, indent 2)."""
    return (json.dumps(parsed, indent=2) + "\n").encode() == raw


@dataclass
class Diff:
    identical: bool
    added: list[Finding] = field(default_factory=list)
    removed: list[Finding] = field(default_factory=list)
    # fixtures only: files present on one side, and the findings in them (these do not fail)
    new_files: list[str] = field(default_factory=list)
    removed_files: list[str] = field(default_factory=list)
    added_in_new_files: list[Finding] = field(default_factory=list)
    removed_in_removed_files: list[Finding] = field(default_factory=list)
    note: str = ""  # a difference that is not a finding: order, formatting, not JSON

    @property
    def failed(self) -> bool:
        return bool(self.added or self.removed or self.note)


def compare(
    baseline: bytes,
    current: bytes,
    new_files: Iterable[str] = (),
    removed_files: Iterable[str] = (),
) -> Diff:
    """Byte comparison first; if the bytes differ, the findings added and removed.

    Findings in ``new_files`` / ``removed_files`` (fixture files present on one side only) are
    set apart; if nothing else differs, and the rest is in the same order, the outputs agree.
    """
    new_set, removed_set = set(new_files), set(removed_files)
    diff = Diff(identical=baseline == current, new_files=sorted(new_set), removed_files=sorted(removed_set))
    if diff.identical:
        return diff
    try:
        old, new = json.loads(baseline), json.loads(current)
    except ValueError as exc:
        diff.note = f"not JSON: {exc}"
        return diff
    if not (isinstance(old, list) and isinstance(new, list)):
        diff.note = "not a JSON array"
        return diff
    for f in _minus(new, old):
        (diff.added_in_new_files if f.get("path") in new_set else diff.added).append(f)
    for f in _minus(old, new):
        (diff.removed_in_removed_files if f.get("path") in removed_set else diff.removed).append(f)
    if not (diff.added or diff.removed):
        old_kept = [finding_key(f) for f in old if f.get("path") not in removed_set]
        new_kept = [finding_key(f) for f in new if f.get("path") not in new_set]
        if old_kept != new_kept:
            diff.note = "the same findings in another order"
        elif not (_canonical(baseline, old) and _canonical(current, new)):
            diff.note = "the same findings, formatted differently"
    return diff


def format_finding(f: Finding) -> list[str]:
    lines = [f"{f.get('path')}:{f.get('line')}:{f.get('column')}: {f.get('code')} {f.get('message')}"]
    for step in f.get("trace") or ():
        lines.append(f"      {step.get('line')}:{step.get('column')} {step.get('note')}")
    return lines


def format_diff(diff: Diff, show: int = SHOW) -> list[str]:
    """The report of one corpus and variant, without its heading."""
    out: list[str] = []

    def section(title: str, findings: list[Finding]) -> None:
        if not findings:
            return
        out.append(f"  {title} ({len(findings)}):")
        for f in findings[:show]:
            out.extend("    " + line for line in format_finding(f))
        if len(findings) > show:
            out.append(f"    ... and {len(findings) - show} more")

    if diff.note:
        out.append(f"  {diff.note}")
    section("added", diff.added)
    section("removed", diff.removed)
    if diff.new_files or diff.removed_files:
        out.append(
            f"  new fixture files: {len(diff.new_files)}, removed fixture files: {len(diff.removed_files)}"
            " (their findings are not counted as a difference)"
        )
        out.extend(f"    + {p}" for p in diff.new_files[:show])
        out.extend(f"    - {p}" for p in diff.removed_files[:show])
        section("findings in new fixture files", diff.added_in_new_files)
        section("findings in removed fixture files", diff.removed_in_removed_files)
    return out


def summarize(raw: bytes) -> dict[str, Any]:
    findings: list[Finding] = json.loads(raw)
    return {
        "sha256": hashlib.sha256(raw).hexdigest(),
        "findings": len(findings),
        "files_with_findings": len({f["path"] for f in findings}),
        "by_code": dict(sorted(Counter(f["code"] for f in findings).items())),
    }


# --------------------------------------------------------------------------------------------
# Commands


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _load_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


@contextlib.contextmanager
def cache_lock() -> Iterator[None]:
    """One builder at a time per cache: two processes sharing $SOCKLINT_GOLDEN_CACHE must not
    download or unpack the same package at once (a download starts by emptying its folder)."""
    cache = cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / ".lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _prepare(corpus: Corpus) -> tuple[Path | None, str]:
    try:
        with cache_lock():
            root = corpus.build()
    except Unavailable as exc:
        return None, str(exc)
    above = settings_file_above(root)
    if above is not None:
        return None, f"{above} has a [tool.socklint] table: the output would depend on where the corpus lives"
    return root, ""


def _variants(corpus: Corpus, wanted: str) -> list[str]:
    return [v for v in corpus.variants if wanted in ("both", v)]


def cmd_record(args: argparse.Namespace) -> int:
    cache = cache_dir()
    socklint = Path(args.socklint).absolute()
    chosen = select_corpora(all_corpora(), args.corpora)
    existing = [c.name for c in chosen if any((cache / "baseline").glob(f"{c.name}.*.json"))]
    if existing and not args.force:
        print(
            f"golden: {cache / 'baseline'} already has a baseline for {', '.join(existing)};"
            " the gate compares against it (and other worktrees may share it): --force to replace it"
        )
        return 2
    ident = socklint_identity(socklint)
    print(f"recording with {socklint} (commit {ident.get('commit', '?')}, code {str(ident.get('code_sha256'))[:12]})")
    manifest = _load_json(MANIFEST) or {}
    before = manifest.get("recorded_with", {}).get("code_sha256")
    if args.corpora != "all" and before not in (None, ident.get("code_sha256")):
        print("warning: the other corpora of the manifest were recorded with another socklint")
    timings = _load_json(cache / "baseline" / "timings.json") or {}
    entries: dict[str, Any] = manifest.setdefault("corpora", {})
    bad = 0
    started = time.perf_counter()
    for corpus in chosen:
        root, why = _prepare(corpus)
        if root is None:
            print(f"{corpus.name}: UNAVAILABLE: {why}", flush=True)
            bad += 1
            continue
        files = corpus_files(root, corpus.exclude)
        _write(cache / "baseline" / f"{corpus.name}.files.json", json.dumps(files, indent=0).encode())
        entry: dict[str, Any] = {
            "root": corpus.where,
            "files": len(files),
            "files_sha256": digest_files(files),
            "variants": {},
        }
        if corpus.name == "eval":
            failed = failed_downloads(cache)
            entry["packages"] = {"listed": len(eval_specs()), "failed": [line.split(":")[0] for line in failed]}
        for variant in _variants(corpus, "both"):
            res = run_socklint(socklint, corpus, root, variant)
            problems = res.problems()
            label = f"{corpus.name}.{variant}"
            if problems:
                bad += 1
                print(f"{label}: PROBLEM\n  " + "\n  ".join(problems), flush=True)
            if res.stderr.strip() and TRACEBACK not in res.stderr:
                print(f"{label}: stderr: {res.stderr.strip()[:500]}", flush=True)
            try:
                summary = summarize(res.stdout)
            except (ValueError, KeyError, TypeError):
                continue
            _write(cache / "baseline" / f"{label}.json", res.stdout)
            entry["variants"][variant] = {"command": " ".join(command(Path("socklint"), variant, corpus.exclude))} | summary
            timings[label] = {"wall": round(res.seconds, 2), "cpu": round(res.cpu, 2)}
            print(
                f"{label:22} {res.seconds:7.1f} s wall {res.cpu:7.1f} s CPU  {len(files):6} files"
                f"  {summary['findings']:6} findings"
                + (f"  SKL900: {summary['by_code']['SKL900']}" if "SKL900" in summary["by_code"] else ""),
                flush=True,
            )
        entries[corpus.name] = entry
    manifest["recorded_with"] = {k: v for k, v in ident.items() if k != "executable"}
    manifest["recorded_at"] = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    manifest["corpora"] = {c: entries[c] for c in sorted(entries, key=_corpus_order)}
    MANIFEST.write_text(json.dumps(manifest, indent=2) + "\n")
    _write(cache / "baseline" / "timings.json", json.dumps(timings, indent=2, sort_keys=True).encode())
    print(f"recorded in {time.perf_counter() - started:.0f} s; wrote {MANIFEST}")
    return 1 if bad else 0


def _corpus_order(name: str) -> tuple[int, tuple[int, ...], str]:
    if name.startswith("stdlib-"):
        return (1, tuple(int(x) for x in name[7:].split(".")), name)
    return ({"fixtures": 0, "pypi": 2, "eval": 3}.get(name, 4), (), name)


def cmd_check(args: argparse.Namespace) -> int:
    cache = cache_dir()
    socklint = Path(args.socklint).absolute()
    manifest = _load_json(MANIFEST) or {}
    recorded = manifest.get("recorded_with", {})
    ident = socklint_identity(socklint)
    same = ident.get("code_sha256") == recorded.get("code_sha256")
    print(
        f"checking {socklint} (commit {str(ident.get('commit', '?'))[:12]}"
        f"{', uncommitted changes' if ident.get('dirty') else ''}) against the baseline of"
        f" {str(recorded.get('commit', '?'))[:12]}{' (same engine code)' if same else ''}"
    )
    for key in ("python", "libcst"):
        if recorded.get(key) and ident.get(key) and ident.get(key) != recorded.get(key):
            print(f"warning: {key} {ident.get(key)} here, {recorded.get(key)} in the baseline")
    timings = _load_json(cache / "baseline" / "timings.json") or {}
    rows: list[tuple[str, str, float, float]] = []
    started = time.perf_counter()
    failed = 0
    for corpus in select_corpora(all_corpora(), args.corpora):
        root, why = _prepare(corpus)
        if root is None:
            print(f"{corpus.name}: UNAVAILABLE: {why}", flush=True)
            rows.append((corpus.name, "unavailable", 0.0, 0.0))
            failed += 1
            continue
        old_files: dict[str, str] = _load_json(cache / "baseline" / f"{corpus.name}.files.json") or {}
        files = corpus_files(root, corpus.exclude)
        new_files = sorted(set(files) - set(old_files))
        removed_files = sorted(set(old_files) - set(files))
        changed = sorted(k for k in set(files) & set(old_files) if files[k] != old_files[k])
        drift = ""
        if not corpus.fixtures and (new_files or removed_files or changed):
            drift = (
                f"the corpus changed since the baseline: {len(new_files)} files added, "
                f"{len(removed_files)} removed, {len(changed)} changed; re-record the baseline"
            )
        for variant in _variants(corpus, args.variant):
            label = f"{corpus.name}.{variant}"
            base_path = cache / "baseline" / f"{label}.json"
            if not base_path.exists():
                print(f"{label}: NO BASELINE ({base_path}): run `golden.py record` first", flush=True)
                rows.append((label, "no baseline", 0.0, 0.0))
                failed += 1
                continue
            baseline = base_path.read_bytes()
            expected = manifest.get("corpora", {}).get(corpus.name, {}).get("variants", {}).get(variant, {})
            if expected.get("sha256") not in (None, hashlib.sha256(baseline).hexdigest()):
                print(f"warning: {base_path} is not the baseline of {MANIFEST.name} (re-recorded?)")
            res = run_socklint(socklint, corpus, root, variant)
            # Kept for reading the whole difference (the report below shows the first ones).
            _write(cache / "run" / f"{label}.last.json", res.stdout)
            problems = res.problems()
            diff = compare(
                baseline,
                res.stdout,
                new_files if corpus.fixtures else (),
                removed_files if corpus.fixtures else (),
            )
            if diff.failed:
                status = "DIFFERENT"
            elif problems or drift:
                status = "PROBLEM"
            else:  # "agrees": differs only by findings in new or removed fixture files
                status = "identical" if diff.identical else "agrees"
            before = timings.get(label) or {}
            took = f"{res.seconds:7.1f} s wall {res.cpu:7.1f} s CPU" + (
                f" (baseline {before['wall']:.1f} / {before['cpu']:.1f})" if before else ""
            )
            counts = f"+{len(diff.added)} -{len(diff.removed)}" if diff.failed else ""
            print(f"{label:22} {status:10} {took}  {counts}".rstrip(), flush=True)
            if drift:
                print(f"  {drift}")
            for p in problems:
                print(f"  {p}")
            if res.stderr.strip() and TRACEBACK not in res.stderr:
                print(f"  stderr: {res.stderr.strip()[:500]}")
            if corpus.fixtures and changed and diff.failed:
                print(f"  note: {len(changed)} fixture files changed since the baseline: " + ", ".join(changed[:10]))
            for line in format_diff(diff):
                print(line)
            if diff.failed or problems or drift:
                failed += 1
            rows.append((label, status, res.seconds, res.cpu))
    total = time.perf_counter() - started
    print(f"\n{'corpus.variant':22} {'status':10} {'wall s':>7} {'CPU s':>7}")
    for label, status, wall, cpu in rows:
        print(f"{label:22} {status:10} {wall:7.1f} {cpu:7.1f}")
    print(f"{'total':22} {'':10} {total:7.1f} {sum(r[3] for r in rows):7.1f}")
    print("identical everywhere" if not failed else f"{failed} corpus runs differ or failed")
    return 1 if failed else 0


def cmd_list(args: argparse.Namespace) -> int:
    for c in all_corpora():
        print(f"{c.name:14} variants {','.join(c.variants):12} {c.where}")
    print(f"cache: {cache_dir()}")
    return 0


def cmd_fetch(args: argparse.Namespace) -> int:
    bad = 0
    for corpus in select_corpora(all_corpora(), args.corpora):
        try:
            with cache_lock():
                root = build_eval(cache_dir(), args.retry_failed) if corpus.name == "eval" else corpus.build()
        except Unavailable as exc:
            print(f"{corpus.name}: UNAVAILABLE: {exc}")
            bad += 1
            continue
        print(f"{corpus.name}: {len(corpus_files(root, corpus.exclude))} files in {root}")
    return 1 if bad else 0


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)
    default_socklint = str(Path(sys.executable).parent / "socklint")
    for name, helptext in (("record", "store the outputs as the baseline"), ("check", "compare with the baseline")):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("--socklint", default=default_socklint, help=f"the socklint to run (default {default_socklint})")
        p.add_argument("--corpora", default="all", help="comma-separated names, or quick, stdlib, all (default all)")
        if name == "record":
            p.add_argument("--force", action="store_true", help="replace an existing baseline")
        if name == "check":
            p.add_argument(
                "--variant",
                choices=("all", "default", "both"),
                default="both",
                help="all: --select ALL; default: default settings; both (default)",
            )
        p.set_defaults(func=cmd_record if name == "record" else cmd_check)
    p = sub.add_parser("list", help="the corpora")
    p.set_defaults(func=cmd_list)
    p = sub.add_parser("fetch", help="build the corpora (downloads) without running socklint")
    p.add_argument("--corpora", default="all")
    p.add_argument("--retry-failed", action="store_true", help="try the failed downloads again")
    p.set_defaults(func=cmd_fetch)
    args = ap.parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    return func(args)


if __name__ == "__main__":
    sys.exit(main())
