"""The process pool and the result cache change speed, never results."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from socklint.api import check_file
from socklint.cache import CACHE_FORMAT, Cache
from socklint.config import Settings
from socklint.diagnostics import Diagnostic, Severity, TraceStep
from socklint.runner import check_paths, entry_key

STDLIB = Path(sysconfig.get_paths()["stdlib"])
# Real socket code: once the engine reports on it, these tests compare real findings.
STDLIB_SAMPLES = ["socketserver.py", "ftplib.py", "smtplib.py", "imaplib.py", "telnetlib.py", "asyncio/base_events.py"]

LEAK = b"""import socket


def connect(host, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.connect((host, port))
    s.sendall(b"hello")
    return s.recv(10)
"""
# Passes the prefilter, then fails to decode: an SKL002 from check_source itself, so these
# tests see diagnostics whatever state the engine is in.
UNDECODABLE = b"import socket\nx = '\xff\xfe'\n"
NO_SOCKETS = b"def add(a, b):\n    return a + b\n"


@pytest.fixture()
def corpus(tmp_path: Path) -> list[str]:
    root = tmp_path / "src"
    root.mkdir()
    (root / "leak.py").write_bytes(LEAK)
    (root / "bad_encoding.py").write_bytes(UNDECODABLE)
    (root / "plain.py").write_bytes(NO_SOCKETS)
    (root / "syntax_error.py").write_bytes(b"import socket\ndef f(:\n")
    for name in STDLIB_SAMPLES:
        src = STDLIB / name
        if src.exists():
            shutil.copyfile(src, root / name.replace("/", "_"))
    return sorted(str(p) for p in root.iterdir())


def _serial(paths: list[str], settings: Settings) -> list[Diagnostic]:
    return [d for p in paths for d in check_file(p, settings)]


def test_pool_and_cache_equal_plain_loop(corpus: list[str], tmp_path: Path) -> None:
    settings = Settings()
    expected = _serial(corpus, settings)
    assert any(d.code == "SKL002" for d in expected)
    assert check_paths(corpus, settings, jobs=1) == expected
    assert check_paths(corpus, settings, jobs=2) == expected
    cache = Cache(tmp_path / "cache", settings)
    assert check_paths(corpus, settings, jobs=2, cache=cache) == expected
    assert cache.hits == 0 and cache.stores > 0


def test_cache_hit_returns_identical_diagnostics(corpus: list[str], tmp_path: Path) -> None:
    settings = Settings()
    first = Cache(tmp_path / "cache", settings)
    cold = check_paths(corpus, settings, jobs=1, cache=first)
    # One entry per file and per view it was analysed with (the project index's rounds).
    assert first.hits == 0 and first.misses == first.stores >= len(corpus)
    assert first.run_stores == 1
    second = Cache(tmp_path / "cache", settings)
    warm = check_paths(corpus, settings, jobs=1, cache=second)
    assert warm == cold
    # Nothing changed: the whole run's result, without a per-file entry or a view.
    assert (second.run_hits, second.hits, second.misses, second.stores) == (1, 0, 0, 0)
    # Without the run's entry, every file's final entry is there.
    for entry in (tmp_path / "cache").glob("*/*.json"):
        if "results" in json.loads(entry.read_bytes()):
            entry.unlink()
    third = Cache(tmp_path / "cache", settings)
    assert check_paths(corpus, settings, jobs=1, cache=third) == cold
    assert (third.hits, third.misses, third.stores) == (first.stores, 0, 0)


def test_a_whole_run_is_replayed_only_while_the_modules_it_read_are_unchanged(tmp_path: Path) -> None:
    """The whole run's entry is keyed by the files checked and which modules the package has;
    a module the index read (not checked) is compared by content when the entry is used."""
    pkg = tmp_path / "netpkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    helper = pkg / "transport.py"
    helper.write_text("import socket\n\n\ndef open_channel(addr):\n    return socket.create_connection(addr)\n")
    client = pkg / "client.py"
    client.write_text(
        "from netpkg.transport import open_channel\n\n\n"
        "def probe(addr):\n    s = open_channel(addr)\n    if s.recv(1) != b'+':\n        return False\n    s.close()\n    return True\n"
    )
    project = [str(pkg / "__init__.py"), str(helper), str(client)]
    settings = Settings()

    def run() -> tuple[list[str], Cache]:
        cache = Cache(tmp_path / "cache", settings)
        return [d.code for d in check_paths([str(client)], settings, jobs=1, cache=cache, project=project)], cache

    cold = run()[0]
    assert "SKL101" in cold
    codes, cache = run()
    assert codes == cold and cache.run_hits == 1
    # The helper no longer returns a socket: the run's entry must not be used.
    helper.write_text("def open_channel(addr):\n    return None\n")
    codes, cache = run()
    assert codes == [] and cache.run_hits == 0
    # A module added to the package is another key.
    (pkg / "extra.py").write_text("")
    project.append(str(pkg / "extra.py"))
    codes, cache = run()
    assert codes == [] and cache.run_hits == 0


def test_cache_entries_are_really_replayed(corpus: list[str], tmp_path: Path) -> None:
    """A planted entry is returned as is: the warm path reads the cache, it does not recompute."""
    settings = Settings()
    path = next(p for p in corpus if p.endswith("leak.py"))
    cache = Cache(tmp_path / "cache", settings)
    key = entry_key(cache, path, Path(path).read_bytes())
    planted = Diagnostic(path, 3, 1, 3, 5, "SKL101", "planted", Severity.ERROR, (TraceStep(2, 1, "here"),))
    cache.put(key, [planted])
    assert check_paths([path], settings, jobs=1, cache=Cache(tmp_path / "cache", settings)) == [planted]


def test_changed_settings_or_content_miss(corpus: list[str], tmp_path: Path) -> None:
    settings = Settings()
    check_paths(corpus, settings, jobs=1, cache=Cache(tmp_path / "cache", settings))
    other = Settings(ignore=("SKL2",))
    cache = Cache(tmp_path / "cache", other)
    check_paths(corpus, other, jobs=1, cache=cache)
    assert cache.hits == 0

    leak = next(p for p in corpus if p.endswith("leak.py"))
    Path(leak).write_bytes(LEAK.replace(b"hello", b"hullo"))
    cache = Cache(tmp_path / "cache", settings)
    result = check_paths(corpus, settings, jobs=1, cache=cache)
    # The edited file misses; so would a module importing it, if its summary had changed.
    assert cache.misses == 1 and cache.hits >= len(corpus) - 1
    assert result == _serial(corpus, settings)


def test_same_content_at_another_path_misses(tmp_path: Path) -> None:
    """Diagnostics carry their path and per-file-ignores match on it: the path is in the key."""
    settings = Settings()
    a, b = tmp_path / "a.py", tmp_path / "b.py"
    a.write_bytes(UNDECODABLE)
    b.write_bytes(UNDECODABLE)
    check_paths([str(a)], settings, jobs=1, cache=Cache(tmp_path / "cache", settings))
    cache = Cache(tmp_path / "cache", settings)
    (d,) = check_paths([str(b)], settings, jobs=1, cache=cache)
    assert d.path == str(b) and cache.hits == 0


@pytest.mark.parametrize(
    "garbage",
    [b"", b"{", b"\xff\xfe\x00", b"[]", b'{"format": 1, "key": "x", "diagnostics": []}', b'{"format": 1}'],
)
def test_corrupt_entry_is_ignored_and_repaired(corpus: list[str], tmp_path: Path, garbage: bytes) -> None:
    settings = Settings()
    path = next(p for p in corpus if p.endswith("bad_encoding.py"))
    expected = check_file(path, settings)
    cache = Cache(tmp_path / "cache", settings)
    entry = cache.entry_path(entry_key(cache, path, Path(path).read_bytes()))
    entry.parent.mkdir(parents=True)
    entry.write_bytes(garbage)
    assert check_paths([path], settings, jobs=1, cache=cache) == expected
    assert cache.hits == 0 and cache.stores == 1
    assert json.loads(entry.read_bytes())["diagnostics"] == [d.to_json() for d in expected]


def test_unreadable_entry_and_cache_dir_are_ignored(corpus: list[str], tmp_path: Path) -> None:
    settings = Settings()
    blocker = tmp_path / "not-a-dir"
    blocker.write_bytes(b"a file where the cache folder should be")
    cache = Cache(blocker, settings)
    assert check_paths(corpus, settings, jobs=1, cache=cache) == _serial(corpus, settings)
    assert cache.stores == 0


def test_internal_errors_are_not_cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An SKL900 result must be recomputed by the next (possibly fixed) socklint. No input is
    known to crash the engine, so the crash is simulated at the runner's call site."""
    from socklint import runner

    settings = Settings()
    cache = Cache(tmp_path / "cache", settings)
    path = str(tmp_path / "x.py")
    Path(path).write_bytes(LEAK)
    crash = Diagnostic(path, 1, 1, 1, 1, "SKL900", "internal error", Severity.ERROR)
    monkeypatch.setattr(runner, "_analyse", lambda item, s: ([crash], None))
    assert check_paths([path], settings, jobs=1, cache=cache) == [crash]
    assert cache.stores == 0


def _cli(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "socklint", "check", "--no-source", *args],
        cwd=cwd,
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_cli_jobs_and_cache_give_byte_identical_output(corpus: list[str], tmp_path: Path) -> None:
    src = str(Path(corpus[0]).parent)
    one = _cli(["--jobs", "1", "--no-cache", src], tmp_path)
    assert one.returncode in (0, 1), one.stderr
    assert "SKL002" in one.stdout
    assert not (tmp_path / ".socklint_cache").exists()
    two = _cli(["--jobs", "2", "--no-cache", src], tmp_path)
    cold = _cli(["--jobs", "2", src], tmp_path)
    assert (tmp_path / ".socklint_cache" / "CACHEDIR.TAG").is_file()
    warm = _cli(["--jobs", "2", src], tmp_path)
    again = _cli(["--jobs", "2", "--format", "json", src], tmp_path)
    again2 = _cli(["--jobs", "1", "--format", "json", "--no-cache", src], tmp_path)
    assert one.stdout == two.stdout == cold.stdout == warm.stdout
    assert one.returncode == two.returncode == cold.returncode == warm.returncode
    assert again.stdout == again2.stdout


def test_concurrent_runs_share_the_cache_safely(corpus: list[str], tmp_path: Path) -> None:
    src = str(Path(corpus[0]).parent)
    expected = _cli(["--jobs", "1", "--no-cache", src], tmp_path).stdout
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "socklint", "check", "--no-source", "--jobs", "1", src],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    outs = [p.communicate(timeout=300)[0] for p in procs]
    assert outs == [expected] * 4
    entries = list((tmp_path / ".socklint_cache").glob("*/*.json"))
    assert entries and all(json.loads(e.read_bytes())["format"] == CACHE_FORMAT for e in entries)
    # No temporary files left behind by the racing writers.
    assert not [p for p in (tmp_path / ".socklint_cache").rglob("*.tmp")]
    assert _cli([src], tmp_path).stdout == expected


def test_jobs_must_be_positive(tmp_path: Path) -> None:
    r = _cli(["--jobs", "0", str(tmp_path)], tmp_path)
    assert r.returncode == 2 and "positive integer" in r.stderr


def test_cache_key_follows_settings_cache_key(tmp_path: Path) -> None:
    a = Cache(tmp_path, Settings())
    b = Cache(tmp_path, Settings(socket_factories=("mylib.make_socket",)))
    assert a.key("x.py", b"data") != b.key("x.py", b"data")
    assert a.key("x.py", b"data") == Cache(tmp_path, Settings()).key("x.py", b"data")
    assert a.key("x.py", b"data") != a.key("x.py", b"data2")
    assert os.path.basename(a.entry_path(a.key("x.py", b"data"))).endswith(".json")
