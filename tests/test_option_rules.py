"""Behaviour of the SKL2xx/SKL3xx rules that fixtures' line markers cannot express: severities
that depend on context, positions of whole-module findings, settings that switch rules on."""

from __future__ import annotations

from dataclasses import replace

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
