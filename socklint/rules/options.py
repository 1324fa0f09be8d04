"""SKL2xx: risky socket options (SO_LINGER, SO_REUSEADDR, SO_REUSEPORT).

Option calls count on any receiver (``sock``, ``self.sock``, ``server.socket``); the value is
decoded by :mod:`socklint.analysis.options` and reported only when it is statically known.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

import libcst as cst

from socklint import heuristics
from socklint.analysis.astutil import dotted_name
from socklint.analysis.facts import Event, Finding
from socklint.analysis.options import (
    Evaluator,
    Linger,
    SockOpt,
    Sym,
    as_linger,
    read_setsockopt,
    truthy,
)
from socklint.config import Settings
from socklint.diagnostics import Severity
from socklint.rules._support import (
    SEND_METHODS,
    TCP_SERVERS,
    UDP_SERVERS,
    ModuleFacts,
    inherits,
    inherits_name,
    is_test_path,
    methods_of,
    module_facts_of,
    nonblocking,
    platform_guarded,
    sock_type,
)
from socklint.rules.base import ModuleFinding, ModuleRuleContext, RuleContext

# Heuristic ``abort-function-name``: a function whose purpose is to abort connections (fault
# injection, RST tests, kill switches), told by the words of its name (snake_case and camelCase
# parts): ``drop_connection`` and ``resetPeer`` are aborts, ``serve_dropbox`` is not.
_ABORT_WORDS = frozenset(
    {
        "test", "tests", "testing",
        "abort", "aborts", "aborted", "aborting", "abortive",
        "reset", "resets", "resetting", "rst",
        "kill", "kills", "killed", "killing",
        "inject", "injects", "injected", "injecting", "injection", "injector",
        "chaos", "fault", "faults", "faulty", "toxic", "toxiproxy",
        "break", "breaks", "breaking",
        "drop", "drops", "dropped", "dropping",
        "terminate", "terminates", "terminated", "terminating", "termination",
    }
)  # fmt: skip
# Heuristic ``abort-guard``: a branch taken because the connection already failed or timed out
# (nginx's ``if (c->timedout)``), or one that chooses the close mode (Twisted's ``if orderly:``):
# the abortive close is deliberate there. A timeout *setting* (``if timeout:``,
# ``if self.timeout is not None:``) says nothing about the connection and does not count.
_MODE_WORDS = frozenset(
    {
        "abort", "aborts", "aborted", "aborting", "abortive",
        "reset", "resets", "resetting",
        "orderly", "graceful", "gracefully",
        "force", "forced", "forceful", "forcefully", "forcibly",
        "expired", "timedout",
    }
)  # fmt: skip
_TIME_LIMIT_WORDS = frozenset({"timeout", "timeouts", "deadline", "deadlines"})
# With a time limit word: the limit was hit (``timeout_exceeded``, ``deadline_passed``).
_HAPPENED_WORDS = frozenset({"exceeded", "elapsed", "occurred", "hit", "reached", "passed"})
_ORDERING = (ast.Lt, ast.LtE, ast.Gt, ast.GtE)
_SOL_SOCKET_INTS = (1, 0xFFFF)
# The option is a configuration choice made elsewhere: a flag (heuristic ``reuse-option-guard``)
# or a helper implementing it (heuristic ``reuse-setter-name``).
_CONFIGURED = re.compile(r"reuse|workers?\b|num_?procs|processes|fork", re.IGNORECASE)
_SETTER = re.compile(r"^_*(set|enable|apply)_?reuse", re.IGNORECASE)


def _describe(effect: tuple[bool, int | None] | None) -> str:
    if effect is None:
        return "nothing (EINVAL)"
    on, secs = effect
    if not on:
        return "linger off (a normal close)"
    if secs == 0:
        return "linger on with a 0 s timeout (an abortive close: RST)"
    if secs == -1:
        return "linger on with an endless timeout"
    return f"linger on with a {secs} s timeout"


def _level_ok(so: SockOpt) -> bool:
    lvl = so.level
    if isinstance(lvl, Sym):
        return lvl.name == "socket.SOL_SOCKET"
    if isinstance(lvl, int):
        return lvl in _SOL_SOCKET_INTS
    return lvl is None  # unknown level: the option constant decides


def check_options(ctx: RuleContext) -> Iterator[Finding]:
    facts = ctx.facts
    sets = [e for e in facts.events if e.kind == "method" and e.method == "setsockopt"]
    if not sets:
        return
    mf = module_facts_of(ctx)
    ev = mf.evaluator_for(facts.func)
    for e in sets:
        so = read_setsockopt(e.node, ev)
        if so is None or so.option is None or not _level_ok(so):
            continue
        if so.is_option("SO_LINGER"):
            yield from _linger(ctx, mf, ev, e, so)
        elif so.is_option("SO_REUSEADDR", "SO_REUSEPORT", "SO_EXCLUSIVEADDRUSE"):
            yield from _reuse(ctx, mf, ev, e, so)


# --- SO_LINGER -----------------------------------------------------------------------------------


def _linger(
    ctx: RuleContext, mf: ModuleFacts, ev: Evaluator, e: Event, so: SockOpt
) -> Iterator[Finding]:
    linger = as_linger(so.value)
    if linger is None:
        return
    swallowed = any(kind in ("try-os", "suppress") for _, kind in e.regions)
    guarded = platform_guarded(ctx.settings, e)
    if linger.posix is None:
        if not guarded:
            extra = (
                "; the `except OSError` around it hides the failure, so the option is silently never set"
                if swallowed
                else ""
            )
            yield Finding(
                "SKL202",
                e.node,
                f"SO_LINGER value is {len(linger.data)} bytes, but `struct linger` is two C ints (8 bytes) on "
                f"Linux and macOS: setsockopt() fails with EINVAL{extra}; pack it with struct.pack('ii', onoff, seconds)",
            )
        return
    intended = linger.intended_effect
    if intended is not None and linger.posix_effect != intended and not guarded:
        yield Finding(
            "SKL202",
            e.node,
            f"`struct.pack({linger.fmt!r}, ...)` packs {len(linger.data)} bytes; 64-bit Linux reads the first two "
            f"C ints {linger.posix}, which means {_describe(linger.posix_effect)} instead of "
            f"{_describe(intended)}; use struct.pack('ii', onoff, seconds)",
        )
        return
    if (
        ctx.settings.target_windows
        and intended is not None
        and Linger.effect(linger.windows) != intended
        and not guarded
    ):
        yield Finding(
            "SKL202",
            e.node,
            f"on Windows `struct linger` is two u_short (4 bytes): this value is read as {linger.windows}, which "
            f"means {_describe(Linger.effect(linger.windows))} instead of {_describe(intended)}; pack 'HH' on Windows",
        )
    if linger.zero:
        yield from _linger_zero(ctx, e)
    elif linger.nonzero:
        yield from _linger_nonblocking(ctx, mf, ev, e, linger)


def _abort_function(settings: Settings, name: str) -> bool:
    if not heuristics.enabled(settings, "abort-function-name"):
        return False
    ws = heuristics.words(name)
    return any(w in _ABORT_WORDS for w in ws) or any(
        a == "hard" and b == "close" for a, b in zip(ws, ws[1:])
    )


def _abort_guard(settings: Settings, e: Event) -> bool:
    return heuristics.enabled(settings, "abort-guard") and any(_deliberate(g) for g in e.guards)


def _deliberate(test: str) -> bool:
    """Whether the text of a test says the connection failed or timed out, or picks the close
    mode."""
    ws = heuristics.words(test)
    if any(w in _MODE_WORDS for w in ws) or any(
        a == "timed" and b == "out" for a, b in zip(ws, ws[1:])
    ):
        return True
    if not any(w in _TIME_LIMIT_WORDS for w in ws):
        return False
    if any(w in _HAPPENED_WORDS for w in ws):
        return True
    # ``time.monotonic() > deadline`` / ``elapsed >= self.timeout``: the limit compared with a
    # clock is a timeout that happened; ``timeout > 0`` compares the setting with a number.
    try:
        expr = ast.parse(test, mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False  # shortened text (``...``): only the words above decide
    for node in ast.walk(expr):
        if isinstance(node, ast.Compare) and any(isinstance(op, _ORDERING) for op in node.ops):
            sides = [node.left, *node.comparators]
            limits = [x for x in sides if _names_time_limit(x)]
            if limits and any(
                x not in limits and not isinstance(x, ast.Constant) for x in sides
            ):
                return True
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "isinstance"
            and len(node.args) == 2
            and _names_time_limit(node.args[1])
        ):
            return True  # ``isinstance(exc, socket.timeout)``: a timeout was raised
    return False


def _names_time_limit(expr: ast.expr) -> bool:
    return any(
        w in _TIME_LIMIT_WORDS
        for n in ast.walk(expr)
        if isinstance(n, (ast.Name, ast.Attribute))
        for w in heuristics.words(n.id if isinstance(n, ast.Name) else n.attr)
    )


def _listener(ctx: RuleContext, e: Event, ms: dict[str, list[Event]]) -> bool:
    """The socket of ``e`` listens: a ``listen()`` on it here, a listener role from the
    engine, or (heuristic ``socketserver-listener-method``) ``self.socket`` in socketserver's
    ``server_bind`` / ``server_activate``."""
    facts = ctx.facts
    return (
        bool(ms.get("listen"))
        or any(facts.resources[r].role == "listener" for r in e.rids if r in facts.resources)
        or (
            e.receiver == "self.socket"
            and facts.name in ("server_bind", "server_activate")
            and heuristics.enabled(ctx.settings, "socketserver-listener-method")
        )
    )


def _linger_zero(ctx: RuleContext, e: Event) -> Iterator[Finding]:
    facts = ctx.facts
    if is_test_path(ctx.settings, ctx.path) or _abort_function(ctx.settings, facts.name):
        return  # deliberate RST injection in a test suite or an abort helper
    if _abort_guard(ctx.settings, e):
        return  # an abort the code chose: a timed-out connection, a non-orderly close
    ms = methods_of(facts, e)
    listener = _listener(ctx, e, ms)
    sent = [x for m in SEND_METHODS for x in ms.get(m, []) if x.order < e.order]
    base = "SO_LINGER {on, 0}: every close() of this socket sends RST instead of FIN and discards unsent data; the peer gets ECONNRESET and may lose the tail of what was sent"
    if listener:
        yield Finding(
            "SKL201",
            e.node,
            base + ". On a listening socket every accepted connection inherits it",
            severity=Severity.ERROR,
        )
    elif e.in_except:
        yield Finding(
            "SKL201",
            e.node,
            base + ". Here it aborts a failed connection; suppress if that is intended",
            severity=Severity.INFO,
        )
    elif sent:
        yield Finding(
            "SKL201",
            e.node,
            base
            + " (data was sent on it at line {0}). To avoid TIME_WAIT, let the client close first instead",
            (sent[0].node,),
            severity=Severity.ERROR,
        )
    else:
        yield Finding(
            "SKL201", e.node, base + ". To avoid TIME_WAIT, let the client close first instead"
        )


def _linger_nonblocking(
    ctx: RuleContext, mf: ModuleFacts, ev: Evaluator, e: Event, linger: Linger
) -> Iterator[Finding]:
    facts = ctx.facts
    secs = linger.posix_effect[1] if linger.posix_effect else None
    why = nonblocking(facts, e, ev)
    tail = (
        "close() then blocks for up to {secs} s on Linux even though the socket is non-blocking (it stalls an event "
        "loop) and fails with WSAEWOULDBLOCK on Windows"
    ).format(secs="an unbounded number of" if secs == -1 else secs)
    if why is not None:
        text, node = why
        yield Finding(
            "SKL203",
            e.node,
            f"nonzero SO_LINGER on a socket made non-blocking by {text} at line {{0}}: {tail}",
            (node,),
        )
    elif isinstance(facts.func, cst.FunctionDef) and facts.func.asynchronous is not None:
        yield Finding(
            "SKL203",
            e.node,
            f"nonzero SO_LINGER set in a coroutine, on a socket an event loop drives: {tail}",
        )
    elif mf.default_timeout:
        yield Finding(
            "SKL203",
            e.node,
            f"nonzero SO_LINGER while `socket.setdefaulttimeout()` makes new sockets non-blocking: {tail}",
        )


# --- port reuse --------------------------------------------------------------------------------------


def _configured(settings: Settings, name: str, e: Event) -> bool:
    return (
        heuristics.enabled(settings, "reuse-setter-name") and bool(_SETTER.search(name))
    ) or (
        heuristics.enabled(settings, "reuse-option-guard")
        and any(_CONFIGURED.search(g) for g in e.guards)
    )


def _dominates(a: Event, b: Event) -> bool:
    """``a`` comes before ``b`` on every path that reaches ``b`` (approximately: ``a`` is in an
    enclosing block of ``b``, not in a sibling branch)."""
    return (
        a.order < b.order
        and b.regions[: len(a.regions)] == a.regions
        and b.guards[: len(a.guards)] == a.guards
    )


def _reuse(
    ctx: RuleContext, mf: ModuleFacts, ev: Evaluator, e: Event, so: SockOpt
) -> Iterator[Finding]:
    facts = ctx.facts
    opt = (so.option or "").rsplit(".", 1)[-1]
    if truthy(so.value) is not True:
        return
    ms = methods_of(facts, e)
    binds = ms.get("bind", [])
    early = [b for b in binds if _dominates(b, e)]
    if early:
        yield Finding(
            "SKL214",
            e.node,
            f"{opt} is set after bind() (line {{0}}): it only affects bind(), so here it has no effect; set it before bind()",
            (early[0].node,),
        )
        return
    if opt == "SO_EXCLUSIVEADDRUSE" or is_test_path(ctx.settings, ctx.path):
        return  # below: risks of a deployed program, not of a test suite
    if _configured(ctx.settings, facts.name, e):
        return  # ``if reuse_port:`` / ``def _set_reuseport(sock)``: the caller asked for it
    typ = sock_type(facts, mf, e)
    if typ == "unix":
        return
    connects = ms.get("connect", []) + ms.get("connect_ex", [])
    client_origin = any(
        facts.resources[r].origin == "create_connection" for r in e.rids if r in facts.resources
    )
    listener = _listener(ctx, e, ms)
    if opt == "SO_REUSEPORT":
        if mf.prefork(ctx.settings) or mf.socket_joins(facts, ev, e):
            return
        yield Finding(
            "SKL216",
            e.node,
            "SO_REUSEPORT: a second copy of this program binds the same port without an error and takes part of "
            "the traffic (Linux) or all of it (BSD, macOS); make sure sharing the port is intended",
        )
        return
    # SO_REUSEADDR
    if typ == "dgram":
        # Several receivers of one multicast group need the option: judged per socket.
        if not mf.socket_joins(facts, ev, e):
            yield Finding(
                "SKL211",
                e.node,
                "SO_REUSEADDR on a unicast UDP socket: any local process, even another user's, can bind the same "
                "port and receive its datagrams (bpo-37228); drop it, or use SO_REUSEPORT for same-user sharing",
            )
        return
    if (connects or client_origin) and not binds and not listener:
        yield Finding(
            "SKL215",
            e.node,
            "SO_REUSEADDR on a socket that only connects: the option affects bind() only, so it cures neither "
            "TIME_WAIT nor CLOSE_WAIT here; reuse connections or let the server close first",
        )
        return
    if (
        (listener or (binds and typ == "stream" and not connects))
        and not platform_guarded(ctx.settings, e)
        and not mf.exclusive
    ):
        yield Finding(
            "SKL213",
            e.node,
            "SO_REUSEADDR on a listener with no Windows guard: on Windows it lets another process bind this port "
            "while you listen (port hijacking); skip it when os.name == 'nt' or use SO_EXCLUSIVEADDRUSE there",
        )


# --- whole-module checks ---------------------------------------------------------------------------


def _truthy_ast(mf: ModuleFacts, expr: ast.expr) -> bool | None:
    return truthy(mf.evaluator.value(expr))


def check_module_options(mctx: ModuleRuleContext) -> Iterator[ModuleFinding]:
    if mctx.source.isascii() and _REUSE_TEXT.search(mctx.source) is None:
        # Every finding here is about address or port reuse (`allow_reuse_address`,
        # `reuse_port=`, `SO_REUSEADDR`): a module that never says "reuse" has none.
        # (Non-ASCII text is checked anyway: an identifier can be spelt in compatibility
        # characters that normalise to "reuse".)
        return
    mf = module_facts_of(mctx)
    for info in mf.classes:
        for stmt in info.node.body:
            if not (
                isinstance(stmt, ast.Assign)
                and len(stmt.targets) == 1
                and isinstance(stmt.targets[0], ast.Name)
            ):
                continue
            attr = stmt.targets[0].id
            if attr not in ("allow_reuse_address", "allow_reuse_port"):
                continue
            if _truthy_ast(mf, stmt.value) is not True:
                continue
            yield from _class_reuse(mctx, mf, info.node, stmt, attr)
    for call, _ in mf.calls:
        yield from _call_reuse(mctx, mf, call)
    yield from _instance_reuse_after_bind(mctx, mf)


_REUSE_TEXT = re.compile("reuse", re.IGNORECASE)


def _class_reuse(
    mctx: ModuleRuleContext, mf: ModuleFacts, cls: ast.ClassDef, stmt: ast.Assign, attr: str
) -> Iterator[ModuleFinding]:
    if is_test_path(mctx.settings, mctx.path):
        return
    udp = inherits(mf, cls, mctx.imports, UDP_SERVERS)
    tcp = inherits(mf, cls, mctx.imports, TCP_SERVERS)
    if attr == "allow_reuse_port":
        if (udp or tcp) and not mf.prefork(mctx.settings) and not mf.class_joins(cls):
            yield ModuleFinding(
                "SKL216",
                stmt,
                f"`allow_reuse_port = True` on `{cls.name}`: a second copy of this server binds the same port without "
                "an error and takes part (Linux) or all (BSD, macOS) of the traffic; make sure that is intended",
            )
        return
    if udp and not mf.class_joins(cls):
        yield ModuleFinding(
            "SKL211",
            stmt,
            f"`allow_reuse_address = True` on the UDP server `{cls.name}`: any local process, even another user's, can "
            "bind the same port and receive its datagrams (bpo-37228)",
        )
    elif tcp and not mf.exclusive:
        yield ModuleFinding(
            "SKL213",
            stmt,
            f"`allow_reuse_address = True` on `{cls.name}` applies on Windows too, where another process can then bind "
            "the port while this server listens (port hijacking); use `os.name != 'nt'`",
        )


# asyncio's server and endpoint methods, recognised by method name on any receiver (the event
# loop is rarely a name socklint can resolve); API model data.
_REUSE_CALLS = frozenset(
    {"create_server", "start_server", "create_datagram_endpoint", "start_unix_server"}
)


def _call_reuse(mctx: ModuleRuleContext, mf: ModuleFacts, call: ast.Call) -> Iterator[ModuleFinding]:
    f = call.func
    last = f.attr if isinstance(f, ast.Attribute) else (f.id if isinstance(f, ast.Name) else "")
    if last not in _REUSE_CALLS:
        return
    kws = {kw.arg: kw for kw in call.keywords if kw.arg}
    if last == "create_datagram_endpoint" and "reuse_address" in kws:
        yield ModuleFinding(
            "SKL212",
            kws["reuse_address"].value,
            "`create_datagram_endpoint(reuse_address=...)` raises ValueError (True) since Python 3.8.1 and TypeError "
            "since 3.11, where the parameter was removed for security (bpo-37228); remove it",
        )
    if is_test_path(mctx.settings, mctx.path):
        return
    # The endpoint's socket is reached later through its transport, which the module facts do
    # not follow: a multicast join anywhere in the module counts for it.
    if (
        "reuse_port" in kws
        and _truthy_ast(mf, kws["reuse_port"].value)
        and not mf.prefork(mctx.settings)
        and not mf.multicast_anywhere
    ):
        yield ModuleFinding(
            "SKL216",
            kws["reuse_port"].value,
            f"`{last}(reuse_port=True)`: a second copy of this program binds the same port without an error and takes "
            "part (Linux) or all (BSD, macOS) of the traffic; make sure sharing the port is intended",
        )
    if (
        last in ("create_server", "start_server")
        and "reuse_address" in kws
        and _truthy_ast(mf, kws["reuse_address"].value)
        and not mf.exclusive
    ):
        yield ModuleFinding(
            "SKL213",
            kws["reuse_address"].value,
            f"`{last}(reuse_address=True)` also applies on Windows, where another process can then bind the port while "
            "you listen; leave the default (POSIX only)",
        )


def _server_class(mf: ModuleFacts, mctx: ModuleRuleContext, call: ast.expr) -> bool:
    """``call`` constructs a socketserver-style server that binds in ``__init__``."""
    if not isinstance(call, ast.Call):
        return False
    name = dotted_name(call.func)
    if not name:
        return False
    servers = TCP_SERVERS | UDP_SERVERS
    if not inherits_name(mf, name, mctx.imports, servers):
        return False
    for kw in call.keywords:
        if kw.arg == "bind_and_activate" and _truthy_ast(mf, kw.value) is not True:
            return False
    if len(call.args) >= 3:
        return _truthy_ast(mf, call.args[2]) is True
    return True


def _instance_reuse_after_bind(mctx: ModuleRuleContext, mf: ModuleFacts) -> Iterator[ModuleFinding]:
    """``srv = HTTPServer(...)`` then ``srv.allow_reuse_address = True``: socketserver binds in
    ``__init__``, so the assignment (or ``srv.socket.setsockopt(SO_REUSEADDR)``) comes too late."""
    for block in mf.blocks:
        servers: dict[str, ast.stmt] = {}
        for stmt in block:
            if (
                isinstance(stmt, ast.Assign)
                and len(stmt.targets) == 1
                and isinstance(stmt.targets[0], ast.Name)
            ):
                if isinstance(stmt.value, ast.Call) and _server_class(mf, mctx, stmt.value):
                    servers[stmt.targets[0].id] = stmt
                    continue
                servers.pop(stmt.targets[0].id, None)
                # fallthrough: an assignment to an attribute of a server
            if not servers:
                continue
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
                t = stmt.targets[0]
                if (
                    isinstance(t, ast.Attribute)
                    and t.attr in ("allow_reuse_address", "allow_reuse_port")
                    and isinstance(t.value, ast.Name)
                    and t.value.id in servers
                    and _truthy_ast(mf, stmt.value)
                ):
                    yield ModuleFinding(
                        "SKL214",
                        stmt,
                        f"`{t.value.id}.{t.attr}` is set after the server was created (line "
                        f"{servers[t.value.id].lineno}), which already bound its socket in __init__: no effect; "
                        "set it as a class attribute or pass bind_and_activate=False",
                    )
            elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
                call = stmt.value
                f = call.func
                if (
                    isinstance(f, ast.Attribute)
                    and f.attr == "setsockopt"
                    and len(call.args) == 3
                    and isinstance(f.value, ast.Attribute)
                    and f.value.attr == "socket"
                    and isinstance(f.value.value, ast.Name)
                    and f.value.value.id in servers
                ):
                    opt = mf.evaluator.value(call.args[1])
                    if (
                        isinstance(opt, Sym)
                        and opt.name in ("socket.SO_REUSEADDR", "socket.SO_REUSEPORT")
                        and _truthy_ast(mf, call.args[2])
                    ):
                        yield ModuleFinding(
                            "SKL214",
                            call,
                            f"`{opt.name.split('.')[-1]}` is set on `{f.value.value.id}.socket` after the server was "
                            f"created (line {servers[f.value.value.id].lineno}) and bound: no effect; set "
                            "`allow_reuse_address` as a class attribute",
                        )
