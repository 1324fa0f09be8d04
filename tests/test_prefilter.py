"""The text prefilter only saves time: it never drops a finding.

``check_source(..., prefilter=False)`` runs the full analysis on every file; its findings must
equal the filtered run's. Tool diagnostics (SKL001 syntax error, SKL002 undecodable, ...) are
compared separately: by design a file the prefilter rejects is never parsed, so a syntax error
in a file without socket code is not reported, and that is not a dropped finding.
"""

from __future__ import annotations

import os
import sysconfig
import time
from pathlib import Path

import pytest
from fixture_markers import parse

from socklint.analysis import model, scan
from socklint.api import check_source
from socklint.codes import TOOL_CODES
from socklint.config import Settings
from socklint.diagnostics import Diagnostic
from socklint.source import may_contain_findings

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = sorted((ROOT / "fixtures").rglob("*.py"))
STDLIB = Path(sysconfig.get_paths()["stdlib"])


def _findings(diags: list[Diagnostic]) -> list[Diagnostic]:
    return [d for d in diags if d.code not in TOOL_CODES]


def _dropped(path: str, data: bytes, settings: Settings) -> list[Diagnostic]:
    """Findings the full analysis reports that the prefiltered one does not."""
    if may_contain_findings(data, settings.socket_factories):
        return []  # the prefilter let it through: both runs take the same path
    return _findings(check_source(path, data, settings, prefilter=False))


@pytest.mark.skipif(not FIXTURES, reason="no fixtures yet")
def test_prefilter_drops_nothing_on_the_fixtures() -> None:
    for path in FIXTURES:
        data = path.read_bytes()
        settings = parse(path).settings
        full = _findings(check_source(str(path), data, settings, prefilter=False))
        assert _findings(check_source(str(path), data, settings)) == full, path


def _uses(qualified: str) -> bytes:
    """A small program that creates a socket with ``qualified`` and leaks it on an error path."""
    mod, _, attr = qualified.rpartition(".")
    return (
        f"from {mod} import {attr} as make\n\n\n"
        "def fetch(host):\n"
        "    s = make()\n"
        "    s.connect((host, 80))\n"
        "    s.sendall(b'GET / HTTP/1.0\\r\\n\\r\\n')\n"
        "    data = s.read(100)\n"
        "    s.close()\n"
        "    return data\n"
    ).encode()


FACTORY_NAMES = sorted(model.FACTORIES | model.PAIR_FACTORIES)


@pytest.mark.parametrize("qualified", FACTORY_NAMES)
def test_every_factory_passes_the_prefilter(qualified: str) -> None:
    """Any file that calls a known factory must contain a trigger (the engine tables and the
    prefilter's byte strings live in different modules and must not drift apart)."""
    data = _uses(qualified)
    assert may_contain_findings(data), f"the prefilter would skip a file that calls {qualified}"


@pytest.mark.parametrize(
    "snippet",
    [
        b"s.setsockopt(SOL, SO_LINGER, x)",
        b"s.setsockopt(SOL, SO_REUSEADDR, 1)",
        b"s.setsockopt(SOL, SO_REUSEPORT, 1)",
        b"loop.create_datagram_endpoint(P, reuse_address=True)",
        b"loop.create_server(P, reuse_port=True)",
        b"class S(Server):\n    allow_reuse_address = True\n",
        b"class S(Server):\n    allow_reuse_port = True\n",
        b"conn, addr = srv.accept()",
        b"c = s.dup()",
        b"while True:\n    d = c.recv(10)\n",
        b"s.shutdown(2)",
    ],
)
def test_rule_trigger_text_passes_the_prefilter(snippet: bytes) -> None:
    assert may_contain_findings(snippet)


def test_configured_factories_pass_the_prefilter() -> None:
    data = b"from mylib.net import open_channel\n\ndef f():\n    c = open_channel()\n    c.send(b'x')\n"
    assert not may_contain_findings(data)
    assert may_contain_findings(data, ("mylib.net.open_channel",))


def _method_programs(name: str) -> list[bytes]:
    """Small programs in which ``name`` is the only socket-looking word, in the shapes the scan
    and the engine recognise: a pair unpacked from a method, an indexed pair, a result used as
    a socket, a bare call."""
    shapes = [
        ("conn, addr", f"self.{name}()"),
        ("conn", f"self.{name}()[0]"),
        ("conn", f"obj.{name}(1, 2)"),
        ("conn", f"{name}()"),
    ]
    out = []
    for target, call in shapes:
        body = [f"{target} = {call}", "conn.send(b'x')", "data = conn.read(10)", "conn.close()", "return data"]
        if call.startswith("self."):
            src = "class Server:\n    def run(self, obj):\n" + "".join(f"        {ln}\n" for ln in body)
        else:
            src = "def run(obj):\n" + "".join(f"    {ln}\n" for ln in body)
        out.append(src.encode())
    return out


@pytest.mark.parametrize("name", sorted(scan.TRIGGER_METHODS | scan.TRIGGER_ATTRIBUTES))
def test_prefilter_drops_nothing_on_trigger_method_programs(name: str) -> None:
    """Every name the scan treats as a reason to analyse a function, used where it is the only
    socket-looking text in the file (this found ``self._accept()``, which the prefilter missed)."""
    settings = Settings()
    for data in _method_programs(name):
        compile(data, "p.py", "exec")  # the generated program itself must be valid
        full = _findings(check_source("p.py", data, settings, prefilter=False))
        assert _findings(check_source("p.py", data, settings)) == full, data.decode()


@pytest.mark.parametrize("qualified", FACTORY_NAMES)
def test_prefilter_drops_nothing_on_factory_programs(qualified: str) -> None:
    data = _uses(qualified)
    settings = Settings()
    full = _findings(check_source("p.py", data, settings, prefilter=False))
    assert _findings(check_source("p.py", data, settings)) == full


def _stdlib_files() -> list[Path]:
    return sorted(p for p in STDLIB.rglob("*.py") if "site-packages" not in p.parts)


@pytest.mark.skipif(bool(os.environ.get("SOCKLINT_SKIP_STDLIB")), reason="SOCKLINT_SKIP_STDLIB is set")
def test_prefilter_drops_nothing_on_the_standard_library() -> None:
    """About 15 s of CPU: every file the prefilter rejects (about 1,600 of the 3.11 tree) gets
    the deep analysis, whose findings must be empty."""
    settings = Settings()
    started = time.perf_counter()
    dropped: list[Diagnostic] = []
    rejected = 0
    for path in _stdlib_files():
        data = path.read_bytes()
        if not may_contain_findings(data):
            rejected += 1
        dropped.extend(_dropped(str(path), data, settings))
    assert rejected > 1000  # the comparison covers most of the tree
    assert dropped == [], f"{len(dropped)} findings dropped in {time.perf_counter() - started:.0f}s"
