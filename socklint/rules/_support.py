"""Queries shared by the option and closing rules: which events concern the same socket, what
role a socket plays, and a few whole-module facts read once from the stdlib ``ast``.

Everything here reads the engine's facts (events, resources) or the module ``ast``; nothing
re-analyses control flow.
"""

from __future__ import annotations

import ast
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

import libcst as cst

from socklint.analysis.facts import Event, FunctionFacts
from socklint.analysis.options import MULTICAST_JOIN, Evaluator, truthy
from socklint.analysis.scan import ImportTable, dotted_name, socket_type_arg

SEND_METHODS = frozenset({"send", "sendall", "sendto", "sendmsg", "sendfile", "write"})
RECV_METHODS = frozenset(
    {"recv", "recv_into", "recvfrom", "recvfrom_into", "recvmsg", "recvmsg_into"}
)
PLATFORM_GUARD = re.compile(
    r"os\.name|sys\.platform|platform\.system|\bwin|WIN|mswindows|_windows|windows", re.IGNORECASE
)
TEST_PATH = re.compile(
    r"(^|[/\\])(tests?|testing|test_support)([/\\])|(^|[/\\])(test_[^/\\]*|[^/\\]*_tests?|conftest)\.py$"
)

# socketserver / http.server classes and what their socket is.
UDP_SERVERS = frozenset(
    {
        "socketserver.UDPServer",
        "socketserver.ThreadingUDPServer",
        "socketserver.ForkingUDPServer",
        "SocketServer.UDPServer",
        "SocketServer.ThreadingUDPServer",
        "SocketServer.ForkingUDPServer",
    }
)
TCP_SERVERS = frozenset(
    {
        "socketserver.TCPServer",
        "socketserver.ThreadingTCPServer",
        "socketserver.ForkingTCPServer",
        "SocketServer.TCPServer",
        "SocketServer.ThreadingTCPServer",
        "SocketServer.ForkingTCPServer",
        "http.server.HTTPServer",
        "http.server.ThreadingHTTPServer",
        "BaseHTTPServer.HTTPServer",
        "xmlrpc.server.SimpleXMLRPCServer",
        "xmlrpc.server.DocXMLRPCServer",
        "wsgiref.simple_server.WSGIServer",
    }
)
HTTP_HANDLERS = frozenset(
    {
        "http.server.BaseHTTPRequestHandler",
        "http.server.SimpleHTTPRequestHandler",
        "http.server.CGIHTTPRequestHandler",
        "BaseHTTPServer.BaseHTTPRequestHandler",
        "SimpleHTTPServer.SimpleHTTPRequestHandler",
        "wsgiref.simple_server.WSGIRequestHandler",
    }
)
PREFORK_CALLS = frozenset(
    {
        "os.fork",
        "os.forkpty",
        "multiprocessing.Process",
        "multiprocessing.Pool",
        "multiprocessing.get_context",
        "concurrent.futures.ProcessPoolExecutor",
        "subprocess.Popen",
        "os.posix_spawn",
    }
)


def same_socket(a: Event, b: Event) -> bool:
    """Whether two events concern the same socket: a tracked socket in common, or (for
    untracked receivers such as ``self.sock``) the same receiver text."""
    if a.rids and b.rids:
        return bool(a.rids & b.rids)
    if a.rids or b.rids:
        return False
    return a.receiver is not None and a.receiver == b.receiver


def events_of(facts: FunctionFacts, e: Event) -> list[Event]:
    return [x for x in facts.events if same_socket(x, e)]


def platform_guarded(e: Event) -> bool:
    return any(PLATFORM_GUARD.search(g) for g in e.guards)


def is_test_path(path: str) -> bool:
    return bool(path) and bool(TEST_PATH.search(path.replace("\\", "/")))


def call_arg(call: cst.CSTNode, index: int, keyword: str) -> cst.BaseExpression | None:
    if not isinstance(call, cst.Call):
        return None
    pos = [a for a in call.args if a.keyword is None and not a.star]
    for a in call.args:
        if a.keyword is not None and a.keyword.value == keyword:
            return a.value
    return pos[index].value if index < len(pos) else None


def _is_none(node: cst.BaseExpression | None) -> bool:
    return isinstance(node, cst.Name) and node.value == "None"


# --- whole-module facts ------------------------------------------------------------------------


@dataclass
class ModuleFacts:
    evaluator: Evaluator
    # ``self.NAME = socket.socket(..., SOCK_DGRAM)`` anywhere: attribute name -> types seen
    attr_types: dict[str, set[str]] = field(default_factory=dict)
    multicast: bool = False  # a multicast membership is joined somewhere in the module
    exclusive: bool = False  # SO_EXCLUSIVEADDRUSE appears
    prefork: bool = False  # the module forks or starts worker processes
    default_timeout: bool = False  # socket.setdefaulttimeout(<not None>) at some point
    closed_attrs: set[str] = field(default_factory=set)  # X in ``<anything>.X.close()``
    # class name -> qualified names of its bases, for module-local subclass chains
    class_bases: dict[str, list[str]] = field(default_factory=dict)


_cache_lock = threading.Lock()
_cache: list[tuple[ast.Module, ModuleFacts]] = []


def module_facts(tree: ast.Module, imports: ImportTable) -> ModuleFacts:
    """Computed once per file (the engine calls rules per function with the same tree)."""
    with _cache_lock:
        for t, mf in _cache:
            if t is tree:
                return mf
    mf = _compute(tree, imports)
    with _cache_lock:
        _cache[:] = [(tree, mf)]
    return mf


def _compute(tree: ast.Module, imports: ImportTable) -> ModuleFacts:
    ev = Evaluator(imports, tree)
    mf = ModuleFacts(ev)
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            mf.class_bases[node.name] = [
                imports.qualify(d) for d in (dotted_name(b) for b in node.bases) if d
            ]
        elif isinstance(node, (ast.Name, ast.Attribute)):
            last = node.id if isinstance(node, ast.Name) else node.attr
            if last in (
                "IP_ADD_MEMBERSHIP",
                "IPV6_JOIN_GROUP",
                "IPV6_ADD_MEMBERSHIP",
                "MCAST_JOIN_GROUP",
                "IP_ADD_SOURCE_MEMBERSHIP",
            ):
                mf.multicast = True
            elif last == "SO_EXCLUSIVEADDRUSE":
                mf.exclusive = True
        elif isinstance(node, ast.Call):
            name = dotted_name(node.func)
            q = imports.qualify(name) if name else ""
            if q in PREFORK_CALLS or (name or "").endswith((".fork", "fork_processes")):
                mf.prefork = True
            if (
                q == "socket.setdefaulttimeout"
                and node.args
                and not (isinstance(node.args[0], ast.Constant) and node.args[0].value is None)
            ):
                mf.default_timeout = True
            f = node.func
            if (
                isinstance(f, ast.Attribute)
                and f.attr in ("close", "detach")
                and isinstance(f.value, ast.Attribute)
            ):
                mf.closed_attrs.add(f.value.attr)
            if (
                isinstance(f, ast.Attribute) and f.attr in ("closing", "enter_context", "callback")
            ) or q == "contextlib.closing":
                for a in node.args:
                    if isinstance(a, ast.Attribute):
                        mf.closed_attrs.add(a.attr)
                        if a.attr in ("close", "detach") and isinstance(a.value, ast.Attribute):
                            mf.closed_attrs.add(a.value.attr)
            if isinstance(f, ast.Attribute) and f.attr == "setsockopt" and len(node.args) == 3:
                opt = ev.value(node.args[1])
                if getattr(opt, "name", None) in MULTICAST_JOIN:
                    mf.multicast = True
        elif isinstance(node, ast.Assign):
            for t in node.targets:
                if isinstance(t, ast.Attribute) and isinstance(node.value, ast.Call):
                    typ = _socket_call_type(node.value, imports, ev)
                    if typ is not None:
                        mf.attr_types.setdefault(t.attr, set()).add(typ)
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                if isinstance(item.context_expr, ast.Attribute):
                    mf.closed_attrs.add(item.context_expr.attr)
    return mf


def _socket_call_type(call: ast.Call, imports: ImportTable, ev: Evaluator) -> str | None:
    name = dotted_name(call.func)
    if not name:
        return None
    q = imports.qualify(name)
    if q in ("socket.create_connection", "socket.create_server"):
        return "stream"
    if q not in ("socket.socket", "_socket.socket"):
        return None
    typ = socket_type_arg(call)
    if typ is None:
        return "stream" if (not call.args and not call.keywords) or len(call.args) == 1 else None
    v = ev.value(typ)
    n = getattr(v, "name", None)
    return {"socket.SOCK_DGRAM": "dgram", "socket.SOCK_STREAM": "stream"}.get(n or "")


def inherits(
    mf: ModuleFacts, cls: ast.ClassDef, imports: ImportTable, targets: frozenset[str]
) -> bool:
    """Whether a class derives from one of ``targets`` (directly or through module classes)."""
    return _inherits(
        [imports.qualify(d) for d in (dotted_name(b) for b in cls.bases) if d], mf, targets
    )


def inherits_name(
    mf: ModuleFacts, name: str, imports: ImportTable, targets: frozenset[str]
) -> bool:
    """Whether the class called ``name`` here is one of ``targets`` or a module subclass of one."""
    return _inherits([imports.qualify(name)], mf, targets)


def _inherits(todo: list[str], mf: ModuleFacts, targets: frozenset[str]) -> bool:
    seen: set[str] = set()
    while todo:
        b = todo.pop()
        if b in targets:
            return True
        if b in seen:
            continue
        seen.add(b)
        todo.extend(mf.class_bases.get(b, []))
    return False


# --- per-socket queries ------------------------------------------------------------------------


def sock_type(facts: FunctionFacts, mf: ModuleFacts, e: Event) -> str | None:
    """stream / dgram / None for the socket of ``e``."""
    if e.rids:
        types = {facts.resources[r].sock_type for r in e.rids if r in facts.resources}
        fams = {facts.resources[r].family for r in e.rids if r in facts.resources}
        if "unix" in fams:
            return "unix"
        return types.pop() if len(types) == 1 else None
    if e.receiver and e.receiver.startswith("self.") and e.receiver.count(".") == 1:
        attr_types = mf.attr_types.get(e.receiver[5:], set())
        return next(iter(attr_types)) if len(attr_types) == 1 else None
    return None


def methods_of(facts: FunctionFacts, e: Event) -> dict[str, list[Event]]:
    out: dict[str, list[Event]] = {}
    for x in events_of(facts, e):
        out.setdefault(x.method, []).append(x)
    return out


def nonblocking(facts: FunctionFacts, e: Event, ev: Evaluator) -> tuple[str, cst.CSTNode] | None:
    """Why the socket of ``e`` is non-blocking at the OS level (text, node), or None."""
    for x in events_of(facts, e):
        if x.method == "settimeout":
            arg = call_arg(x.node, 0, "value")
            if arg is not None and not _is_none(arg):
                return "`settimeout()`", x.node
        if x.method == "setblocking":
            arg = call_arg(x.node, 0, "flag")
            if arg is not None and truthy(ev.cst_value(arg)) is False:
                return "`setblocking(False)`", x.node
    for rid in e.rids:
        res = facts.resources.get(rid)
        if res is not None and res.origin == "create_connection":
            t = call_arg(res.node, 1, "timeout")
            if t is not None and not _is_none(t):
                return "`create_connection(timeout=...)`", res.node
    return None


def first(items: Iterable[Event]) -> Event | None:
    for x in items:
        return x
    return None
