"""SKL3xx: closing a connection the wrong way.

A plain ``close()`` of a socket only this code holds is an orderly close (FIN) and is never
reported. These rules cover the cases where it is not: unread input (RST), a socket still held
elsewhere (no FIN), and ``shutdown()`` mistakes.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

import libcst as cst

from socklint import heuristics
from socklint.analysis.astutil import dotted_name
from socklint.analysis.cstutil import walk
from socklint.analysis.facts import Event, Finding, FunctionFacts
from socklint.analysis.options import Evaluator, Sym, positional_args
from socklint.analysis.scan import ImportTable
from socklint.config import Settings
from socklint.rules._support import (
    HTTP_HANDLERS,
    RECV_METHODS,
    SEND_METHODS,
    ClassInfo,
    MethodInfo,
    events_of,
    inherits,
    module_facts_of,
    sock_type,
)
from socklint.rules.base import ModuleFinding, ModuleRuleContext, RuleContext

_CLOSE_METHODS = frozenset({"close", "detach", "__exit__"})
# Heuristic ``socketserver-handler-attributes``: receivers that socketserver closes after the
# handler returns, and the name of the handler method.
_SERVER_OWNED = re.compile(r"^self\.(request|connection)$")


def _server_owned(settings: Settings, receiver: str) -> bool:
    return heuristics.enabled(settings, "socketserver-handler-attributes") and bool(
        _SERVER_OWNED.match(receiver)
    )


def _tracked(facts: FunctionFacts, e: Event) -> bool:
    """A socket this function owns and the engine follows (its leaks are SKL1xx findings)."""
    return any(facts.resources[r].reportable for r in e.rids if r in facts.resources)


def _closes(facts: FunctionFacts, e: Event) -> list[Event]:
    return [x for x in events_of(facts, e) if x.method in _CLOSE_METHODS]


def check_closing(ctx: RuleContext) -> Iterator[Finding]:
    facts = ctx.facts
    ev: Evaluator | None = None
    for e in facts.events:
        if e.kind == "method" and e.method == "shutdown":
            ev = ev or module_facts_of(ctx).evaluator_for(facts.func)
            if _socket_shutdown(ctx.settings, e, ev):
                yield from _shutdown(ctx, e)
    yield from _unread_on_close(ctx)


# Heuristic ``closer-function-name``: a function whose job is to close the socket it is given.
_CLOSER_NAME = re.compile(
    r"close|disconnect|cleanup|clean_up|teardown|tear_down|stop|terminate|finish|release|kill|abort|shutdown|hangup|drop",
    re.IGNORECASE,
)
# Heuristic ``socket-receiver-name``.
_SOCKETY = re.compile(
    r"sock|conn|request|client|peer|upstream|downstream|remote|stream|channel|transport",
    re.IGNORECASE,
)


def _socket_shutdown(settings: Settings, e: Event, ev: Evaluator) -> bool:
    """``socket.shutdown(how)`` rather than ``executor.shutdown(wait=True)`` or
    ``server.shutdown()``: one positional argument, a SHUT_* constant or 0..2, or a receiver
    named like a socket."""
    call = e.node
    if not isinstance(call, cst.Call):
        return False
    args = positional_args(call)
    if args is None or len(args) != 1 or any(a.keyword is not None for a in call.args):
        return False
    if isinstance(args[0], cst.Name) and args[0].value in ("True", "False", "None"):
        return False  # ``executor.shutdown(False)``
    v = ev.cst_value(args[0])
    if isinstance(v, Sym):
        return v.name in ("socket.SHUT_RD", "socket.SHUT_WR", "socket.SHUT_RDWR")
    if isinstance(v, int):
        return v in (0, 1, 2)
    return bool(e.rids) or bool(
        e.receiver
        and heuristics.enabled(settings, "socket-receiver-name")
        and _SOCKETY.search(e.receiver)
    )


def _borrowed(facts: FunctionFacts, e: Event) -> bool:
    """A parameter, a plain local, or an attribute of one (``conn.sock``): the socket belongs to
    the caller. ``self.X`` is the object's own."""
    if e.rids:
        return all(facts.resources[r].origin == "param" for r in e.rids if r in facts.resources)
    return e.receiver is not None and e.receiver.split(".", 1)[0] not in ("self", "cls")


def _shutdown(ctx: RuleContext, s: Event) -> Iterator[Finding]:
    facts = ctx.facts
    if _tracked(facts, s):
        return  # the flow engine reports what happens to sockets it owns (SKL101-SKL103)
    later = [c for c in _closes(facts, s) if c.order > s.order]
    if not later:
        yield from _shutdown_without_close(ctx, s)
        return
    closer = heuristics.enabled(ctx.settings, "closer-function-name") and bool(
        _CLOSER_NAME.search(facts.name)
    )
    if _borrowed(facts, s) and not closer:
        return  # the caller owns it (and usually closes it in its own ``finally``)
    catching = next((r for r in reversed(s.regions) if r[1] in ("try-os", "suppress")), None)
    if catching is not None:
        # The OSError is caught here; the close is skipped only when it sits in the same body.
        if all(catching in c.regions for c in later):
            yield _skl303(later[0], s, "in the same `try` body")
        return
    # Nothing here catches OSError: the exception leaves this block, and only a close in a
    # `finally` of an enclosing `try` still runs.
    enclosing = {rid for rid, kind in s.regions if kind in ("try", "try-os")}
    if any(rid in enclosing and kind == "finally" for c in later for rid, kind in c.regions):
        return
    yield _skl303(later[0], s, "after it")


def _skl303(close: Event, s: Event, where: str) -> Finding:
    return Finding(
        "SKL303",
        s.node,
        f"shutdown() raises OSError (ENOTCONN) when the peer has already reset the connection, and then the "
        f"close() {where} (line {{0}}) never runs and the descriptor leaks; put close() in `finally` or wrap "
        f"shutdown() in `try/except OSError`",
        (close.node,),
    )


def _shutdown_without_close(ctx: RuleContext, s: Event) -> Iterator[Finding]:
    recv = s.receiver
    if (
        recv is None
        or not recv.startswith("self.")
        or recv.count(".") != 1
        or _server_owned(ctx.settings, recv)
    ):
        return  # locals, parameters, other objects' sockets: their owners account for them
    mf = module_facts_of(ctx)
    how = positional_args(s.node) if isinstance(s.node, cst.Call) else None
    v = ctx_how = None
    if how:
        v = mf.evaluator_for(ctx.facts.func).cst_value(how[0])
        ctx_how = v.name if isinstance(v, Sym) else v
    if ctx_how not in ("socket.SHUT_RDWR", 2):
        return  # a half-close (SHUT_WR / SHUT_RD) keeps using the socket; the full close comes later
    if ctx.facts.name == "shutdown" and heuristics.enabled(ctx.settings, "shutdown-wrapper-name"):
        return  # a wrapper forwarding shutdown() to the socket it wraps; its owner closes
    attr = recv.rsplit(".", 1)[-1]
    if attr in mf.closed_attrs:
        return
    sources = mf.attr_sources.get(attr)
    if sources and all(_server_owned(ctx.settings, src) for src in sources):
        return  # `self.sock = self.request` (or its `_sock`): the server's socket under another name
    yield Finding(
        "SKL304",
        s.node,
        f"`{recv}` is shut down but never closed in this module: shutdown() sends FIN but keeps the descriptor "
        f"open until garbage collection; call `{recv}.close()` after it",
    )


# --- SKL301: a server-side connection closed with the request unread --------------------------------


def _loops(e: Event) -> tuple[tuple[int, str], ...]:
    return tuple(r for r in e.regions if r[1] == "loop")


def _unread_on_close(ctx: RuleContext) -> Iterator[Finding]:
    """A server-side TCP connection answered and then closed on a path that leaves before the
    rest of the request is read: the function reads the connection again after the reply,
    so there is more to read, and the reply's branch exits first (``return``, ``continue``,
    ``break``, ``raise``). Closing with that input unread sends RST, which can destroy the
    reply. Nothing is reported on the one path every connection takes (one bounded read, a
    reply, a close): whether the client sent more than the read took cannot be seen."""
    facts = ctx.facts
    if facts.func is None:
        return  # module-level code: no statement tree to find the reply's exit in
    groups: list[tuple[Event | None, list[Event], bool]] = []  # (accept event, events, handler?)
    for rid, res in facts.resources.items():
        if res.origin != "accept":
            continue
        acc = next(
            (x for x in facts.events if x.method in ("accept", "_accept") and x.node is res.node),
            None,
        )
        if not _tcp_accept(ctx, acc):
            continue
        evs = [x for x in facts.events if rid in x.rids]
        groups.append((acc, evs, False))
    if facts.name == "handle" and heuristics.enabled(ctx.settings, "socketserver-handler-attributes"):
        evs = [
            x
            for x in facts.events
            if not x.rids and x.receiver is not None and _SERVER_OWNED.match(x.receiver)
        ]
        if evs and not _unix_handler(ctx):
            groups.append((None, evs, True))
    parents: dict[int, cst.CSTNode] | None = None
    for acc, evs, handler in groups:
        reads = [x for x in evs if x.method in RECV_METHODS]
        if not reads or any(x.method in ("makefile", "shutdown") or x.method.startswith("recvfrom") for x in evs):
            continue  # no request read here; a makefile() reader; a lingering close; datagrams
        if not handler and not any(x.method in _CLOSE_METHODS for x in evs):
            continue  # nothing here closes it: whoever it goes to may read the rest
        if sock_type(facts, module_facts_of(ctx), reads[0]) in ("dgram", "unix"):
            continue
        base_loops = _loops(acc) if acc is not None else ()
        for reply in evs:
            if reply.method not in SEND_METHODS or _loops(reply) != base_loops:
                continue  # a reply inside a per-message loop: its next pass reads again
            later = [r for r in reads if r.order > reply.order]
            if not later:
                continue  # the reply on the path that has read what it reads
            if parents is None:
                parents = _parents(facts.func)
            found = _exit_after(reply.node, {id(r.node) for r in reads}, parents)
            if found is None:
                continue
            exit_stmt, branch = found
            if any(
                x.method in SEND_METHODS and reply.order < x.order < later[0].order and id(x.node) not in branch
                for x in evs
            ):
                # `send(b"__ACCEPTED__")` or a banner before the later read: the client waits
                # for it before it sends the rest, so at the early exit nothing is unread.
                continue
            yield Finding(
                "SKL301",
                reply.node,
                f"this reply is followed by `{exit_stmt}` before the rest of the request is read (line {{0}}): "
                "closing the connection with that input unread sends RST instead of FIN, and the client can "
                "lose the reply; read the request to its end first, or shutdown(SHUT_WR) then drain with a "
                "timeout before closing",
                (later[0].node,),
            )
            break


def _tcp_accept(ctx: RuleContext, acc: Event | None) -> bool:
    """The connection from ``acc`` may be TCP: its listener is not an AF_UNIX socket, a
    ``socketpair()`` end or a datagram socket (a parameter's family is not known: it may)."""
    if acc is None:
        return True
    for r in acc.rids:
        res = ctx.facts.resources.get(r)
        if res is not None and (res.family == "unix" or res.origin == "socketpair" or res.sock_type == "dgram"):
            return False
    recv = acc.receiver
    if not acc.rids and recv and recv.startswith("self.") and recv.count(".") == 1:
        fams = module_facts_of(ctx).attr_families.get(recv[5:], set())
        if fams == {"unix"}:
            return False
    return True


def _unix_handler(ctx: RuleContext) -> bool:
    """Every module class with this ``handle()`` is handed to a Unix-socket server."""
    mf = module_facts_of(ctx)
    owners = {c.node.name for c in mf.classes if any(m.node.name == ctx.facts.name for m in c.methods)}
    return bool(owners) and owners <= mf.unix_handlers


def _parents(func: cst.CSTNode) -> dict[int, cst.CSTNode]:
    out: dict[int, cst.CSTNode] = {}
    for n in walk(func):
        for c in n.children:
            out[id(c)] = n
    return out


_EXITS: dict[type[cst.BaseSmallStatement], str] = {
    cst.Return: "return",
    cst.Continue: "continue",
    cst.Break: "break",
    cst.Raise: "raise",
}


def _exit_after(
    call: cst.CSTNode, reads: set[int], parents: dict[int, cst.CSTNode]
) -> tuple[str, set[int]] | None:
    """The exit (``return``, ``continue``, ``break``, ``raise``) that follows ``call`` in its
    own block with no read of ``reads`` in between, with the ids of the nodes from ``call``'s
    statement to the exit; or None."""
    small: cst.CSTNode | None = call
    while small is not None and not isinstance(parents.get(id(small)), (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
        small = parents.get(id(small))
    line = parents.get(id(small)) if small is not None else None
    if small is None or not isinstance(line, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
        return None
    following: list[cst.CSTNode] = list(line.body[line.body.index(small) + 1 :])
    block = parents.get(id(line))
    if isinstance(line, cst.SimpleStatementLine) and isinstance(block, cst.IndentedBlock):
        following += list(block.body[block.body.index(line) + 1 :])
    branch = {id(n) for n in walk(small)}
    for stmt in following:
        nodes = list(walk(stmt))
        if any(id(n) in reads for n in nodes):
            return None  # `return conn.recv(n)`: the read comes first
        branch.update(id(n) for n in nodes)
        for n in nodes:
            kind = _EXITS.get(type(n))  # type: ignore[arg-type]
            if kind is not None and _same_scope(n, stmt, parents):
                return kind, branch
    return None


def _same_scope(n: cst.CSTNode, top: cst.CSTNode, parents: dict[int, cst.CSTNode]) -> bool:
    """``n`` leaves the block ``top`` belongs to: it is ``top`` or sits in a plain simple line
    of ``top`` (an exit in a nested ``if``/``try`` is one path among others)."""
    p = parents.get(id(n))
    return n is top or (p is top and isinstance(top, (cst.SimpleStatementLine, cst.SimpleStatementSuite)))


# --- whole-module checks: HTTP handlers and shared sockets ---------------------------------------------

_ANSWERS_BEFORE_BODY = ("do_POST", "do_PUT", "do_PATCH")  # http.server hooks that receive a body


def check_module_closing(mctx: ModuleRuleContext) -> Iterator[ModuleFinding]:
    mf = module_facts_of(mctx)
    imports = mctx.imports
    for info in mf.classes:
        if not info.methods:
            continue
        if any(m.node.name in _ANSWERS_BEFORE_BODY for m in info.methods) and inherits(
            mf, info.node, imports, HTTP_HANDLERS
        ):
            for m in info.methods:
                if m.node.name in _ANSWERS_BEFORE_BODY:
                    yield from _http_answer_before_body(m.node)
        yield from _shared_close(info, imports)


def _calls(node: ast.AST) -> Iterator[ast.Call]:
    for n in ast.walk(node):
        if isinstance(n, ast.Call):
            yield n


def _is_self_call(call: ast.Call, *names: str) -> bool:
    d = dotted_name(call.func)
    return d is not None and d in names


def _http_answer_before_body(m: ast.FunctionDef | ast.AsyncFunctionDef) -> Iterator[ModuleFinding]:
    """``do_POST`` answers (send_error / send_response) and returns before it reads the body
    it knows is coming (``Content-Length`` is looked at).

    Runs only on the body hooks of ``BaseHTTPRequestHandler`` subclasses, so it walks the
    method on its own rather than adding to the module walk."""
    src_has_length = any(
        isinstance(n, ast.Constant)
        and isinstance(n.value, str)
        and n.value.lower() == "content-length"
        for n in ast.walk(m)
    )
    if not src_has_length:
        return
    reads = [c for c in _calls(m) if _is_self_call(c, "self.rfile.read", "self.rfile.readinto")]
    if not reads:
        return
    first_read = min((c.lineno, c.col_offset) for c in reads)
    for stmt in ast.walk(m):
        if not isinstance(stmt, ast.If):
            continue
        if (stmt.lineno, stmt.col_offset) >= first_read:
            continue
        body_ends = any(isinstance(s, (ast.Return, ast.Raise)) for s in stmt.body)
        if not body_ends:
            continue
        inside: set[ast.Call] | None = None  # the calls of the whole ``if``, once needed
        for c in (c for s in stmt.body for c in _calls(s)):
            if _is_self_call(c, "self.send_error", "self.send_response"):
                if inside is None:
                    inside = set(_calls(stmt))
                if any(
                    (r.lineno, r.col_offset) < (c.lineno, c.col_offset)
                    for r in reads
                    if r in inside
                ):
                    continue
                yield ModuleFinding(
                    "SKL301",
                    c,
                    f"`{m.name}` answers and returns before reading the request body it expects: the server then "
                    "closes the connection with the body unread, the kernel sends RST, and the client can lose this "
                    "response (a large upload sees ECONNRESET); read or drain Content-Length bytes first",
                )
                break


_THREAD_STARTERS = frozenset(
    {"threading.Thread", "threading.Timer", "_thread.start_new_thread", "thread.start_new_thread"}
)


def _thread_targets(info: ClassInfo, imports: ImportTable) -> set[str]:
    """Methods of the class that run in another thread: ``Thread(target=self.m)``,
    ``start_new_thread(self.m, ...)``, or ``run`` of a ``threading.Thread`` subclass."""
    out: set[str] = set()
    if any(
        imports.qualify(d) == "threading.Thread"
        for d in (dotted_name(b) for b in info.node.bases)
        if d
    ):
        out.add("run")
    for c in info.calls:
        name = dotted_name(c.func)
        if not name or imports.qualify(name) not in _THREAD_STARTERS:
            continue
        cands = [kw.value for kw in c.keywords if kw.arg in ("target", "function")] + list(
            c.args[:2]
        )
        for a in cands:
            if (
                isinstance(a, ast.Attribute)
                and isinstance(a.value, ast.Name)
                and a.value.id == "self"
            ):
                out.add(a.attr)
    return out


def _self_attr_call(call: ast.Call) -> tuple[str, str] | None:
    """``self.X.m(...)`` -> (X, m)."""
    f = call.func
    if (
        isinstance(f, ast.Attribute)
        and isinstance(f.value, ast.Attribute)
        and isinstance(f.value.value, ast.Name)
        and f.value.value.id == "self"
    ):
        return f.value.attr, f.attr
    return None


def _shared_close(info: ClassInfo, imports: ImportTable) -> Iterator[ModuleFinding]:
    """``stop()`` closes ``self.sock`` while another method still reads it (a thread blocked in
    recv/accept is not woken by close), or while a makefile() object made from it stays open."""
    calls = info.calls
    has_makefile = any(isinstance(c.func, ast.Attribute) and c.func.attr == "makefile" for c in calls)
    threaded = _thread_targets(info, imports)
    if not threaded and not has_makefile:
        return  # no reader thread and no makefile(): nothing here can be closed under anyone
    blocked: dict[str, str] = {}  # attr -> method that reads it in a loop, in another thread
    files: dict[str, str] = {}  # makefile attr -> socket attr
    nonblocking: set[str] = set()
    for c in calls:
        sa = _self_attr_call(c)
        if sa and sa[1] in ("settimeout", "setblocking") and c.args:
            a = c.args[0]
            if not (
                isinstance(a, ast.Constant)
                and (a.value is None or (sa[1] == "setblocking" and a.value))
            ):
                nonblocking.add(sa[0])  # a reader with a timeout wakes up by itself
    for m in info.methods:
        if m.node.name in threaded:
            for c in m.loop_calls:
                sa = _self_attr_call(c)
                if sa and (sa[1] in RECV_METHODS or sa[1] == "accept") and sa[0] not in nonblocking:
                    blocked.setdefault(sa[0], m.node.name)
        for n in m.assigns:
            sa = _self_attr_call(n.value)  # type: ignore[arg-type]
            if sa and sa[1] == "makefile":
                for t in n.targets:
                    if (
                        isinstance(t, ast.Attribute)
                        and isinstance(t.value, ast.Name)
                        and t.value.id == "self"
                    ):
                        files[t.attr] = sa[0]
    if not blocked and not files:
        return
    for m in info.methods:
        if m.node.name in ("__init__", "__new__") or m.node.name in threaded:
            continue  # before the reader starts, or in the reader's own thread
        yield from _closes_under_reader(m, blocked, files)


def _closes_under_reader(
    m: MethodInfo, blocked: dict[str, str], files: dict[str, str]
) -> Iterator[ModuleFinding]:
    calls = sorted(m.calls, key=lambda c: (c.lineno, c.col_offset))
    seen: set[tuple[str, str]] = set()  # (X, method) of the ``self.X.method()`` calls so far
    closed_files = {sa[0] for sa in map(_self_attr_call, calls) if sa and sa[1] == "close"}
    for c in calls:
        sa = _self_attr_call(c)
        if sa and sa[1] == "close":
            attr = sa[0]
            if (attr, "shutdown") not in seen:
                reader = blocked.get(attr)
                if reader is not None:
                    yield ModuleFinding(
                        "SKL302",
                        c,
                        f"`self.{attr}.close()` without shutdown() while `{reader}()` may be blocked in a read on it in "
                        f"another thread: close() neither wakes that thread nor sends FIN while it holds the socket; "
                        f"call `self.{attr}.shutdown(socket.SHUT_RDWR)` first",
                    )
                else:
                    open_files = [f for f, s in files.items() if s == attr and f not in closed_files]
                    if open_files:
                        yield ModuleFinding(
                            "SKL302",
                            c,
                            f"`self.{attr}.close()` while `self.{open_files[0]}` (its makefile()) stays open: the "
                            f"descriptor and the connection stay open and the peer sees no EOF; close the file too, "
                            f"or shutdown() first",
                        )
        if sa:
            seen.add(sa)
