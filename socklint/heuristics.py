"""Named heuristics: the guesses socklint makes from how code is spelt.

A heuristic is a guess keyed on a name, a path or the text of a test (a function called
``abort_connection`` means the abort is deliberate; ``if sys.platform == "win32":`` is a platform
test). Each one has an id, says what it guesses and why, and is on or off by default. A project
switches one off in ``[tool.socklint.heuristics]`` (``"abort-function-name" = false``); the rule
then behaves as if the guess never matched. ``socklint heuristics`` lists them with their
effective state, and ``docs/configuration.md`` documents each (a test keeps the two in step).

Code that guesses asks :func:`enabled` first, then matches. Word lists a heuristic matches
against live beside the code that uses them; this module only names and switches.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from socklint.config import Settings


@dataclass(frozen=True)
class Heuristic:
    id: str  # lower-case words joined by "-", stable: users write it in their configuration
    summary: str  # what it guesses, one sentence
    default: bool = True
    codes: tuple[str, ...] = ()  # the codes whose findings it changes
    why: str = ""  # why the guess is usually right


HEURISTICS: dict[str, Heuristic] = {}

_ID = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")


def register(h: Heuristic) -> Heuristic:
    """Add a heuristic to the registry (once per id)."""
    if not _ID.match(h.id):
        raise ValueError(f"heuristic id {h.id!r}: use lower-case words joined by '-'")
    if h.id in HEURISTICS:
        raise ValueError(f"heuristic {h.id!r} is registered twice")
    HEURISTICS[h.id] = h
    return h


def enabled(settings: Settings, hid: str) -> bool:
    """Whether heuristic ``hid`` applies under ``settings``. An unknown id is a programming
    error (KeyError), so a typo in a rule cannot silently switch a guess off."""
    if hid not in HEURISTICS:
        raise KeyError(hid)
    return hid in enabled_ids(settings)


# --- word matching ----------------------------------------------------------------------------

_CAMEL = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")


def words(text: str) -> list[str]:
    """The lower-case words of the identifiers in ``text``: snake_case and camelCase parts
    (``serve_dropbox`` -> serve, dropbox; ``isWindows`` -> is, windows; ``WIN32`` -> win, 32)."""
    out: list[str] = []
    for ident in re.findall(r"[A-Za-z0-9]+", text):
        out.extend(w.lower() for w in _CAMEL.findall(ident))
    return out


def has_word(text: str, vocabulary: frozenset[str]) -> bool:
    return any(w in vocabulary for w in words(text))


# --- the registry -------------------------------------------------------------------------------
# Rule files own their word lists; the ids here are what users see.

register(
    Heuristic(
        "abort-function-name",
        "a function whose name has a word such as abort, reset, rst, kill, drop or test sets SO_LINGER {on, 0} on purpose",
        codes=("SKL201",),
        why="fault injection, kill switches and RST tests abort connections by design; their callers decide when",
    )
)
register(
    Heuristic(
        "abort-guard",
        "an SO_LINGER {on, 0} under a test saying a timeout or failure happened (timed_out, expired, aborted, not orderly) is a deliberate abort",
        codes=("SKL201",),
        why="resetting a connection that already timed out is the one legitimate abort (nginx reset_timedout_connection)",
    )
)
register(
    Heuristic(
        "platform-guard",
        "a call under a test of the platform (sys.platform, os.name, platform.system(), IS_WINDOWS, WIN32) is written for one platform",
        codes=("SKL202", "SKL213"),
        why="a per-platform SO_LINGER layout or a POSIX-only SO_REUSEADDR is the fix these rules ask for",
    )
)
register(
    Heuristic(
        "test-file-path",
        "files under tests/ or testing/, test_*.py, *_test.py and conftest.py are test suites",
        codes=("SKL201", "SKL211", "SKL213", "SKL215", "SKL216"),
        why="test suites inject resets and share ports on purpose; the deployment risks do not apply",
    )
)
register(
    Heuristic(
        "reuse-option-guard",
        "SO_REUSEADDR / SO_REUSEPORT under a test naming reuse, workers, processes or fork is a configured choice",
        codes=("SKL211", "SKL213", "SKL215", "SKL216"),
        why="`if reuse_port:` means the caller asked for the option",
    )
)
register(
    Heuristic(
        "reuse-setter-name",
        "a function named set_reuse*, enable_reuse* or apply_reuse* implements a requested reuse option",
        codes=("SKL211", "SKL213", "SKL215", "SKL216"),
        why="a helper that sets the option on request; the caller is where the choice is made",
    )
)
register(
    Heuristic(
        "prefork-call-name",
        "a call of something named *.fork or *fork_processes starts worker processes",
        codes=("SKL216",),
        why="prefork servers (tornado's fork_processes) share one listening port with SO_REUSEPORT on purpose",
    )
)
register(
    Heuristic(
        "socketserver-listener-method",
        "`self.socket` in a method named server_bind or server_activate is a socketserver listening socket",
        codes=("SKL201", "SKL213", "SKL215"),
        why="socketserver servers bind and listen on self.socket in these two methods",
    )
)
register(
    Heuristic(
        "socketserver-handler-attributes",
        "`self.request` and `self.connection` are sockets socketserver owns, and a method named handle is a request handler",
        codes=("SKL301", "SKL304"),
        why="socketserver closes the request socket after handle() returns",
    )
)
register(
    Heuristic(
        "shutdown-wrapper-name",
        "a method named shutdown that shuts its socket down forwards the call; the wrapper's owner closes",
        codes=("SKL304",),
        why="socket-like classes (ssl, wrappers) expose shutdown() next to their own close()",
    )
)
register(
    Heuristic(
        "closer-function-name",
        "a function whose name says it closes (close, disconnect, cleanup, teardown, stop, release, ...) closes the socket it was given",
        codes=("SKL303",),
        why="a closing helper's shutdown() then close() must survive a reset peer; other borrowers leave closing to their caller",
    )
)
register(
    Heuristic(
        "socket-receiver-name",
        "`X.shutdown(arg)` is a socket shutdown when X is named like a socket (sock, conn, client, peer, stream, transport, ...)",
        codes=("SKL303",),
        why="executors and servers have shutdown() methods too; a SHUT_* constant or a tracked socket decides without the name",
    )
)

# The flow engine's guesses (SKL101-SKL104, SKL106, SKL107). Word lists of the first five live in
# socklint/models/heuristics.toml (docs/models.md); the others are tests of a name's shape.
_LEAKS = ("SKL101", "SKL102", "SKL103", "SKL104", "SKL106", "SKL107", "SKL108")
for _h in (
    Heuristic(
        "closes-by-name",
        "a function of another module with the word close in its name (close_socket, safe_close, _close_on_teardown; not is_closed, close_on_exec) closes the sockets it is given",
        codes=_LEAKS,
        why="cleanup helpers are named for what they do; a configured borrower always wins over this guess",
    ),
    Heuristic(
        "resource-types",
        "a class whose __init__ keeps a socket in an attribute (one it makes, or its first argument) and whose close() or __exit__ closes that attribute is a resource type: an instance is followed like a socket, and constructing it around a socket takes the socket over",
        codes=_LEAKS,
        why="a package's own connection wrapper owns its socket exactly as the socket owns its descriptor: whoever holds the wrapper must close it",
    ),
    Heuristic(
        "accessor",
        "a get* method of a tracked object that is not a socket method (ws.getsubprotocol()) reads a stored value and cannot fail",
        codes=_LEAKS,
        why="getters of wrappers return what they stored; a socket's own system-call getters (getpeername) are socket methods and still raise",
    ),
    Heuristic(
        "logging-call",
        "logging methods (debug, info, warning, error, exception, log...) and a module's own debug/info/log/trace functions only log: they neither fail nor keep the socket",
        codes=_LEAKS,
        why="logging swallows its own errors, so a log call is no witness of a leak",
    ),
    Heuristic(
        "logger-receiver",
        "a receiver named log, logger, _log or *_logger is a logger: every call of it only logs",
        codes=_LEAKS,
        why="loggers are named for what they are (logging.getLogger results, per-class loggers)",
    ),
    Heuristic(
        "test-assertion",
        "self.assert*(), failUnless and failIf in a test fail with AssertionError: a failed test, not a leak path",
        codes=_LEAKS,
        why="unittest.TestCase assertions end the test; the socket is the test's fixture",
    ),
    Heuristic(
        "socket-module-by-name",
        "a module or attribute whose name contains socket (gevent.socket, trio.socket, self.socket_module) has socket(), create_connection() and socketpair() factories that make sockets",
        codes=_LEAKS,
        why="green and async libraries mirror the socket module's factories under their own socket module",
    ),
    Heuristic(
        "ssl-context-by-name",
        "wrap_socket() on a receiver named *ctx* or *context* is SSLContext.wrap_socket, which takes the socket over",
        codes=_LEAKS,
        why="ssl contexts are named for what they are; a tracked socket argument decides without the name",
    ),
    Heuristic(
        "dup-receiver-name",
        "dup() on a receiver named *sock* or *conn* returns a new socket (a new descriptor) that the function owns",
        codes=_LEAKS,
        why="socket.dup() makes a descriptor to close; other dup() methods (of files, of objects) are not seen",
    ),
    Heuristic(
        "wrapper-socket-attribute",
        "x._sock.close() (an attribute named *sock*) closes the socket a socket-like wrapper x holds",
        codes=_LEAKS,
        why="wrappers keep their socket in an attribute named for it and are closed through it",
    ),
    Heuristic(
        "class-call-takes-ownership",
        "calling a capitalised name (Wrapper(sock), Connection(sock), _TransportWrapper(reader, writer)) constructs an object that takes over the sockets given to it",
        codes=_LEAKS,
        why="wrapper classes own the socket they are built around; a raised exception that keeps its arguments in .args does not",
    ),
    Heuristic(
        "class-variable-call-takes-ownership",
        "calling a name ending in class or _cls (self.handler_class(sock, addr)) constructs an object that takes the socket over",
        codes=_LEAKS,
        why="servers keep the handler class they instantiate per connection in such a variable",
    ),
    Heuristic(
        "constant-by-case",
        "an UPPER_CASE name or a Class.member is a constant, so `x == NAME` known on a path decides a later `x == NAME` or `x == OTHER`",
        codes=_LEAKS,
        why="constants and enum members are spelt so; a test of one is the same test twice",
    ),
    Heuristic(
        "object-method-closes-by-name",
        "in __init__ / __enter__, self.close(), self.disconnect(), super().shutdown()... of a method the module does not show in full (defined elsewhere, handing self to a call, or in a class with a base from another module) ends the object's life: every socket stored on self is closed",
        codes=("SKL111",),
        why="a handler that calls the object's own close() before re-raising is the usual cleanup of a half-built object; its definition may sit in a base class of another module",
    ),
    Heuristic(
        "event-loop-by-name",
        "loop.sock_recv(...), sock_sendall, sock_connect... on a receiver named *loop* build a coroutine: nothing runs or fails until it is awaited; "
        "loop.create_connection(...), sock_accept, start_tls... make asyncio resources only on such a receiver (or on get_running_loop() / get_event_loop())",
        codes=_LEAKS,
        why="asyncio's loop methods return coroutines or futures; the await is the raise point",
    ),
):
    register(_h)


@functools.lru_cache(maxsize=64)
def _enabled_ids(switched: tuple[tuple[str, bool], ...]) -> frozenset[str]:
    on = {hid for hid, h in HEURISTICS.items() if h.default}
    for hid, value in switched:
        (on.add if value else on.discard)(hid)
    return frozenset(on)


def enabled_ids(settings: Settings) -> frozenset[str]:
    """The ids of every heuristic that applies under ``settings`` (computed once per
    configuration): for code that asks on every call."""
    return _enabled_ids(settings.heuristics)


ALL_IDS = frozenset(HEURISTICS)
