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
    default = HEURISTICS[hid].default
    for key, on in settings.heuristics:
        if key == hid:
            return on
    return default


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
