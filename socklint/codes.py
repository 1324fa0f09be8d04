"""The one registry of rule codes.

Codes are forever: a retired code stays here with ``status="removed"`` and is never reused.
Every front end (CLI, flake8, LSP, SARIF) reads names, severities and defaults from here.
"""

from __future__ import annotations

from dataclasses import dataclass

from socklint.diagnostics import Severity

DOCS_BASE_URL = "https://github.com/socklint/socklint/blob/main/docs/rules/"


@dataclass(frozen=True)
class Code:
    code: str
    name: str
    summary: str
    severity: Severity
    default_enabled: bool = True
    status: str = "stable"

    @property
    def docs_url(self) -> str:
        return f"{DOCS_BASE_URL}{self.code}.md"


_W = Severity.WARNING
_E = Severity.ERROR
_I = Severity.INFO

_ALL = [
    # Tool diagnostics: the file could not be analysed as asked.
    Code("SKL001", "syntax-error", "the file does not parse", _E),
    Code("SKL002", "unreadable-file", "the file cannot be read or decoded", _E),
    Code("SKL003", "analysis-budget-exceeded", "a function is too large to analyse within budget", _I),
    Code("SKL900", "internal-error", "socklint failed on this file (please report it)", _E),
    # Lifecycle: a socket's descriptor outlives every reference to it.
    Code("SKL101", "socket-leak-on-early-exit", "a socket is left open on an early return, raise, break or continue", _W),
    Code("SKL102", "socket-leak-on-exception", "a socket is left open when a call that uses it raises", _W),
    Code("SKL103", "socket-never-closed", "a socket is never closed and never handed off", _W),
    Code("SKL104", "socket-overwritten-while-open", "an open socket is rebound or deleted before it is closed", _W),
    Code(
        "SKL108",
        "leak-on-cancellation",
        "a socket or asyncio connection is left open when the task is cancelled at an await",
        _W,
    ),
    Code(
        "SKL111",
        "socket-leak-in-constructor",
        "a socket stored on self is left open when __init__ or __enter__ raises: nobody gets the object to close it",
        _W,
    ),
    Code("SKL112", "socket-attribute-never-closed", "a class keeps a socket it made in an attribute that nothing ever closes", _W),
    Code("SKL105", "recv-loop-ignores-eof", "a recv() loop never handles end of stream", _W),
    Code(
        "SKL106",
        "socket-leak-on-unrelated-exception",
        "a socket is left open when an unrelated call between its creation and close raises",
        _I,
        default_enabled=False,
    ),
    Code(
        "SKL107",
        "socket-leak-on-configuration-call",
        "a socket is left open only if a configuration call (setsockopt, listen, a bind to port 0) fails",
        _I,
        default_enabled=False,
    ),
    # Socket options.
    Code("SKL201", "so-linger-zero", "SO_LINGER with a zero timeout makes close() send RST", _W),
    Code("SKL202", "so-linger-bad-layout", "the SO_LINGER value is not two C ints", _E),
    Code("SKL203", "so-linger-nonblocking", "a nonzero SO_LINGER on a non-blocking socket makes close() block", _W),
    Code("SKL211", "so-reuseaddr-udp", "SO_REUSEADDR on a unicast UDP socket lets other processes steal datagrams", _W),
    Code("SKL212", "datagram-reuse-address", "create_datagram_endpoint(reuse_address=...) fails on current Python", _E),
    Code(
        "SKL213",
        "so-reuseaddr-windows",
        "SO_REUSEADDR on a listener that can run on Windows allows port hijacking",
        _W,
        default_enabled=False,
    ),
    Code("SKL214", "reuse-option-after-bind", "a port-reuse option set after bind() has no effect", _W),
    Code("SKL215", "so-reuseaddr-client", "SO_REUSEADDR on a client socket that only connects does nothing useful", _I),
    Code("SKL216", "so-reuseport", "SO_REUSEPORT lets a second copy of the program share or take the port", _W),
    # Closing.
    Code("SKL301", "close-with-unread-input", "a connection is closed while the peer's data is unread (RST)", _W),
    # Off by default: 3 distinct findings over 6 stdlibs and 26 PyPI packages, none a clear bug
    # (docs/design/options-and-closing.md).
    Code("SKL302", "close-shared-without-shutdown", "a shared socket is closed without shutdown()", _I, default_enabled=False),
    Code("SKL303", "shutdown-skips-close", "shutdown() can raise and skip the close() after it", _W),
    Code("SKL304", "shutdown-without-close", "shutdown() with no later close() leaks the descriptor", _W),
]

CODES: dict[str, Code] = {c.code: c for c in _ALL}
BY_NAME: dict[str, Code] = {c.name: c for c in _ALL}

TOOL_CODES = frozenset({"SKL001", "SKL002", "SKL003", "SKL900"})


def resolve(token: str) -> str:
    """Map a slug (``socket-never-closed``) to its code; codes and prefixes pass through."""
    if token in BY_NAME:
        return BY_NAME[token].code
    return token.upper()
