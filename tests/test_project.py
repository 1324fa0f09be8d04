"""The project index through the real programs: a package whose sockets are made in one module
and used in another (fixtures/project/netpkg)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from socklint.analysis.project import module_name, resolve_relative
from socklint.project import ProjectViews, converge, project_file

ROOT = Path(__file__).resolve().parent.parent
PROJECT = ROOT / "fixtures" / "project"
PKG = PROJECT / "netpkg"
BIN = Path(sys.executable).parent


def _line(fragment: str, name: str = "client.py") -> int:
    """The line of the package's module that holds ``fragment`` (first match)."""
    for i, text in enumerate((PKG / name).read_text().splitlines(), 1):
        if fragment in text:
            return i
    raise AssertionError(fragment)


# fetch(): `open_channel()` of transport.py, re-exported by __init__.py; retrying(): a
# subclass of a socket subclass.
FETCH_LEAK = _line('return None  # expect: SKL101')
RETRY_LEAK = _line("raise ConnectionError(banner)")


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    return env


def run_json(*args: str, cwd: Path = PROJECT) -> list[tuple[str, int, str]]:
    proc = subprocess.run(
        [sys.executable, "-m", "socklint", "check", "--format", "json", *args],
        capture_output=True, text=True, cwd=cwd, env=_env(), check=False,
    )
    assert proc.returncode in (0, 1), proc.stderr
    assert "Traceback" not in proc.stderr
    return [(os.path.normpath(d["path"]), d["line"], d["code"]) for d in json.loads(proc.stdout)]


def test_module_names_follow_packages() -> None:
    assert module_name(str(PKG / "client.py")) == ("netpkg.client", False)
    assert module_name(str(PKG / "__init__.py")) == ("netpkg", True)
    assert module_name(str(ROOT / "benchmarks" / "golden.py")) == ("golden", False)


@pytest.mark.parametrize(
    ("module", "is_package", "level", "target", "expected"),
    [
        ("netpkg.client", False, 1, "transport", "netpkg.transport"),
        ("netpkg.client", False, 1, None, "netpkg"),
        ("netpkg", True, 1, "transport", "netpkg.transport"),
        ("a.b.c", False, 2, "d", "a.d"),
        ("a", False, 2, "d", None),
    ],
)
def test_relative_imports(module: str, is_package: bool, level: int, target: str | None, expected: str | None) -> None:
    assert resolve_relative(module, is_package, level, target) == expected


def test_a_file_given_alone_is_analysed_with_its_package() -> None:
    """pre-commit passes only the staged file: its imports still resolve."""
    alone = run_json("--no-cache", "netpkg/client.py")
    assert ("netpkg/client.py", FETCH_LEAK, "SKL101") in alone
    assert ("netpkg/client.py", RETRY_LEAK, "SKL101") in alone
    isolated = run_json("--no-cache", "--no-project", "netpkg/client.py")
    assert ("netpkg/client.py", FETCH_LEAK, "SKL101") not in isolated
    # `--no-project` on the whole package: every file alone too, not indexed together.
    assert ("netpkg/client.py", FETCH_LEAK, "SKL101") not in run_json("--no-cache", "--no-project", "netpkg")
    assert not any(path != "netpkg/client.py" for path, _, _ in alone)


def test_output_does_not_depend_on_order_jobs_or_cache(tmp_path: Path) -> None:
    files = sorted(str(p.relative_to(PROJECT)) for p in PKG.glob("*.py"))
    base = run_json("--no-cache", "-j", "1", *files)
    assert base
    assert run_json("--no-cache", "-j", "2", *reversed(files)) == base
    cache = str(tmp_path / "cache")
    assert run_json("--cache-dir", cache, *files) == base
    assert run_json("--cache-dir", cache, *files) == base  # warm


def _copy(tmp_path: Path) -> Path:
    shutil.copytree(PKG, tmp_path / "netpkg")
    return tmp_path


def test_an_edited_helper_changes_its_importers_findings_through_the_cache(tmp_path: Path) -> None:
    where = _copy(tmp_path)
    cache = str(tmp_path / "cache")
    before = run_json("--cache-dir", cache, "netpkg", cwd=where)
    assert ("netpkg/client.py", FETCH_LEAK, "SKL101") in before
    transport = where / "netpkg" / "transport.py"
    # `open_channel` stops returning a socket: client.py has nothing to leak there any more.
    transport.write_text(transport.read_text().replace("return socket.create_connection((host, port), timeout=5)", "return None"))
    after = run_json("--cache-dir", cache, "netpkg", cwd=where)
    assert ("netpkg/client.py", FETCH_LEAK, "SKL101") not in after
    assert ("netpkg/client.py", RETRY_LEAK, "SKL101") in after


def test_a_module_that_does_not_parse_stops_nothing_else(tmp_path: Path) -> None:
    where = _copy(tmp_path)
    (where / "netpkg" / "broken.py").write_text("def f(:\n    pass\n")
    found = run_json("--no-cache", "netpkg", cwd=where)
    assert ("netpkg/broken.py", 1, "SKL001") in found
    assert ("netpkg/client.py", FETCH_LEAK, "SKL101") in found


def test_import_cycles_converge(tmp_path: Path) -> None:
    pkg = tmp_path / "cyc"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text(
        "import socket\nfrom .b import relay\n\n\ndef make(host):\n    return socket.create_connection((host, 1))\n\n\n"
        "def again(host):\n    return relay(host)\n"
    )
    (pkg / "b.py").write_text(
        "from .a import make, again\n\n\ndef relay(host):\n    return make(host)\n\n\n"
        "def use(host):\n    s = again(host)\n    if not s.recv(1):\n        return None  # leaks\n    s.close()\n"
    )
    files = [project_file(str(p), p.read_bytes()) for p in sorted(pkg.glob("*.py"))]
    from socklint.api import check_module

    def work(batch: list) -> list:
        out = []
        for f, v in batch:
            diags, summary = check_module(f.path, f.data, view=v)
            out.append((summary, diags))
        return out

    c = converge(files, work)
    assert c.rounds <= 5
    found = {(Path(p).name, d.line, d.code) for p, ds in c.results.items() for d in ds}
    # again() -> relay() (b.py) -> make() (a.py): a chain across the cycle, resolved by rounds.
    assert ("b.py", 11, "SKL101") in found
    assert run_json("--no-cache", "cyc", cwd=tmp_path) == run_json("--no-cache", "-j", "1", "cyc/b.py", "cyc/a.py", "cyc/__init__.py", cwd=tmp_path)


def test_flake8_plugin_reports_what_the_cli_reports_on_the_project() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "flake8", "--select", "SKL", "--format=%(path)s:%(row)d:%(code)s", "netpkg"],
        capture_output=True, text=True, cwd=PROJECT, env=_env(), check=False,
    )
    assert proc.returncode == 1, proc.stderr
    flake8 = sorted((os.path.normpath(p), int(r), c) for p, r, c in (line.rsplit(":", 2) for line in proc.stdout.splitlines()))
    assert flake8 == sorted(run_json("--no-cache", "netpkg"))
    assert ("netpkg/client.py", FETCH_LEAK, "SKL101") in flake8


def test_editor_views_see_unsaved_buffers(tmp_path: Path) -> None:
    where = _copy(tmp_path)
    views = ProjectViews()
    from socklint.api import iter_python_files
    from socklint.config import Settings

    settings = Settings()
    client = str(where / "netpkg" / "client.py")
    view = views.view_for(client, settings, lambda w: iter_python_files(w, settings))
    assert view is not None and view.functions["open_channel"].source
    transport = where / "netpkg" / "transport.py"
    edited = transport.read_bytes().replace(b"return socket.create_connection((host, port), timeout=5)", b"return None")
    view = views.view_for(client, settings, lambda w: iter_python_files(w, settings), {str(transport): edited})
    assert view is not None and not view.functions["open_channel"].source


# listener.py's sockets are closed by shutdown.py, which imports it (not the reverse).
LISTENER = "netpkg/listener.py"
SRV_STORE = _line("self.srv_sck = socket.socket(", "listener.py")
CTL_STORE = _line("self.ctl_sck = socket.socket(", "listener.py")
BEACON_STORE = _line("self.beacon_sck = socket.socket(", "listener.py")


def _skl112(found: list[tuple[str, int, str]]) -> list[int]:
    return sorted(line for path, line, code in found if path == LISTENER and code == "SKL112")


def test_an_attribute_closed_from_another_module_of_the_package_is_no_skl112() -> None:
    """`server.srv_sck.close()` in a module that imports the class's module (r0c's shape), and
    `self.ctl_sck.close()` in a subclass there: the package is asked, whichever files are
    checked, by the CLI and by the flake8 plugin alike."""
    assert _skl112(run_json("--no-cache", "--no-project", LISTENER)) == [SRV_STORE, CTL_STORE, BEACON_STORE]
    alone = run_json("--no-cache", LISTENER)
    assert _skl112(alone) == [BEACON_STORE]
    assert _skl112(run_json("--no-cache", "netpkg")) == [BEACON_STORE]
    proc = subprocess.run(
        [sys.executable, "-m", "flake8", "--select", "SKL", "--format=%(path)s:%(row)d:%(code)s", LISTENER],
        capture_output=True, text=True, cwd=PROJECT, env=_env(), check=False,
    )
    flake8 = sorted((os.path.normpath(p), int(r), c) for p, r, c in (line.rsplit(":", 2) for line in proc.stdout.splitlines()))
    assert flake8 == sorted(alone)


def test_an_edit_to_the_closing_module_reaches_a_cached_one_file_run(tmp_path: Path) -> None:
    """The whole-run cache entry of `socklint check listener.py` depends on shutdown.py too."""
    where = _copy(tmp_path)
    cache = str(tmp_path / "cache")
    assert _skl112(run_json("--cache-dir", cache, LISTENER, cwd=where)) == [BEACON_STORE]
    assert _skl112(run_json("--cache-dir", cache, LISTENER, cwd=where)) == [BEACON_STORE]  # warm
    shutdown = where / "netpkg" / "shutdown.py"
    shutdown.write_text(shutdown.read_text().replace("server.srv_sck.close()", "server.stop()"))
    assert _skl112(run_json("--cache-dir", cache, LISTENER, cwd=where)) == [SRV_STORE, BEACON_STORE]


def test_editor_views_ask_unsaved_buffers_about_attributes(tmp_path: Path) -> None:
    where = _copy(tmp_path)
    views = ProjectViews()
    from socklint.api import iter_python_files
    from socklint.config import Settings

    settings = Settings()
    listener = str(where / LISTENER)
    view = views.view_for(listener, settings, lambda w: iter_python_files(w, settings))
    assert view is not None and view.released_elsewhere == {"Listener.srv_sck", "Control.ctl_sck"}
    shutdown = where / "netpkg" / "shutdown.py"
    edited = shutdown.read_bytes().replace(b"self.ctl_sck.close()", b"pass")
    view = views.view_for(listener, settings, lambda w: iter_python_files(w, settings), {str(shutdown): edited})
    assert view is not None and view.released_elsewhere == {"Listener.srv_sck"}


def test_super_init_of_a_base_in_another_module_stores_its_socket() -> None:
    """hosts.py's classes derive from listener.Endpoint, whose `__init__` stores `self.sock`:
    what fails after `super().__init__()` is SKL111, alone or with the package, and by flake8."""
    bind = _line('self.sock.bind(("", port))  # expect: SKL111', "hosts.py")
    hosts = "netpkg/hosts.py"
    alone = run_json("--no-cache", hosts)
    assert ("netpkg/hosts.py", bind, "SKL111") in alone
    assert sorted(alone) == sorted(f for f in run_json("--no-cache", "netpkg") if f[0] == hosts)
    assert not run_json("--no-cache", "--no-project", hosts)
    proc = subprocess.run(
        [sys.executable, "-m", "flake8", "--select", "SKL", "--format=%(path)s:%(row)d:%(code)s", hosts],
        capture_output=True, text=True, cwd=PROJECT, env=_env(), check=False,
    )
    assert sorted((os.path.normpath(p), int(r), c) for p, r, c in (line.rsplit(":", 2) for line in proc.stdout.splitlines())) == sorted(alone)
