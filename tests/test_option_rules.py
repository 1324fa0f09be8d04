"""Behaviour of the SKL2xx/SKL3xx rules that fixtures' line markers cannot express: severities
that depend on context, positions of whole-module findings, settings that switch rules on."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from socklint.api import check_source
from socklint.config import Settings
from socklint.diagnostics import Diagnostic, Severity

HEAD = "import socket\nimport struct\nZERO = struct.pack('ii', 1, 0)\n"


def _check(
    src: str, settings: Settings | None = None, path: str = "pkg/mod.py"
) -> list[Diagnostic]:
    return check_source(path, src.encode(), settings or Settings())


def _only(diags: list[Diagnostic], code: str) -> list[Diagnostic]:
    return [d for d in diags if d.code == code]


def test_linger_zero_severity_follows_context() -> None:
    src = HEAD + (
        "def listener(s):\n"
        "    s.bind(('', 1))\n"
        "    s.listen()\n"
        "    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, ZERO)\n"
        "def after_send(s):\n"
        "    s.sendall(b'x')\n"
        "    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, ZERO)\n"
        "def plain(s):\n"
        "    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, ZERO)\n"
        "def failed(s):\n"
        "    try:\n"
        "        s.sendall(b'x')\n"
        "    except OSError:\n"
        "        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, ZERO)\n"
        "        raise\n"
    )
    got = {d.line: d.severity for d in _only(_check(src), "SKL201")}
    assert got == {7: Severity.ERROR, 10: Severity.ERROR, 12: Severity.WARNING, 17: Severity.INFO}


def test_linger_zero_in_a_test_suite_is_not_reported() -> None:
    src = HEAD + "def helper(s):\n    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, ZERO)\n"
    assert _only(_check(src, path="pkg/mod.py"), "SKL201")
    assert not _only(_check(src, path="tests/helpers.py"), "SKL201")
    assert not _only(_check(src, path="pkg/test_mod.py"), "SKL201")


def test_class_attribute_finding_has_character_columns() -> None:
    src = (
        "import socketserver\n"
        "class Émetteur(socketserver.UDPServer):\n"
        "    é = 1; allow_reuse_address = True\n"
    )
    [d] = _only(_check(src), "SKL211")
    assert (d.line, d.column) == (3, 12)
    assert d.end_column > d.column


def test_module_rules_run_without_any_candidate_function() -> None:
    src = "import socketserver\nclass S(socketserver.UDPServer):\n    allow_reuse_address = True\n"
    assert [d.code for d in _check(src)] == ["SKL211"]


def test_windows_rule_needs_opt_in_or_target_windows() -> None:
    src = "import socket\ndef f(s):\n    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n    s.bind(('', 1))\n    s.listen()\n"
    assert not _only(_check(src), "SKL213")
    assert _only(_check(src, replace(Settings(), target_windows=True)), "SKL213")
    assert _only(_check(src, replace(Settings(), extend_select=("SKL213",))), "SKL213")


def test_windows_layout_only_with_target_windows() -> None:
    src = "import socket, struct\ndef f(s):\n    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 5))\n"
    assert not _only(_check(src), "SKL202")
    [d] = _only(_check(src, replace(Settings(), target_windows=True)), "SKL202")
    assert "(1, 0)" in d.message


def test_noqa_silences_module_findings() -> None:
    src = "import socketserver\nclass S(socketserver.UDPServer):\n    allow_reuse_address = True  # noqa: SKL211\n"
    assert _check(src) == []


def test_messages_name_the_lines_they_refer_to() -> None:
    src = "import socket\ndef f(s):\n    s.bind(('', 1))\n    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
    [d] = _only(_check(src), "SKL214")
    assert "(line 3)" in d.message


# One case per named heuristic: (id, path, source, code, reported with the heuristic on).
# Switching the heuristic off must flip whether ``code`` is reported.
_LINGER0 = "socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0)"
HEURISTIC_CASES = [
    (
        "abort-function-name",
        "pkg/mod.py",
        f"def abort_connection(sock):\n    sock.setsockopt({_LINGER0})\n",
        "SKL201",
        False,
    ),
    (
        "abort-guard",
        "pkg/mod.py",
        f"def finish(conn, timed_out):\n    if timed_out:\n        conn.setsockopt({_LINGER0})\n    conn.close()\n",
        "SKL201",
        False,
    ),
    (
        "platform-guard",
        "pkg/mod.py",
        ("import sys\ndef f(s):\n    if sys.platform == 'win32':\n"
         "        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('HH', 1, 5))\n"),
        "SKL202",
        False,
    ),
    (
        "test-file-path",
        "tests/helpers.py",
        f"def helper(sock):\n    sock.setsockopt({_LINGER0})\n",
        "SKL201",
        False,
    ),
    (
        "reuse-option-guard",
        "pkg/mod.py",
        ("def f(reuse):\n    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n    if reuse:\n"
         "        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n    s.bind(('', 1))\n    return s\n"),
        "SKL211",
        False,
    ),
    (
        "reuse-setter-name",
        "pkg/mod.py",
        ("def set_reuse_addr():\n    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
         "    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n    s.bind(('', 1))\n    return s\n"),
        "SKL211",
        False,
    ),
    (
        "prefork-call-name",
        "pkg/mod.py",
        ("from tornado import process\ndef listener():\n    s = socket.socket()\n"
         "    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)\n    s.bind(('', 1))\n    s.listen()\n    return s\n"
         "def main():\n    process.fork_processes(0)\n"),
        "SKL216",
        False,
    ),
    (
        "socketserver-listener-method",
        "pkg/mod.py",
        ("import socketserver\nclass S(socketserver.TCPServer):\n    def server_bind(self):\n"
         "        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n        super().server_bind()\n"),
        "SKL213",
        True,
    ),
    (
        "socketserver-handler-attributes",
        "pkg/mod.py",
        "class H:\n    def handle(self):\n        self.request.shutdown(socket.SHUT_RDWR)\n",
        "SKL304",
        False,
    ),
    (
        "shutdown-wrapper-name",
        "pkg/mod.py",
        "class W:\n    def shutdown(self):\n        self.sock.shutdown(socket.SHUT_RDWR)\n",
        "SKL304",
        False,
    ),
    (
        "closer-function-name",
        "pkg/mod.py",
        "def close_conn(conn):\n    conn.shutdown(socket.SHUT_RDWR)\n    conn.close()\n",
        "SKL303",
        True,
    ),
    (
        "socket-receiver-name",
        "pkg/mod.py",
        "class C:\n    def stop(self, how):\n        self.conn.shutdown(how)\n        self.conn.close()\n",
        "SKL303",
        True,
    ),
]


def test_every_heuristic_has_a_case() -> None:
    from socklint.heuristics import HEURISTICS

    # The flow engine's guesses (SKL1xx) have their cases in test_heuristics.py.
    rules = [hid for hid, h in HEURISTICS.items() if not any(c.startswith("SKL1") for c in h.codes)]
    assert sorted(c[0] for c in HEURISTIC_CASES) == sorted(rules)


@pytest.mark.parametrize(
    ("hid", "path", "body", "code", "when_on"), HEURISTIC_CASES, ids=[c[0] for c in HEURISTIC_CASES]
)
def test_switching_a_heuristic_off_undoes_its_guess(
    hid: str, path: str, body: str, code: str, when_on: bool
) -> None:
    src = "import socket\nimport struct\n" + body
    on = replace(Settings(), select=("ALL",))
    off = replace(on, heuristics=((hid, False),))
    assert bool(_only(_check(src, on, path), code)) is when_on
    assert bool(_only(_check(src, off, path), code)) is not when_on


def test_a_heuristic_switched_off_in_pyproject_applies_through_the_cli(tmp_path: Path) -> None:
    tests = tmp_path / "tests"
    tests.mkdir()
    (tests / "helpers.py").write_text(
        f"import socket\nimport struct\ndef helper(sock):\n    sock.setsockopt({_LINGER0})\n",
        encoding="utf-8",
    )

    def reported() -> list[str]:
        proc = subprocess.run(
            [sys.executable, "-m", "socklint", "check", "--no-cache", "--format", "json", "tests"],
            capture_output=True, text=True, cwd=tmp_path, check=False,
        )
        assert proc.returncode in (0, 1), proc.stderr
        return [d["code"] for d in json.loads(proc.stdout)]

    (tmp_path / "pyproject.toml").write_text("[tool.socklint]\n", encoding="utf-8")
    assert reported() == []
    (tmp_path / "pyproject.toml").write_text(
        '[tool.socklint.heuristics]\n"test-file-path" = false\n', encoding="utf-8"
    )
    assert reported() == ["SKL201"]


def test_module_facts_are_built_once_per_file(monkeypatch: pytest.MonkeyPatch) -> None:
    from socklint.rules import _support

    walks: list[object] = []
    real = _support.ModuleFacts._walk

    def counting(self: _support.ModuleFacts, tree: object) -> None:
        walks.append(tree)
        real(self, tree)  # type: ignore[arg-type]

    monkeypatch.setattr(_support.ModuleFacts, "_walk", counting)
    src = HEAD + "".join(
        f"def f{i}(s):\n    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, ZERO)\n"
        f"    s.shutdown(socket.SHUT_RDWR)\n"
        for i in range(5)
    ) + "class S:\n    allow_reuse_address = True\n"
    assert len(_only(_check(src), "SKL201")) == 5
    assert len(walks) == 1
