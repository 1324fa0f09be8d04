"""Queries shared by the option and closing rules: which events concern the same socket, what
role a socket plays, and the whole-module facts (:class:`ModuleFacts`) gathered in one walk of the
stdlib ``ast`` per file.

Everything here reads the engine's facts (events, resources) or the module facts; nothing
re-analyses control flow, and nothing is cached between files.
"""

from __future__ import annotations

import ast
import re
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Optional

import libcst as cst

from socklint import heuristics
from socklint.analysis.astutil import SINGLETONS, dotted_name
from socklint.analysis.facts import Event, FunctionFacts
from socklint.analysis.options import MULTICAST_JOIN, Evaluator, Sym, read_setsockopt, truthy
from socklint.analysis.scan import ImportTable, socket_type_arg
from socklint.config import Settings

if TYPE_CHECKING:
    from socklint.rules.base import ModuleRuleContext, RuleContext

SEND_METHODS = frozenset({"send", "sendall", "sendto", "sendmsg", "sendfile", "write"})
RECV_METHODS = frozenset(
    {"recv", "recv_into", "recvfrom", "recvfrom_into", "recvmsg", "recvmsg_into"}
)
# Heuristic ``platform-guard``: a test that reads the platform (``sys.platform == "win32"``,
# ``os.name != "nt"``, ``platform.system() == "Windows"``) or names one as an identifier word
# (``IS_WINDOWS``, ``WIN32``, ``mswindows``, ``isDarwin``). Whole words only: ``if window:`` and
# ``if winner:`` are not platform tests.
_PLATFORM_READS = re.compile(r"os\.name|sys\.platform|platform\.system", re.IGNORECASE)
_PLATFORM_WORDS = frozenset(
    {"win", "windows", "mswindows", "cygwin", "nt", "darwin", "winapi", "winreg", "getwindowsversion"}
)
# Heuristic ``test-file-path``.
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
# Servers on AF_UNIX sockets: their handlers' `self.request` is never a TCP connection.
UNIX_SERVERS = frozenset(
    {
        "socketserver.UnixStreamServer",
        "socketserver.ThreadingUnixStreamServer",
        "socketserver.ForkingUnixStreamServer",
        "socketserver.UnixDatagramServer",
        "socketserver.ThreadingUnixDatagramServer",
        "socketserver.ForkingUnixDatagramServer",
        "SocketServer.UnixStreamServer",
        "SocketServer.ThreadingUnixStreamServer",
        "SocketServer.UnixDatagramServer",
        "SocketServer.ThreadingUnixDatagramServer",
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


def platform_test(text: str) -> bool:
    """Whether the text of a test reads or names a platform."""
    return bool(_PLATFORM_READS.search(text)) or heuristics.has_word(text, _PLATFORM_WORDS)


def platform_guarded(settings: Settings, e: Event) -> bool:
    return heuristics.enabled(settings, "platform-guard") and any(platform_test(g) for g in e.guards)


def is_test_path(settings: Settings, path: str) -> bool:
    return (
        bool(path)
        and heuristics.enabled(settings, "test-file-path")
        and bool(TEST_PATH.search(path.replace("\\", "/")))
    )


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

# Names whose mere mention the module facts record while walking.
_JOIN_NAMES = frozenset(name.rsplit(".", 1)[1] for name in MULTICAST_JOIN)
_EXCLUSIVE = "SO_EXCLUSIVEADDRUSE"
_WATCHED_NAMES = _JOIN_NAMES | {_EXCLUSIVE}
_BLOCK_FIELDS = frozenset({"body", "orelse", "finalbody"})
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)


@dataclass
class MethodInfo:
    """A function defined directly in a class body, and what the module rules ask about it."""

    node: ast.FunctionDef | ast.AsyncFunctionDef
    calls: list[ast.Call] = field(default_factory=list)  # every call inside, in walk order
    loop_calls: list[ast.Call] = field(default_factory=list)  # calls inside a ``while`` of it
    assigns: list[ast.Assign] = field(default_factory=list)  # ``target = <call>`` inside


@dataclass
class ClassInfo:
    node: ast.ClassDef
    methods: list[MethodInfo] = field(default_factory=list)  # in body order
    calls: list[ast.Call] = field(default_factory=list)  # every call inside, in walk order


# Where a node sits: the enclosing classes, outermost first, each with the method of that class
# the node is in (None in the class body itself) and whether a ``while`` of that method
# encloses it; and the innermost enclosing function.
_Frame = tuple[ClassInfo, Optional[MethodInfo], bool]
_Scope = tuple[tuple[_Frame, ...], Optional[ast.AST]]
_TOP: _Scope = ((), None)


class ModuleFacts:
    """What the option and closing rules need from a module's ``ast``, gathered in one walk.

    The engine builds one per file and hands it to every rule (module rules and function
    rules). The walk records node lists and a few flags; anything that needs the value
    evaluator (socket types of ``self.X``, multicast joins, ...) is derived from those lists on
    first use, so a file whose rules never ask pays for the walk only.
    """

    def __init__(self, tree: ast.Module, imports: ImportTable) -> None:
        self.tree = tree
        self.imports = imports
        self.classes: list[ClassInfo] = []  # in ``ast.walk`` order
        # class name -> qualified names of its bases, for module-local subclass chains
        self.class_bases: dict[str, list[str]] = {}
        self.calls: list[tuple[ast.Call, _Scope]] = []  # every call, in ``ast.walk`` order
        self.blocks: list[list[ast.stmt]] = []  # statement lists (body / orelse / finalbody)
        self.join_mentioned = False  # a multicast-join constant is named somewhere
        self.exclusive = False  # SO_EXCLUSIVEADDRUSE is named somewhere
        self.closed_attrs: set[str] = set()  # X in ``<anything>.X.close()``, ``closing(a.X)``...
        self._attr_assigns: list[tuple[str, ast.Call]] = []  # ``<obj>.X = <call>``
        # X -> the attributes of ``self`` it is set from: ``self.X = self.Y`` or ``self.Y.Z``
        self.attr_sources: dict[str, set[str]] = {}
        self._evaluators: dict[int, tuple[cst.CSTNode, Evaluator]] = {}
        self._walk(tree)

    # -- the walk ---------------------------------------------------------------------------

    def _walk(self, tree: ast.Module) -> None:
        # Breadth first, like ``ast.walk``: every list above keeps ``ast.walk``'s order, and a
        # subtree's nodes keep the order ``ast.walk(subtree)`` would give them.
        queue: deque[tuple[ast.AST, _Scope]] = deque([(tree, _TOP)])
        pop, push = queue.popleft, queue.append
        while queue:
            node, scope = pop()
            inner = scope
            method_scopes: dict[int, _Scope] | None = None
            t = type(node)
            if t is ast.Call:
                self._call(node, scope)  # type: ignore[arg-type]
            elif t is ast.Name:
                self._mention(node.id)  # type: ignore[attr-defined]
            elif t is ast.Attribute:
                self._mention(node.attr)  # type: ignore[attr-defined]
            elif t is ast.Assign:
                self._assign(node, scope)  # type: ignore[arg-type]
            elif t is ast.With or t is ast.AsyncWith:
                for item in node.items:  # type: ignore[attr-defined]
                    if isinstance(item.context_expr, ast.Attribute):
                        self.closed_attrs.add(item.context_expr.attr)
            elif t is ast.ClassDef:
                info = ClassInfo(node)  # type: ignore[arg-type]
                self.classes.append(info)
                self.class_bases[node.name] = [  # type: ignore[attr-defined]
                    self.imports.qualify(d)
                    for d in (dotted_name(b) for b in node.bases)  # type: ignore[attr-defined]
                    if d
                ]
                frames = (*scope[0], (info, None, False))
                inner = (frames, scope[1])
                method_scopes = {}
                for m in node.body:  # type: ignore[attr-defined]
                    if isinstance(m, _FUNCTIONS):
                        mi = MethodInfo(m)
                        info.methods.append(mi)
                        method_scopes[id(m)] = ((*scope[0], (info, mi, False)), scope[1])
            elif t is ast.FunctionDef or t is ast.AsyncFunctionDef:
                inner = (scope[0], node)
            elif t is ast.While and scope[0]:
                inner = (
                    tuple((c, m, m is not None) for c, m, _ in scope[0]),
                    scope[1],
                )
            for name in node._fields:
                value = getattr(node, name, None)
                if isinstance(value, ast.AST):
                    if value.__class__ not in SINGLETONS:  # `Load()`, `Add()`: nothing below
                        push((value, inner))
                elif isinstance(value, list):
                    if name in _BLOCK_FIELDS and value and isinstance(value[0], ast.stmt):
                        self.blocks.append(value)
                    for item in value:
                        if isinstance(item, ast.AST):
                            if method_scopes is not None and id(item) in method_scopes:
                                push((item, method_scopes[id(item)]))
                            else:
                                push((item, inner))

    def _mention(self, name: str) -> None:
        if name in _WATCHED_NAMES:
            if name == _EXCLUSIVE:
                self.exclusive = True
            else:
                self.join_mentioned = True

    def _call(self, node: ast.Call, scope: _Scope) -> None:
        self.calls.append((node, scope))
        for info, method, in_loop in scope[0]:
            info.calls.append(node)
            if method is not None:
                method.calls.append(node)
                if in_loop:
                    method.loop_calls.append(node)
        f = node.func
        if not isinstance(f, ast.Attribute):
            if isinstance(f, ast.Name) and self.imports.qualify(f.id) == "contextlib.closing":
                self._closing_args(node)
            return
        if f.attr in ("close", "detach") and isinstance(f.value, ast.Attribute):
            self.closed_attrs.add(f.value.attr)
        elif f.attr in ("closing", "enter_context", "callback"):
            self._closing_args(node)

    def _closing_args(self, node: ast.Call) -> None:
        for a in node.args:
            if isinstance(a, ast.Attribute):
                self.closed_attrs.add(a.attr)
                if a.attr in ("close", "detach") and isinstance(a.value, ast.Attribute):
                    self.closed_attrs.add(a.value.attr)

    def _assign(self, node: ast.Assign, scope: _Scope) -> None:
        if isinstance(node.value, ast.Attribute):
            root = node.value
            while isinstance(root.value, ast.Attribute):
                root = root.value
            if isinstance(root.value, ast.Name) and root.value.id == "self":
                for t in node.targets:
                    if isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == "self":
                        self.attr_sources.setdefault(t.attr, set()).add(f"self.{root.attr}")
        if not isinstance(node.value, ast.Call):
            return
        for _, method, _ in scope[0]:
            if method is not None:
                method.assigns.append(node)
        for t in node.targets:
            if isinstance(t, ast.Attribute):
                self._attr_assigns.append((t.attr, node.value))

    # -- derived on first use ----------------------------------------------------------------

    @cached_property
    def evaluator(self) -> Evaluator:
        return Evaluator(self.imports, self.tree)

    def evaluator_for(self, func: cst.CSTNode | None) -> Evaluator:
        """The evaluator with ``func``'s local bindings, read once per function (the rules of
        one function share it)."""
        if func is None:
            return self.evaluator.for_function(None)
        hit = self._evaluators.get(id(func))
        if hit is None:
            # The node is kept with its evaluator so that its id cannot be reused meanwhile.
            hit = (func, self.evaluator.for_function(func))
            self._evaluators[id(func)] = hit
        return hit[1]

    @cached_property
    def attr_types(self) -> dict[str, set[str]]:
        """``self.NAME = socket.socket(..., SOCK_DGRAM)`` anywhere: attribute name -> types."""
        out: dict[str, set[str]] = {}
        for attr, call in self._attr_assigns:
            typ = _socket_call_type(call, self.imports, self.evaluator)
            if typ is not None:
                out.setdefault(attr, set()).add(typ)
        return out

    @cached_property
    def attr_families(self) -> dict[str, set[str]]:
        """``self.NAME = socket.socket(socket.AF_UNIX, ...)`` anywhere: attribute name -> the
        families it is made with ("unix", "inet", "inet6"; "?" where the family is not a
        constant)."""
        out: dict[str, set[str]] = {}
        for attr, call in self._attr_assigns:
            name = dotted_name(call.func)
            if name and self.imports.qualify(name) in ("socket.socket", "_socket.socket"):
                out.setdefault(attr, set()).add(_socket_call_family(call, self.evaluator))
        return out

    @cached_property
    def unix_handlers(self) -> set[str]:
        """Module classes handed to a Unix-socket socketserver (``UnixStreamServer(path,
        Handler)``, or a module subclass of one), with their related classes."""
        handlers: set[str] = set()
        for call, name, qual in self._qualified_calls:
            if qual in UNIX_SERVERS or (name in self.class_bases and inherits_name(self, name, self.imports, UNIX_SERVERS)):
                for a in (*call.args, *(k.value for k in call.keywords)):
                    if isinstance(a, ast.Name) and a.id in self.class_bases:
                        handlers.add(a.id)
        return self.related(handlers) if handlers else set()

    @cached_property
    def _qualified_calls(self) -> list[tuple[ast.Call, str, str]]:
        """(call, callee as written, callee qualified through the imports)."""
        out: list[tuple[ast.Call, str, str]] = []
        for call, _ in self.calls:
            name = dotted_name(call.func)
            if name:
                out.append((call, name, self.imports.qualify(name)))
        return out

    @cached_property
    def prefork_call(self) -> bool:
        """The module forks or starts worker processes (a known process-starting call)."""
        return any(q in PREFORK_CALLS for _, _, q in self._qualified_calls)

    @cached_property
    def fork_named_call(self) -> bool:
        """A call of something named ``*.fork`` or ``*fork_processes`` (heuristic
        ``prefork-call-name``)."""
        return any(name.endswith((".fork", "fork_processes")) for _, name, _ in self._qualified_calls)

    def prefork(self, settings: Settings) -> bool:
        return self.prefork_call or (
            self.fork_named_call and heuristics.enabled(settings, "prefork-call-name")
        )

    @cached_property
    def default_timeout(self) -> bool:
        """``socket.setdefaulttimeout(<not None>)`` at some point."""
        return any(
            q == "socket.setdefaulttimeout"
            and bool(call.args)
            and not (isinstance(call.args[0], ast.Constant) and call.args[0].value is None)
            for call, _, q in self._qualified_calls
        )

    @cached_property
    def _joins(self) -> list[tuple[ast.Call, _Scope]]:
        """``X.setsockopt(level, <multicast join>, value)`` calls."""
        out: list[tuple[ast.Call, _Scope]] = []
        for call, scope in self.calls:
            f = call.func
            if isinstance(f, ast.Attribute) and f.attr == "setsockopt" and len(call.args) == 3:
                opt = self.evaluator.value(call.args[1])
                if isinstance(opt, Sym) and opt.name in MULTICAST_JOIN:
                    out.append((call, scope))
        return out

    @property
    def multicast_anywhere(self) -> bool:
        """A multicast group is joined (or a join constant named) somewhere in the module."""
        return self.join_mentioned or bool(self._joins)

    @cached_property
    def _membership(self) -> _Membership:
        return _Membership.of(self)

    def class_joins(self, cls: ast.ClassDef) -> bool:
        """The class, or a module class related to it by inheritance, joins a multicast group
        (on any receiver, or by handing something to a module function that joins)."""
        return bool(self.related({cls.name}) & self._membership.classes)

    def socket_joins(self, facts: FunctionFacts, ev: Evaluator, e: Event) -> bool:
        """The socket of ``e`` joins a multicast group: the same socket in this function, a
        ``self.X`` joined in a method of the same class (or a class related to it by
        inheritance), or a socket this function hands to a module function that joins it."""
        for x in events_of(facts, e):
            if x.method == "setsockopt":
                so = read_setsockopt(x.node, ev)
                if so is not None and so.option in MULTICAST_JOIN:
                    return True
        mb = self._membership
        names = {
            res.name for res in (facts.resources.get(r) for r in e.rids) if res and res.name
        }
        if e.receiver:
            names.add(e.receiver)
        if names & mb.passed.get(facts.name, set()):
            return True
        recv = e.receiver
        if recv and recv.startswith("self.") and recv.count(".") == 1:
            classes = self.related(mb.method_classes.get(facts.name, set()))
            if any((c, recv[5:]) in mb.self_joins for c in classes):
                return True
        # A socket that leaves the function (returned, stored on an object, handed on) may be
        # joined where it goes, by a caller or another method: in a module that joins a group
        # anywhere, it counts as a group receiver. Only a socket whose whole life this function
        # shows is judged on its own.
        return self.multicast_anywhere and _leaves_function(facts, e)

    def fingerprint(self) -> tuple[object, ...]:
        """Everything the function rules can read from these facts, for the engine's result
        cache: two files with the same fingerprint give every function the same answers."""
        mb = self._membership
        return (
            self.evaluator,
            self.attr_types,
            self.attr_families,
            self.unix_handlers,
            self.closed_attrs,
            sorted((k, sorted(v)) for k, v in self.attr_sources.items()),
            self.class_bases,
            self.prefork_call,
            self.fork_named_call,
            self.default_timeout,
            self.exclusive,
            self.join_mentioned,
            mb.classes,
            mb.self_joins,
            mb.passed,
            mb.method_classes,
        )

    def related(self, names: set[str]) -> set[str]:
        """``names`` with their module-local base classes and subclasses, transitively."""
        out: set[str] = set()
        todo = list(names)
        subclasses = self._subclasses
        while todo:
            n = todo.pop()
            if n in out:
                continue
            out.add(n)
            todo.extend(b for b in self.class_bases.get(n, ()) if b in self.class_bases)
            todo.extend(subclasses.get(n, ()))
        return out

    @cached_property
    def _subclasses(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for name, bases in self.class_bases.items():
            for b in bases:
                out.setdefault(b, []).append(name)
        return out


@dataclass
class _Membership:
    """Where multicast groups are joined, per socket rather than per module."""

    classes: set[str] = field(default_factory=set)  # classes whose code joins a group
    self_joins: set[tuple[str, str]] = field(default_factory=set)  # (class, X) for self.X
    # function name -> argument texts (``sock``, ``self.sock``) it hands to a function of this
    # module that joins the parameter receiving it
    passed: dict[str, set[str]] = field(default_factory=dict)
    method_classes: dict[str, set[str]] = field(default_factory=dict)  # method -> classes

    @staticmethod
    def of(mf: ModuleFacts) -> _Membership:
        mb = _Membership()
        for info in mf.classes:
            for m in info.methods:
                mb.method_classes.setdefault(m.node.name, set()).add(info.node.name)
        # name -> (parameter names, index of the joined parameter, is a method)
        helpers: dict[str, list[tuple[list[str], int, bool]]] = {}
        for call, (frames, fn) in mf._joins:
            mb.classes.update(info.node.name for info, _, _ in frames)
            recv = call.func.value  # type: ignore[attr-defined]
            if (
                frames
                and frames[-1][1] is not None
                and isinstance(recv, ast.Attribute)
                and isinstance(recv.value, ast.Name)
                and recv.value.id == "self"
            ):
                mb.self_joins.add((frames[-1][0].node.name, recv.attr))
            if isinstance(recv, ast.Name) and isinstance(fn, _FUNCTIONS):
                params = [a.arg for a in (*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs)]
                if recv.id in params:
                    is_method = bool(frames) and frames[-1][1] is not None and frames[-1][1].node is fn
                    helpers.setdefault(fn.name, []).append((params, params.index(recv.id), is_method))
        if not helpers:
            return mb
        for call, (frames, fn) in mf.calls:
            f = call.func
            via_self = False
            if isinstance(f, ast.Name):
                callee = f.id
            elif (
                isinstance(f, ast.Attribute)
                and isinstance(f.value, ast.Name)
                and f.value.id in ("self", "cls")
            ):
                callee, via_self = f.attr, True
            else:
                continue
            for params, index, is_method in helpers.get(callee, ()):
                arg = _argument(call, params, index - (1 if is_method and via_self else 0), params[index])
                text = dotted_name(arg) if arg is not None else None
                if text is None:
                    continue
                mb.classes.update(info.node.name for info, _, _ in frames)
                if isinstance(fn, _FUNCTIONS):
                    mb.passed.setdefault(fn.name, set()).add(text)
        return mb


def _argument(call: ast.Call, params: list[str], index: int, name: str) -> ast.expr | None:
    """The argument of ``call`` bound to parameter ``name`` at position ``index``."""
    for kw in call.keywords:
        if kw.arg == name:
            return kw.value
    positional = call.args
    if any(isinstance(a, ast.Starred) for a in positional[: index + 1]) or index < 0:
        return None
    return positional[index] if index < len(positional) else None


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


def _socket_call_family(call: ast.Call, ev: Evaluator) -> str:
    """The family of ``socket.socket(family, ...)``: AF_INET when none is given."""
    fam: ast.expr | None = call.args[0] if call.args else None
    for kw in call.keywords:
        if kw.arg == "family":
            fam = kw.value
        elif kw.arg == "fileno":
            return "?"  # a descriptor of any family
    if fam is None:
        return "inet"
    n = getattr(ev.value(fam), "name", None)
    return {"socket.AF_UNIX": "unix", "socket.AF_INET": "inet", "socket.AF_INET6": "inet6"}.get(n or "", "?")


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


def lazy_module_facts(tree: ast.Module, imports: ImportTable) -> Callable[[], ModuleFacts]:
    """The file's module facts, built on the first call and shared by every later one."""
    box: list[ModuleFacts] = []

    def get() -> ModuleFacts:
        if not box:
            box.append(ModuleFacts(tree, imports))
        return box[0]

    return get


def module_facts_of(ctx: RuleContext | ModuleRuleContext) -> ModuleFacts:
    """The module facts the engine shares between the rules of a file (a context made without
    them, by a caller other than the engine, gets them built here, once per context)."""
    from socklint.rules.base import ModuleRuleContext

    # Reading ``module_tree`` marks a function rule's context: the per-function result cache
    # then keys its findings on the module facts too.
    tree = ctx.tree if isinstance(ctx, ModuleRuleContext) else ctx.module_tree
    if ctx.file_facts is None:
        ctx.file_facts = lazy_module_facts(tree, ctx.imports)
    return ctx.file_facts()


def _leaves_function(facts: FunctionFacts, e: Event) -> bool:
    """The socket of ``e`` lives beyond the function: an attribute of an object, a parameter
    (the caller's socket), or a socket the function returns, stores or hands on (an escape
    event)."""
    if not e.rids:
        return bool(e.receiver) and "." in (e.receiver or "")
    if any(r in facts.resources and facts.resources[r].origin == "param" for r in e.rids):
        return True
    return any(x.kind == "escape" and x.rids & e.rids for x in facts.events)
