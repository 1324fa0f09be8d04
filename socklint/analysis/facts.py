"""Facts the flow interpreter computes once per function; rules are queries over them.

Nodes are libcst nodes of the function's snippet module; the engine turns them into positions
only when a finding needs them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import libcst as cst
from libcst.helpers import get_full_name_for_node

from socklint.diagnostics import Severity

# The methods whose `self` is an object under construction: a socket stored on it is the
# caller's only once the method returns (SKL111).
OWNING_METHODS = frozenset({"__init__", "__post_init__", "__enter__", "__aenter__"})


@dataclass
class Resource:
    """One socket-valued creation site (or a parameter, tracked for summaries and options)."""

    rid: int
    node: cst.CSTNode  # the creating call (or the parameter)
    origin: str  # socket | create_connection | create_server | fromfd | socketpair | accept | dup | wrap | factory | object | param
    callee: str  # how the creating call is spelled, for messages: "create_connection()"
    name: Optional[str] = None  # first local name bound to it
    sock_type: Optional[str] = None  # "stream" | "dgram" | "raw" | "seqpacket" | None (unknown)
    family: Optional[str] = None  # "inet" | "inet6" | "unix" | None
    role: Optional[str] = None  # "client" | "listener" | "server-conn" | None (derived from events)
    reportable: bool = True  # parameters are tracked, never reported as leaks
    managed: bool = False  # created directly as a with-item
    lent: Optional[cst.CSTNode] = None  # the first unresolved call it was passed to (borrowed)
    # Where the creating helper or socket class lives when it is another module's ("path:line").
    defined_at: Optional[str] = None
    # What the resource is (models.load.RESOURCE_KINDS): a socket, or an asyncio stream writer,
    # transport or server that owns one. Its methods are `resource-methods` rows.
    kind: str = "socket"


# What a leak's witness needs to fail (the JSON field "failure", docs/json-output.md): a call
# that fails in normal operation (a refused, reset or timed-out connection, a taken port, a
# failed handshake or name lookup); a `raise` of the code (a validation or protocol check); only
# a configuration call (setsockopt, listen, a bind to port 0: EBADF, EINVAL, ENOMEM); a call
# that may raise anything; nothing at all (the socket leaks on a path with no exception).
FAIL_IO = "io-error"
FAIL_PROTOCOL = "protocol-raise"
FAIL_CONFIG = "configuration-call"
FAIL_ANY = "any-exception"
FAIL_NONE = "none"
# The task is cancelled at an `await` (asyncio.CancelledError, a BaseException since 3.8): a
# leak only this path shows is SKL108.
FAIL_CANCEL = "cancellation"
FAILURES = (FAIL_IO, FAIL_PROTOCOL, FAIL_CONFIG, FAIL_ANY, FAIL_NONE, FAIL_CANCEL)


class Step:
    """One step of a witness path, as a persistent linked list (cheap to extend and share).
    Each step knows the first step of its path and its depth, so a long path can be shown
    as its start and its last steps without walking all of it. A step where something raises
    (a call, or a handler catching a `raise` of the code) carries what failed (``FAIL_*``)."""

    __slots__ = ("depth", "failure", "last", "node", "note", "prev", "root")

    def __init__(self, node: cst.CSTNode, note: str, prev: Optional[Step] = None, failure: Optional[str] = None) -> None:
        self.node = node
        self.note = note
        self.prev = prev
        self.failure = failure
        # What failed last on the path up to here (the exception being handled or unwound).
        self.last: Optional[str] = failure if failure is not None or prev is None else prev.last
        self.root: Step = prev.root if prev is not None else self
        self.depth: int = prev.depth + 1 if prev is not None else 0

    def to_list(self, limit: int = 0) -> list[tuple[cst.CSTNode, str]]:
        """The path from its first step; with ``limit``, the first step, an ellipsis marker
        (a step whose note is ``"..."``) and the last ``limit - 2`` steps."""
        out: list[tuple[cst.CSTNode, str]] = []
        s: Optional[Step] = self
        if limit and self.depth + 1 > limit:
            while s is not None and len(out) < limit - 2:
                out.append((s.node, s.note))
                s = s.prev
            out.append((s.node if s is not None else self.root.node, "..."))
            out.append((self.root.node, self.root.note))
        else:
            while s is not None:
                out.append((s.node, s.note))
                s = s.prev
        out.reverse()
        return out

    def needs_configuration_failure(self) -> bool:
        """The path goes through a configuration call failing (it needs EBADF, EINVAL...): a
        witness to give up for another path to the same place."""
        return self.last == FAIL_CONFIG


@dataclass(frozen=True)
class Event:
    """Something done to a socket-like receiver. ``rids`` are the tracked sockets the receiver
    may be (empty for untracked receivers such as ``self.sock`` or ``server.socket``)."""

    kind: str  # "method" (a call of a socket method), "close", "escape", "shutdown"
    method: str  # method name ("setsockopt", "close", "shutdown", ...); "" for escapes
    node: cst.CSTNode  # the Call node (or the statement for escapes)
    rids: frozenset[int]
    receiver: Optional[str]  # dotted text of the receiver ("sock", "self.sock") when simple
    order: int  # program order of first interpretation
    in_except: bool = False  # inside an except handler
    guards: tuple[str, ...] = ()  # source text of enclosing if/while tests, innermost last
    # Enclosing try/with-suppress/loop regions in this function, outermost first: (id of the
    # statement, region) with region "try-os" (a try body whose handlers catch OSError),
    # "try" (other try bodies), "except", "else", "finally", "suppress", "loop".
    regions: tuple[tuple[int, str], ...] = ()


@dataclass(frozen=True)
class Leak:
    """A socket that may still be open, unowned, where control leaves the function."""

    rid: int
    kind: str  # "return" | "raise" | "end" | "continue" | "break" | "call" | "rebind"
    node: cst.CSTNode  # the exit: return/raise/continue statement, raising call, rebinding
    witness: Optional[Step]
    touching: bool = True  # for kind == "call": the raising call uses the socket
    failure: str = FAIL_NONE  # what the witness needs to fail (FAIL_*)
    # In `__init__` / `__enter__`: the attribute of self that held the socket at this exit
    # (`self.sock`). The exit raises out of the method, so nobody gets the object (SKL111).
    held_by: Optional[str] = None


@dataclass(frozen=True)
class LoopEntry:
    """A ``while`` the interpreter entered, with what the names may hold there (for SKL105)."""

    node: cst.While
    env: dict[str, frozenset[int]]  # the tracked sockets each name may be
    readers: frozenset[str]  # names that may hold a reader made from a socket (`makefile()`)


@dataclass
class FunctionFacts:
    func: Optional[cst.CSTNode]  # FunctionDef, or None for module-level code
    name: str
    resources: dict[int, Resource] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    leaks: list[Leak] = field(default_factory=list)
    disposed: set[int] = field(default_factory=set)  # closed / handed off on some path
    # Each `while` entered, with the sockets each name may hold there (for SKL105).
    loop_entries: list[LoopEntry] = field(default_factory=list)
    budget_exceeded: bool = False
    # Calls that were raise points (by node id): an `await` of one fails where the call does,
    # so the rule reads the call's leaks, not the await's own (SKL108).
    raising_calls: set[int] = field(default_factory=set)
    # `__init__` / `__enter__` / `__aenter__` of a class: sockets stored on self are followed.
    owner_method: Optional[str] = None
    # `self.X = <socket>` in a method: (class, attribute, resource, the assignment) for SKL112.
    attr_stores: list[tuple[str, str, int, cst.CSTNode]] = field(default_factory=list)
    last_line_node: Optional[cst.CSTNode] = None


@dataclass
class Finding:
    """A rule's output. ``message`` may hold ``{0}``, ``{1}``... replaced by the line numbers
    of ``refs``; trace notes likewise."""

    code: str
    node: cst.CSTNode
    message: str
    refs: tuple[cst.CSTNode, ...] = ()
    trace: tuple[tuple[cst.CSTNode, str], ...] = ()
    severity: Optional[Severity] = None  # overrides the code's default (context-dependent rules)
    # The refs are alternatives (creation sites of one name, listed "26, 28 or 30"): the
    # reporter substitutes them in line order.
    sort_refs: bool = False
    failure: Optional[str] = None  # leak findings: what their witness needs to fail (FAIL_*)


def cst_name(node: cst.CSTNode) -> Optional[str]:
    """The dotted name of a libcst node (``socket.socket``), or None when it has none."""
    try:
        return get_full_name_for_node(node)
    except Exception:  # noqa: BLE001 - odd nodes simply have no dotted name
        return None
