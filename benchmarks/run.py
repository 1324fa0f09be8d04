#!/usr/bin/env python3
"""Benchmark socklint against flake8, ruff and pylint, and write docs/performance.md.

One command, from the repository root, in the project's venv:

    python benchmarks/run.py --runs 5

Corpora: (a) every ``.py`` file of the local CPython 3.11 standard library
(``$(pyenv prefix 3.11.7)/lib/python3.11``, ``site-packages`` excluded), copied to
``benchmarks/.cache/corpus/stdlib`` so every tool sees exactly the same files; (b) a pinned set
of socket-heavy PyPI packages, downloaded once with ``pip download --no-deps`` into
``benchmarks/.cache/`` and unpacked (only their ``.py`` files).

Every tool runs as a child process; runs are interleaved (tool A, B, C, A, B, C, ...) so that
load drift on a shared machine hits every tool alike. Measured per run: wall time, CPU time
(user + sys of the child and all its descendants, from ``os.wait4``), the largest single
process RSS (``ru_maxrss``) and the peak total RSS of the whole process tree (sampled from
/proc every 50 ms: a multi-process tool's footprint is the sum of its processes).

flake8 without the socklint plugin runs from a separate venv (``benchmarks/.cache/venv-flake8``,
created on first use) holding the very same flake8, pycodestyle, pyflakes and mccabe versions:
flake8 loads every installed plugin, so the project venv cannot run flake8 without ours.

Other options: ``--quick`` (1 run, skip pylint and linearity, for trying the script),
``--verify-prefilter`` (analyse every standard-library file the prefilter rejects and show that
no finding is lost), ``--only TOOL,...``, ``--corpora stdlib,pypi``, ``--no-write``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import zipfile
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "benchmarks" / ".cache"
CORPORA = CACHE / "corpus"
DOC = ROOT / "docs" / "performance.md"
KEEP_MARKER = "<!-- Everything below this line is kept by benchmarks/run.py. -->"
PYTHON = sys.executable
STDLIB_VERSION = "3.11.7"

# Pinned, socket-heavy, mostly pure-Python packages (clients, servers, event loops).
PYPI_PACKAGES = [
    "urllib3==2.8.0",
    "requests==2.34.2",
    "paramiko==5.1.0",
    "websocket-client==1.9.2",
    "tornado==6.6.1",
    "pika==1.4.4",
    "redis==8.1.0",
    "PyMySQL==1.2.4",
    "paho-mqtt==2.2.0",
    "twisted==26.10.0",
    "dnspython==2.9.2",
    "eventlet==0.41.3",
]
FLAKE8_DISTS = ["flake8", "pycodestyle", "pyflakes", "mccabe"]

# --------------------------------------------------------------------------------------------
# Corpora


def stdlib_root() -> Path:
    try:
        prefix = subprocess.run(
            ["pyenv", "prefix", STDLIB_VERSION], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        prefix = os.path.expanduser(f"~/.pyenv/versions/{STDLIB_VERSION}")
    root = Path(prefix) / "lib" / "python3.11"
    if not root.is_dir():
        sys.exit(f"benchmarks: no Python {STDLIB_VERSION} standard library at {root} (pyenv install {STDLIB_VERSION})")
    return root


def copy_py_tree(src: Path, dst: Path, skip: Callable[[Path], bool] = lambda p: False) -> int:
    """Copy every .py file under ``src`` to ``dst`` (once; a stamp file marks completion)."""
    stamp = dst / ".complete"
    if stamp.exists():
        return sum(1 for _ in dst.rglob("*.py"))
    if dst.exists():
        shutil.rmtree(dst)
    n = 0
    for path in sorted(src.rglob("*.py")):
        rel = path.relative_to(src)
        if skip(rel) or not path.is_file():
            continue
        target = dst / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        n += 1
    stamp.write_text("ok\n")
    return n


def build_stdlib_corpus() -> Path:
    dst = CORPORA / "stdlib"
    n = copy_py_tree(stdlib_root(), dst, lambda rel: "site-packages" in rel.parts)
    print(f"corpus stdlib: {n} files", flush=True)
    return dst


def _safe_member(name: str) -> bool:
    parts = Path(name).parts
    return name.endswith(".py") and not name.startswith("/") and ".." not in parts


def unpack_py_files(archive: Path, out: Path) -> int:
    """Write the ``.py`` members of a wheel, zip or tar archive (safe names only) below ``out``."""
    n = 0
    if archive.name.endswith((".whl", ".zip")):
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                if not info.is_dir() and _safe_member(info.filename):
                    path = out / info.filename
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_bytes(zf.read(info))
                    n += 1
    else:
        with tarfile.open(archive) as tf:
            for member in tf.getmembers():
                if member.isfile() and _safe_member(member.name):
                    fh = tf.extractfile(member)
                    if fh is not None:
                        path = out / member.name
                        path.parent.mkdir(parents=True, exist_ok=True)
                        path.write_bytes(fh.read())
                        n += 1
    return n


def build_pypi_corpus(cache: Path = CACHE) -> Path | None:
    """The ``PYPI_PACKAGES`` corpus below ``cache`` (downloads in ``cache/downloads``, unpacked
    into ``cache/corpus/pypi/NAME``); None when a package cannot be downloaded."""
    dst = cache / "corpus" / "pypi"
    stamp = dst / ".complete"
    if stamp.exists() and stamp.read_text() == "\n".join(PYPI_PACKAGES):
        print(f"corpus pypi: {sum(1 for _ in dst.rglob('*.py'))} files", flush=True)
        return dst
    downloads = cache / "downloads"
    downloads.mkdir(parents=True, exist_ok=True)
    if dst.exists():
        shutil.rmtree(dst)
    for spec in PYPI_PACKAGES:
        name = spec.split("==")[0]
        target = downloads / spec
        if not target.exists() or not any(target.iterdir()):
            target.mkdir(parents=True, exist_ok=True)
            r = subprocess.run(
                [PYTHON, "-m", "pip", "download", "--no-deps", "--quiet", "-d", str(target), spec],
                capture_output=True,
                text=True,
                check=False,
            )
            if r.returncode != 0:
                print(f"corpus pypi: cannot download {spec}: {r.stderr.strip()[-300:]}", flush=True)
                shutil.rmtree(target, ignore_errors=True)
                return None
        (archive,) = sorted(target.iterdir())
        unpack_py_files(archive, dst / name)
    stamp.write_text("\n".join(PYPI_PACKAGES))
    print(f"corpus pypi: {sum(1 for _ in dst.rglob('*.py'))} files", flush=True)
    return dst


def build_copies(src: Path, k: int) -> Path:
    """``k`` copies of ``src`` side by side, for the linearity check (hard links: no disk cost)."""
    dst = CORPORA / f"{src.name}-x{k}"
    stamp = dst / ".complete"
    if not stamp.exists():
        if dst.exists():
            shutil.rmtree(dst)
        for i in range(k):
            for path in sorted(src.rglob("*.py")):
                target = dst / f"copy{i}" / path.relative_to(src)
                target.parent.mkdir(parents=True, exist_ok=True)
                try:
                    os.link(path, target)
                except OSError:
                    shutil.copyfile(path, target)
        stamp.write_text("ok\n")
    return dst


def corpus_lines(root: Path) -> tuple[int, int]:
    files = lines = 0
    for path in root.rglob("*.py"):
        files += 1
        lines += path.read_bytes().count(b"\n")
    return files, lines


# --------------------------------------------------------------------------------------------
# Measuring one child process


@dataclass
class Sample:
    wall: float
    cpu: float
    max_rss_mib: float  # largest single process
    tree_rss_mib: float  # peak of the sum over the process tree
    returncode: int
    output_lines: int


def _children_map() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        # The command name is in parentheses and may contain spaces: split after the last ')'.
        fields = stat[stat.rfind(b")") + 2 :].split()
        kids.setdefault(int(fields[1]), []).append(int(entry.name))
    return kids


def _rss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm", "rb") as fh:
            return int(fh.read().split()[1]) * (os.sysconf("SC_PAGE_SIZE") // 1024)
    except (OSError, IndexError, ValueError):
        return 0


class TreeRssSampler(threading.Thread):
    def __init__(self, pid: int, interval: float = 0.05) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval, self.peak_kib = pid, interval, 0
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            tree, todo = [], [self.pid]
            kids = _children_map()
            while todo:
                p = todo.pop()
                tree.append(p)
                todo.extend(kids.get(p, []))
            self.peak_kib = max(self.peak_kib, sum(_rss_kib(p) for p in tree))
            self._halt.wait(self.interval)

    def stop(self) -> None:
        self._halt.set()
        self.join()


_RUNNING = [0]  # the process group of the tool being measured, 0 when none


def _terminate(signum: int, frame: object) -> None:
    if _RUNNING[0]:
        with contextlib.suppress(OSError):
            os.killpg(_RUNNING[0], signal.SIGTERM)
    sys.exit(128 + signum)


def measure(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> Sample:
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        # A session of its own, so an interrupted benchmark can end the tool's whole tree.
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        _RUNNING[0] = proc.pid
        sampler = TreeRssSampler(proc.pid)
        sampler.start()
        _, status, ru = os.wait4(proc.pid, 0)
        _RUNNING[0] = 0
        wall = time.perf_counter() - start
        sampler.stop()
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        lines = out.read().count(b"\n")
    return Sample(
        wall=wall,
        cpu=ru.ru_utime + ru.ru_stime,
        max_rss_mib=ru.ru_maxrss / 1024,
        tree_rss_mib=max(sampler.peak_kib, ru.ru_maxrss) / 1024,
        returncode=proc.returncode,
        output_lines=lines,
    )


# --------------------------------------------------------------------------------------------
# Tools


@dataclass
class Tool:
    name: str
    label: str
    command: Callable[[Path], list[str]]
    prepare: Callable[[Path], None] | None = None
    available: str = ""  # empty when available, else the reason
    ok_codes: tuple[int, ...] = (0, 1)


@dataclass
class Result:
    tool: Tool
    samples: list[Sample] = field(default_factory=list)

    def median(self, attr: str) -> float:
        return statistics.median(getattr(s, attr) for s in self.samples)

    def spread(self) -> str:
        walls = [s.wall for s in self.samples]
        return f"{min(walls):.2f}-{max(walls):.2f}"


def venv_bin(venv: Path, name: str) -> str:
    return str(venv / "bin" / name)


def ensure_flake8_venv() -> tuple[Path | None, str]:
    """A venv with this venv's flake8 stack and no plugins."""
    try:
        pins = [f"{d}=={version(d)}" for d in FLAKE8_DISTS]
    except PackageNotFoundError as exc:
        return None, f"flake8 is not installed in this venv ({exc})"
    venv = CACHE / "venv-flake8"
    stamp = venv / "pins.txt"
    if stamp.exists() and stamp.read_text() == "\n".join(pins):
        return venv, ""
    shutil.rmtree(venv, ignore_errors=True)
    subprocess.run([PYTHON, "-m", "venv", str(venv)], check=True)
    r = subprocess.run([venv_bin(venv, "python"), "-m", "pip", "install", "--quiet", *pins], capture_output=True, text=True, check=False)
    if r.returncode != 0:
        return None, f"cannot create the plugin-free flake8 venv: {r.stderr.strip()[-300:]}"
    stamp.write_text("\n".join(pins))
    return venv, ""


def plugin_status(workdir: Path) -> str:
    """Empty if flake8 in this venv loads and runs the socklint plugin, else why not."""
    import importlib.util

    if importlib.util.find_spec("socklint.integrations.flake8") is None:
        return "not available: socklint/integrations/flake8.py is not on this branch yet"
    probe = workdir / "probe.py"
    probe.write_text("import socket\n\n\ndef f(h):\n    s = socket.create_connection((h, 1))\n    s.sendall(b'x')\n    s.close()\n")
    r = subprocess.run([PYTHON, "-m", "flake8", "--isolated", str(probe)], capture_output=True, text=True, cwd=workdir, check=False)
    if r.returncode not in (0, 1) or "SKL" not in r.stdout:
        return f"not available: flake8 with the plugin did not report SKL on a known leak (exit {r.returncode}: {(r.stderr or r.stdout).strip()[-200:]})"
    return ""


def make_tools(workdir: Path, only: set[str] | None) -> list[Tool]:
    empty_cfg = workdir / "empty.toml"
    empty_cfg.write_text("")
    pylintrc = workdir / "pylintrc"
    pylintrc.write_text("")
    warm_cache = workdir / "socklint-cache"
    flake8_venv, flake8_why = ensure_flake8_venv()
    ruff = shutil.which("ruff", path=str(Path(PYTHON).parent)) or shutil.which("ruff")

    def warm_prepare(corpus: Path) -> None:
        shutil.rmtree(warm_cache, ignore_errors=True)
        subprocess.run(socklint(corpus, cache=True), cwd=workdir, stdout=subprocess.DEVNULL, check=False)

    def socklint(corpus: Path, cache: bool = False) -> list[str]:
        flags = ["--cache-dir", str(warm_cache)] if cache else ["--no-cache"]
        return [PYTHON, "-m", "socklint", "check", "--no-source", "--config", str(empty_cfg), *flags, str(corpus)]

    tools = [
        Tool("socklint-cold", "`socklint check --no-cache` (cold)", socklint),
        Tool("socklint-warm", "`socklint check` (warm cache, nothing changed)", lambda c: socklint(c, cache=True), warm_prepare),
        Tool(
            "flake8",
            "`flake8 -j2` (default checks, no plugins)",
            lambda c: [venv_bin(flake8_venv or Path("."), "flake8"), "-j2", "--isolated", str(c)],
            available=flake8_why,
        ),
        Tool(
            "flake8-socklint",
            "`flake8 -j2` + socklint plugin",
            lambda c: [PYTHON, "-m", "flake8", "-j2", "--isolated", str(c)],
            available=plugin_status(workdir),
        ),
        Tool(
            "ruff",
            "`ruff check --no-cache` (default rules)",
            lambda c: [ruff or "ruff", "check", "--no-cache", "--isolated", "--no-respect-gitignore", "--output-format", "concise", str(c)],
            available="" if ruff else "ruff is not installed",
        ),
        Tool(
            "pylint",
            "`pylint --disable=all --enable=consider-using-with -j2`",
            lambda c: [PYTHON, "-m", "pylint", f"--rcfile={pylintrc}", "--disable=all", "--enable=consider-using-with", "-j2", "--recursive=y", str(c)],
            # pylint's exit status is a bit mask of message categories, 32 for usage errors.
            ok_codes=tuple(range(32)),
        ),
    ]
    if only:
        tools = [t for t in tools if t.name in only]
    return tools


SLOW_TOOLS = {"flake8", "flake8-socklint", "pylint"}


def run_tools(tools: list[Tool], corpus: Path, runs: int, workdir: Path, slow_runs: int | None = None) -> list[Result]:
    results = [Result(t) for t in tools if not t.available]
    for r in results:
        if r.tool.prepare:
            r.tool.prepare(corpus)
    slow_runs = runs if slow_runs is None else slow_runs
    for i in range(max(runs, slow_runs)):
        for r in results:
            if i >= (slow_runs if r.tool.name in SLOW_TOOLS else runs):
                continue
            s = measure(r.tool.command(corpus), workdir)
            if s.returncode not in r.tool.ok_codes:
                print(f"  {r.tool.name}: exit status {s.returncode}: {' '.join(r.tool.command(corpus))}", flush=True)
            r.samples.append(s)
            print(f"  run {i + 1} {r.tool.name:16} wall {s.wall:7.2f}s  cpu {s.cpu:7.2f}s  rss {s.max_rss_mib:6.0f}/{s.tree_rss_mib:6.0f} MiB  lines {s.output_lines}", flush=True)
    return results


# --------------------------------------------------------------------------------------------
# Language server: one-line edit in a large file


SOCKET_FN = '''

def fetch_{i}(host, port, payload):
    """Send a request and read the reply (generated function {i})."""
    sock = socket.create_connection((host, port), timeout={timeout})
    try:
        sock.sendall(payload)
        chunks = []
        while True:
            data = sock.recv(4096)
            if not data:
                break
            chunks.append(data)
        reply = b"".join(chunks)
    finally:
        sock.close()
    if len(reply) > {limit}:
        raise ValueError("reply too long")
    header, _, body = reply.partition(b"\\r\\n\\r\\n")
    status = header.split(b" ", 2)[1:2]
    if status and status[0] != b"200":
        return None
    return body
'''

PLAIN_FN = '''

def compute_{i}(values, factor={factor}):
    """Plain arithmetic, no sockets (generated function {i})."""
    total = 0
    for index, value in enumerate(values):
        if index % 3 == 0:
            total += value * factor
        elif index % 3 == 1:
            total -= value // (factor + 1)
        else:
            total ^= value
    result = []
    for value in sorted(values):
        result.append(value + total)
    mapping = {{str(v): v * 2 for v in result}}
    if not mapping:
        return 0
    return sum(mapping.values()) + len(result)
'''


LEAKY_FN = '''

def probe_{i}(host, port):
    """Connect, send a probe, read the banner (generated function {i}: leaks on error)."""
    sock = socket.create_connection((host, port), timeout={timeout})
    sock.sendall(b"PING\\r\\n")
    banner = sock.recv({limit})
    if not banner.startswith(b"+"):
        raise ConnectionError("unexpected banner")
    sock.close()
    return banner
'''


def generate_large_file(lines: int = 3000, socket_functions: int = 50) -> str:
    """A module of about ``lines`` lines: ``socket_functions`` functions that use sockets (one
    in five leaks on an error path, so findings and positions are part of the timing) between
    plain functions."""
    parts = ['"""Generated for the socklint benchmark: 3,000 lines, 50 socket functions."""\n\nimport socket\n']
    i = 0
    while sum(p.count("\n") for p in parts) < lines - 25:
        if i < socket_functions:
            template = LEAKY_FN if i % 5 == 4 else SOCKET_FN
            parts.append(template.format(i=i, timeout=5 + i % 7, limit=1 << (10 + i % 10)))
        parts.append(PLAIN_FN.format(i=i, factor=2 + i % 5))
        i += 1
    text = "".join(parts)
    assert text.count("def fetch_") + text.count("def probe_") == socket_functions, "file too short"
    return text


def lsp_timing(runs: int) -> dict[str, object]:
    """Full libcst parse of the file vs socklint's re-analysis after a one-line edit."""
    import libcst

    from socklint.api import check_source
    from socklint.config import Settings

    text = generate_large_file()
    settings = Settings()
    nlines = text.count("\n")
    edit_line = text.splitlines().index(next(ln for ln in text.splitlines() if "def fetch_26(" in ln)) + 5

    def edited(k: int) -> str:
        lines = text.splitlines(keepends=True)
        lines[edit_line] = lines[edit_line].replace("chunks = []", f"chunks = []  # edit {k}")
        return "".join(lines)

    from socklint import engine

    libcst.parse_module(text)  # warm-up imports
    check_source("big.py", text.encode(), settings)
    parse_times, full_times, inc_times = [], [], []
    for _ in range(runs):
        t = time.perf_counter()
        libcst.parse_module(text)
        parse_times.append(time.perf_counter() - t)
    for k in range(runs):
        # Full re-analysis: nothing reused from the per-function result cache.
        data = edited(k).encode()
        engine.clear_caches()
        t = time.perf_counter()
        diags = check_source("big.py", data, settings)
        full_times.append(time.perf_counter() - t)
    # Incremental, as in the language server: the previous version of the file was analysed,
    # so every function but the edited one is found in the cache.
    engine.clear_caches()
    check_source("big.py", edited(runs).encode(), settings)
    for k in range(runs):
        data = edited(runs + 1 + k).encode()
        t = time.perf_counter()
        check_source("big.py", data, settings)
        inc_times.append(time.perf_counter() - t)
    return {
        "lines": nlines,
        "socket_functions": 50,
        "findings": len(diags),
        "libcst_parse": statistics.median(parse_times),
        "check_source_after_edit": statistics.median(full_times),
        "incremental": statistics.median(inc_times),
    }


# --------------------------------------------------------------------------------------------
# Prefilter verification over the standard library


def verify_prefilter(root: Path) -> dict[str, object]:
    from socklint.api import check_source
    from socklint.codes import TOOL_CODES
    from socklint.config import Settings
    from socklint.source import may_contain_findings

    settings = Settings()
    rejected = 0
    dropped: list[str] = []
    t = time.perf_counter()
    files = sorted(root.rglob("*.py"))
    for path in files:
        data = path.read_bytes()
        if may_contain_findings(data, settings.socket_factories):
            continue  # the full and the filtered run take the same path
        rejected += 1
        for d in check_source(str(path), data, settings, prefilter=False):
            if d.code not in TOOL_CODES:
                dropped.append(f"{d.path}:{d.line}: {d.code}")
    return {"files": len(files), "rejected": rejected, "dropped": dropped, "seconds": time.perf_counter() - t}


# --------------------------------------------------------------------------------------------
# Report


def tool_versions() -> dict[str, str]:
    def v(dist: str) -> str:
        try:
            return version(dist)
        except PackageNotFoundError:
            return "not installed"

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True, text=True, check=False).stdout.strip()
    return {
        "socklint": f"{v('flake8-socklint')} (git {commit}{', uncommitted changes' if dirty else ''})",
        "libcst": v("libcst"),
        "flake8": f"{v('flake8')} (pycodestyle {v('pycodestyle')}, pyflakes {v('pyflakes')}, mccabe {v('mccabe')})",
        "ruff": v("ruff"),
        "pylint": f"{v('pylint')} (astroid {v('astroid')})",
        "python": platform.python_version(),
    }


def machine_info() -> dict[str, str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "unknown"
    try:
        kib = int(Path("/proc/meminfo").read_text().split("MemTotal:")[1].split()[0])
        mem = f"{kib / 1024 / 1024:.1f} GiB"
    except (OSError, IndexError, ValueError):
        pass
    return {
        "cpu": cpu,
        "cpus usable": str(len(os.sched_getaffinity(0))),
        "memory": mem,
        "os": f"{platform.system()} {platform.release()}",
        "load average at start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def _fmt_ratio(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.3f}x"


def _met(value: float | None, limit: float, lower_bound: float | None = None) -> str:
    if value is None:
        return "not measured"
    ok = value <= limit and (lower_bound is None or value >= lower_bound)
    return "met" if ok else "**NOT met**"


def render(report: dict[str, object], args: argparse.Namespace) -> str:
    md: list[str] = []
    md.append("# Performance\n")
    md.append(
        f"Generated by `python benchmarks/run.py {' '.join(sys.argv[1:])}` on {report['date']} "
        f"({report['duration_min']:.0f} min). Re-run that command to refresh this page; the notes "
        "at the end are kept.\n"
    )
    md.append(
        "Medians of the runs; runs of different tools are interleaved. *wall*: elapsed time. "
        "*CPU*: user + system time of the tool and all its child processes. *RSS max*: the largest "
        "single process; *RSS tree*: peak of the summed RSS of all the tool's processes (sampled "
        "every 50 ms). Ratios compare medians of the same run of this script: absolute seconds "
        "move with machine load, ratios much less.\n"
    )
    md.append("## Machine and versions\n")
    for k, v in {**report["machine"], **report["versions"]}.items():  # type: ignore[dict-item]
        md.append(f"- {k}: {v}")
    md.append("")
    targets: list[tuple[str, str, str, str]] = []
    for corpus in report["corpora"]:  # type: ignore[attr-defined]
        md.append(f"## Corpus: {corpus['name']}\n")
        md.append(f"{corpus['description']} — {corpus['files']:,} files, {corpus['lines']:,} lines.\n")
        md.append("| tool | runs | wall (median) | wall (min-max) | CPU | RSS max | RSS tree | output lines | wall vs flake8 -j2 | wall vs ruff |")
        md.append("|---|---|---|---|---|---|---|---|---|---|")
        by = {r["name"]: r for r in corpus["results"]}
        f8 = by.get("flake8", {}).get("wall")
        rf = by.get("ruff", {}).get("wall")
        for r in corpus["results"]:
            md.append(
                f"| {r['label']} | {r['runs']} | {r['wall']:.2f} s | {r['spread']} s | {r['cpu']:.2f} s | "
                f"{r['max_rss']:.0f} MiB | {r['tree_rss']:.0f} MiB | {r['lines']} | "
                f"{_fmt_ratio(r['wall'] / f8 if f8 else None)} | {_fmt_ratio(r['wall'] / rf if rf else None)} |"
            )
        for name, why in corpus["unavailable"].items():
            md.append(f"| {name} | - | {why} | | | | | | | |")
        md.append("")
        cold = by.get("socklint-cold")
        warm = by.get("socklint-warm")
        plug = by.get("flake8-socklint")
        c = corpus["name"]
        if cold and f8:
            targets.append((c, "cold wall ≤ 0.15x flake8 -j2", _fmt_ratio(cold["wall"] / f8), _met(cold["wall"] / f8, 0.15)))
        if cold and rf:
            targets.append((c, "cold wall ≤ 3x ruff", _fmt_ratio(cold["wall"] / rf), _met(cold["wall"] / rf, 3.0)))
        if cold and warm:
            targets.append((c, "warm wall ≤ 0.05x cold", _fmt_ratio(warm["wall"] / cold["wall"]), _met(warm["wall"] / cold["wall"], 0.05)))
        if f8:
            if plug:
                extra = plug["wall"] / f8 - 1
                targets.append((c, "plugin adds ≤ 10 % to flake8 -j2", f"{extra * 100:+.1f} %", _met(extra, 0.10)))
            else:
                targets.append((c, "plugin adds ≤ 10 % to flake8 -j2", corpus["unavailable"].get("flake8-socklint", "not measured"), "not measured"))
        if cold and f8:
            f8_rss = by["flake8"]["tree_rss"]
            targets.append((c, "cold peak RSS ≤ 2x flake8's (process tree)", _fmt_ratio(cold["tree_rss"] / f8_rss), _met(cold["tree_rss"] / f8_rss, 2.0)))
    lin = report.get("linearity")
    if lin:
        md.append("## Linearity (socklint cold, 1x / 2x / 4x copies of the standard library)\n")
        md.append("| copies | files | wall (median) | CPU (median) | wall / (k x 1x wall) | CPU / (k x 1x CPU) |")
        md.append("|---|---|---|---|---|---|")
        base = lin[0]  # type: ignore[index]
        worst = 0.0
        for row in lin:  # type: ignore[attr-defined]
            k = row["k"]
            rw = row["wall"] / (k * base["wall"])
            rc = row["cpu"] / (k * base["cpu"])
            if k > 1:
                worst = max(worst, abs(rw - 1))
            md.append(f"| {k}x | {row['files']:,} | {row['wall']:.2f} s | {row['cpu']:.2f} s | {rw:.3f} | {rc:.3f} |")
        md.append("")
        targets.append(("stdlib", "linear growth within 15 % (wall, 2x and 4x)", f"worst deviation {worst * 100:.1f} %", _met(worst, 0.15)))
    lsp = report.get("lsp")
    if lsp:
        md.append("## Language server: one-line edit in a 3,000-line file\n")
        md.append(
            f"A generated file of {lsp['lines']:,} lines with {lsp['socket_functions']} socket functions "
            f"({lsp['findings']} findings); one line inside one socket function changes between runs. "
            "Timed in one process after a warm-up, medians.\n"
        )
        md.append("| what | time | vs full libcst parse |")
        md.append("|---|---|---|")
        p = lsp["libcst_parse"]
        md.append(f"| `libcst.parse_module` of the whole file | {p * 1000:.1f} ms | 1.000x |")
        md.append(f"| `check_source` of the edited file (full re-analysis) | {lsp['check_source_after_edit'] * 1000:.1f} ms | {lsp['check_source_after_edit'] / p:.3f}x |")
        best = lsp["check_source_after_edit"]
        if lsp["incremental"] is not None:
            md.append(f"| incremental re-analysis (language server) | {lsp['incremental'] * 1000:.1f} ms | {lsp['incremental'] / p:.3f}x |")
            best = lsp["incremental"]
        else:
            md.append("| incremental re-analysis (language server) | not available: the language server exposes no incremental entry point; it re-runs `check_source` | |")
        md.append("")
        targets.append(("generated 3,000 lines", "LSP re-analysis after a one-line edit ≤ 0.2x a full libcst parse", _fmt_ratio(best / p), _met(best / p, 0.2)))
    pf = report.get("prefilter")
    if pf:
        md.append("## Prefilter check over the standard library\n")
        md.append(
            f"{pf['rejected']:,} of {pf['files']:,} files are rejected by the text prefilter (they are only "
            "parsed with `ast`, for syntax errors). Each of them was "
            f"analysed in full (`check_source(..., prefilter=False)`, {pf['seconds']:.0f} s): "
            f"{len(pf['dropped'])} findings would have been lost."
            + ("" if not pf["dropped"] else " Lost: " + ", ".join(pf["dropped"][:20]))
            + "\n"
        )
    md.append("## Targets (issue 13)\n")
    md.append("| corpus | target | measured | status |")
    md.append("|---|---|---|---|")
    for t in targets:
        md.append(f"| {t[0]} | {t[1]} | {t[2]} | {t[3]} |")
    md.append("")
    return "\n".join(md)


def _corpus_entry(name: str, description: str, path: Path, results: list[Result], tools: list[Tool]) -> dict[str, object]:
    files, lines = corpus_lines(path)
    return {
        "name": name,
        "description": description,
        "files": files,
        "lines": lines,
        "results": [
            {
                "name": r.tool.name,
                "label": r.tool.label,
                "runs": len(r.samples),
                "wall": r.median("wall"),
                "spread": r.spread(),
                "cpu": r.median("cpu"),
                "max_rss": r.median("max_rss_mib"),
                "tree_rss": r.median("tree_rss_mib"),
                "lines": r.samples[-1].output_lines,
                "samples": [s.__dict__ for s in r.samples],
            }
            for r in results
        ],
        "unavailable": {t.name: t.available for t in tools if t.available},
    }


def write_report(report: dict[str, object], args: argparse.Namespace, started: float, final: bool) -> None:
    """Write after every stage, so an interrupted run still leaves its figures."""
    report["machine"]["load average at end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())  # type: ignore[index]
    report["duration_min"] = (time.time() - started) / 60
    report["complete"] = final
    (CACHE / "last-report.json").write_text(json.dumps(report, indent=2, default=str))
    text = render(report, args)
    if not final:
        text = text.replace("# Performance\n", "# Performance\n\n**Partial results: the benchmark run was still in progress.**\n", 1)
    if args.no_write:
        if final:
            print(text)
        return
    kept = ""
    if DOC.exists():
        old = DOC.read_text(encoding="utf-8")
        if KEEP_MARKER in old:
            kept = old[old.index(KEEP_MARKER) + len(KEEP_MARKER) :]
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text(text + "\n" + KEEP_MARKER + (kept or "\n"), encoding="utf-8")
    print(f"wrote {DOC.relative_to(ROOT)}", flush=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--runs", type=int, default=5, help="runs per tool and corpus (default 5)")
    ap.add_argument("--slow-runs", type=int, default=None, help="runs for flake8, flake8+plugin and pylint (default: --runs)")
    ap.add_argument("--linearity-runs", type=int, default=None, help="runs per copy count in the linearity check (default: --runs)")
    ap.add_argument("--corpora", default="stdlib,pypi", help="comma-separated: stdlib,pypi")
    ap.add_argument("--only", default="", help="comma-separated tool names (socklint-cold, socklint-warm, flake8, flake8-socklint, ruff, pylint)")
    ap.add_argument("--quick", action="store_true", help="1 run, no pylint, no linearity: to try the script")
    ap.add_argument("--no-linearity", action="store_true")
    ap.add_argument("--no-lsp", action="store_true")
    ap.add_argument("--verify-prefilter", action="store_true", help="also prove on the stdlib that the prefilter drops no finding")
    ap.add_argument("--no-write", action="store_true", help="print the report instead of writing docs/performance.md")
    args = ap.parse_args()
    if args.quick:
        args.runs = 1
        args.no_linearity = True
    only = set(filter(None, args.only.split(","))) or None
    if args.quick and only is None:
        only = {"socklint-cold", "socklint-warm", "flake8", "flake8-socklint", "ruff"}
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGINT, _terminate)
    started = time.time()
    workdir = CACHE / "work"
    workdir.mkdir(parents=True, exist_ok=True)
    tools = make_tools(workdir, only)
    report: dict[str, object] = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine_info(),
        "versions": tool_versions(),
        "corpora": [],
    }
    wanted = args.corpora.split(",")
    corpora: list[dict[str, object]] = report["corpora"]  # type: ignore[assignment]

    # Stages, most important first: the standard library carries every target.
    if "stdlib" in wanted:
        stdlib = build_stdlib_corpus()
        print(f"== stdlib: {corpus_lines(stdlib)}", flush=True)
        results = run_tools(tools, stdlib, args.runs, workdir, args.slow_runs)
        corpora.append(_corpus_entry("stdlib", f"CPython {STDLIB_VERSION} standard library, every .py, site-packages excluded", stdlib, results, tools))
        write_report(report, args, started, final=False)
    if not args.no_lsp:
        print("== language server timing", flush=True)
        report["lsp"] = lsp_timing(max(args.runs, 5))
        print(f"  {report['lsp']}", flush=True)
        write_report(report, args, started, final=False)
    if not args.no_linearity and "stdlib" in wanted:
        base = CORPORA / "stdlib"
        (cold,) = make_tools(workdir, {"socklint-cold"})
        copies = {k: base if k == 1 else build_copies(base, k) for k in (1, 2, 4)}
        samples: dict[int, list[Sample]] = {k: [] for k in copies}
        print("== linearity 1x/2x/4x", flush=True)
        # Interleaved like the tools: load drift must not favour one copy count.
        for i in range(args.linearity_runs or args.runs):
            for k, corpus in copies.items():
                s = measure(cold.command(corpus), workdir)
                samples[k].append(s)
                print(f"  run {i + 1} {k}x wall {s.wall:7.2f}s  cpu {s.cpu:7.2f}s", flush=True)
        report["linearity"] = [
            {
                "k": k,
                "files": corpus_lines(copies[k])[0],
                "wall": statistics.median(s.wall for s in samples[k]),
                "cpu": statistics.median(s.cpu for s in samples[k]),
            }
            for k in copies
        ]
        write_report(report, args, started, final=False)
    if args.verify_prefilter:
        print("== prefilter verification", flush=True)
        report["prefilter"] = verify_prefilter(build_stdlib_corpus())
        print(f"  {report['prefilter']}", flush=True)
        write_report(report, args, started, final=False)
    if "pypi" in wanted:
        pypi = build_pypi_corpus()
        if pypi is not None:
            print(f"== pypi: {corpus_lines(pypi)}", flush=True)
            results = run_tools(tools, pypi, args.runs, workdir, args.slow_runs)
            corpora.append(_corpus_entry("pypi", "socket-heavy PyPI packages: " + ", ".join(PYPI_PACKAGES), pypi, results, tools))
    write_report(report, args, started, final=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
