"""The result cache's size bound and ``socklint clean``, through the real CLI.

The bound evicts the least recently used entries: written, or replayed by a hit, longest ago.
``clean`` deletes what socklint wrote and nothing else.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from frontend_sources import NEVER_CLOSED

CACHE = ".socklint_cache"


def _check(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "socklint", "check", "--jobs", "1", *args],
        cwd=cwd, capture_output=True, text=True, timeout=300, check=False,
    )
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    return done


def _clean(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "socklint", "clean", *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def _batch(root: Path, name: str, files: int) -> Path:
    d = root / name
    d.mkdir()
    for i in range(files):
        (d / f"m{i:02}.py").write_text(NEVER_CLOSED.replace("probe", f"probe_{name}_{i}"), encoding="utf-8")
    return d


def _entries(cache: Path, runs: bool = False) -> dict[Path, float]:
    """The per-file entries (``runs``: the whole runs' entries instead)."""
    return {p: p.stat().st_mtime for p in cache.glob("??/*.json") if (b'"results":' in p.read_bytes()) == runs}


def _usage(cache: Path) -> int:
    return sum(p.lstat().st_blocks * 512 for p in cache.rglob("*"))


def _age(paths: object, seconds: float) -> None:
    then = time.time() - seconds
    for p in paths:  # type: ignore[attr-defined]
        os.utime(p, (then, then))


def test_the_bound_evicts_the_least_recently_used_entries(tmp_path: Path) -> None:
    cache = tmp_path / CACHE
    _batch(tmp_path, "a", 20)
    _check(tmp_path, "a")
    a = set(_entries(cache))
    (run_a,) = _entries(cache, runs=True)
    _batch(tmp_path, "b", 20)
    _check(tmp_path, "b")
    b = set(_entries(cache)) - a
    assert len(a) == len(b) == 20
    _age(a | {run_a}, 2 * 3600)  # a: used two hours ago
    _age(set(_entries(cache, runs=True)) - {run_a}, 3 * 3600)
    _age(b, 3 * 3600)  # b: three hours ago, the least recently used
    _check(tmp_path, "a")  # a hit on a's run: replayed, so used now
    assert _entries(cache, runs=True)[run_a] > time.time() - 600

    # A third batch with a bound that cannot hold all three: b goes, first and only.
    per_batch = _usage(cache) // 2
    bound = int(per_batch * 2.75)  # over it with three batches; evicting b alone gets under 80 %
    _batch(tmp_path, "c", 20)
    _check(tmp_path, "--cache-max-size", str(bound), "c")
    left = set(_entries(cache))
    c = left - a - b
    assert len(c) == 20 and a <= left, "the recently used entries must stay"
    assert len(b & left) < 20, "nothing was evicted"
    assert _usage(cache) <= bound
    # The estimate the next runs start from is the measured usage, not a guess.
    assert (cache / "usage.json").is_file()

    # Without a bound (0) nothing is evicted.
    before = set(_entries(cache))
    _batch(tmp_path, "d", 5)
    _check(tmp_path, "--cache-max-size", "0", "d")
    assert before < set(_entries(cache))


def test_the_estimate_lets_a_shrunk_bound_prune_on_the_next_store(tmp_path: Path) -> None:
    cache = tmp_path / CACHE
    _batch(tmp_path, "a", 30)
    _check(tmp_path, "a")
    full = _usage(cache)
    _batch(tmp_path, "b", 1)
    _check(tmp_path, "--cache-max-size", str(full // 2), "b")
    assert _usage(cache) <= full // 2


def test_clean_removes_only_what_socklint_wrote(tmp_path: Path) -> None:
    cache = tmp_path / CACHE
    _batch(tmp_path, "a", 5)
    _check(tmp_path, "a")
    assert (cache / "CACHEDIR.TAG").is_file() and _entries(cache)
    # Files socklint did not write stay, with the folders that hold them.
    (cache / "notes.txt").write_text("mine\n")
    sub = next(cache.glob("??"))
    (sub / "also-mine").write_text("mine\n")
    done = _clean(tmp_path)
    assert done.returncode == 0, done.stderr
    assert "removed" in done.stdout and "kept 2 files" in done.stderr
    assert sorted(str(p.relative_to(cache)) for p in cache.rglob("*")) == sorted(
        ["CACHEDIR.TAG", "notes.txt", sub.name, f"{sub.name}/also-mine"]
    )
    (cache / "notes.txt").unlink()
    (sub / "also-mine").unlink()
    done = _clean(tmp_path)
    assert done.returncode == 0 and not cache.exists()
    assert (tmp_path / "a").is_dir()  # the checked code is not touched
    done = _clean(tmp_path)
    assert done.returncode == 0 and "no cache" in done.stdout


def test_clean_refuses_a_folder_socklint_did_not_create(tmp_path: Path) -> None:
    other = tmp_path / "build"
    other.mkdir()
    (other / "precious.txt").write_text("keep\n")
    done = _clean(tmp_path, "--cache-dir", "build")
    assert done.returncode == 2 and "not a socklint cache" in done.stderr
    assert (other / "precious.txt").read_text() == "keep\n"
    # A symlink to a real cache is not followed either.
    _batch(tmp_path, "a", 2)
    _check(tmp_path, "a")
    (tmp_path / "link").symlink_to(CACHE, target_is_directory=True)
    done = _clean(tmp_path, "--cache-dir", "link")
    assert done.returncode == 2
    assert (tmp_path / CACHE / "CACHEDIR.TAG").is_file()
