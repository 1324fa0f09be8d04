"""A cheap pass over the stdlib ``ast``: imports, module-local summaries, and which functions
can produce a finding at all. Only those functions are handed to libcst (about ten times the
cost of ``ast.parse`` per line), so files and functions without socket code cost little.

The whole scan is one iterative walk of the tree (no per-function re-walks): profiling showed
repeated ``ast.iter_child_nodes`` walks costing more than the parse itself.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Optional, Union

from socklint.analysis import model
from socklint.analysis.astutil import SINGLETONS, children, dotted_name
from socklint.analysis.compat import python3_constant_ast
from socklint.analysis.facts import OWNING_METHODS
from socklint.analysis.helper_raises import (
    OsGuard,
    cannot_fail,
    logger_call,
    no_calls,
    only_reports,
    without_docstring,
)
from socklint.analysis.objects import ObjectSummary, released_attributes, self_attr
from socklint.analysis.objects import summarize as summarize_objects
from socklint.analysis.project import FunctionFacts, ModuleView, resolve_relative
from socklint.heuristics import ALL_IDS

FuncNode = Union[ast.FunctionDef, ast.AsyncFunctionDef]

# What makes a function worth analysing: model rows of kind `triggers`.
TRIGGER_METHODS = model.TRIGGER_METHODS
TRIGGER_ATTRIBUTES = model.TRIGGER_ATTRIBUTES
TRIGGER_KEYWORDS = model.TRIGGER_KEYWORDS


class ImportTable:
    """Local name -> qualified name, from every import in the file (flow-insensitive)."""

    def __init__(self, module: Optional[str] = None, is_package: bool = False) -> None:
        self.names: dict[str, str] = {}
        self.star_modules: set[str] = set()
        # The module's own dotted name, when known (a project run): relative imports resolve.
        self.module = module
        self.is_package = is_package
        # `import pkg.transport` (no alias): the module is reachable as `pkg.transport.name`.
        self.dotted_modules: set[str] = set()

    def add(self, node: ast.Import | ast.ImportFrom) -> None:
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.asname:
                    self.names[a.asname] = a.name
                else:
                    top = a.name.split(".")[0]
                    self.names.setdefault(top, top)
                    if "." in a.name:
                        self.dotted_modules.add(a.name)
        else:
            module = node.module
            if node.level:
                if self.module is None:
                    return
                module = resolve_relative(self.module, self.is_package, node.level, node.module)
            if not module:
                return
            for a in node.names:
                if a.name == "*":
                    self.star_modules.add(module)
                else:
                    self.names[a.asname or a.name] = f"{module}.{a.name}"

    def qualify(self, dotted: str) -> str:
        head, _, rest = dotted.partition(".")
        q = self.names.get(head)
        if q is None:
            for mod in ("socket", "ssl", "contextlib"):
                if mod in self.star_modules and not rest:
                    cand = f"{mod}.{head}"
                    if cand in model.FACTORIES or cand in model.PAIR_FACTORIES or cand in model.OSERROR_ALIASES:
                        return cand
            return dotted
        return f"{q}.{rest}" if rest else q


def _last_name(func: ast.expr) -> Optional[str]:
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return None


@dataclass
class Summaries:
    """Module-local facts about helpers, by bare function name (methods by method name)."""

    sources: set[str] = field(default_factory=set)
    closers: dict[str, set[int]] = field(default_factory=dict)
    keepers: dict[str, set[int]] = field(default_factory=dict)
    async_funcs: set[str] = field(default_factory=set)
    # Every function and method name defined in the module: calls to them are seen, not unknown.
    defined: set[str] = field(default_factory=set)
    # Helpers that install a custom socket factory (model.FAKE_FACTORY_INSTALLERS), directly or
    # through another such helper (`def fn(): FakeNet().enable()` in a test module).
    fake_net: set[str] = field(default_factory=set)
    # Sources that wrap a parameter (`return ctx.wrap_socket(sock)`): they take it over.
    wrappers: dict[str, set[int]] = field(default_factory=dict)
    # Helpers that can raise nothing but OSError (socket calls on their parameters, or
    # everything else inside `try: ... except OSError`): a cleanup `except OSError` covers them.
    os_only: set[str] = field(default_factory=set)
    # The subset that only configures (setsockopt, fcntl): plain OSError, never a timeout.
    oscfg_only: set[str] = field(default_factory=set)
    # Functions that cannot raise: the whole body runs under `with suppress(Exception)` or a
    # `try` whose catch-all handler does not raise (a `set_nodelay(sock)` helper).
    nonraising: set[str] = field(default_factory=set)
    # Functions that always raise (every path ends in `raise`, none returns: a
    # `_handle_error()` that logs and raises). A call to one as a statement ends the path.
    always_raise: set[str] = field(default_factory=set)
    # Helpers that never let an OSError out: every call that could raise one sits in a `try`
    # whose OSError handler logs, passes, or raises an exception of another kind (a helper
    # that turns them into its own `MD5Error`): an `except OSError` around a call cannot catch it.
    non_os: set[str] = field(default_factory=set)
    # Classes defined in the module (nested ones too): constructing one around a socket hands
    # the socket to the new object, whatever the name looks like (`TelnetServer._Client(sock)`).
    local_classes: set[str] = field(default_factory=set)
    # The subset whose construction cannot fail: every definition's `__init__` only stores
    # values (`self.socket = socket`), or it has no `__init__` and no base class.
    trivial_init: set[str] = field(default_factory=set)
    # Exception classes of the module that keep their arguments only in `.args`: no `__init__`
    # or `__new__` of their own, and every base a builtin exception or another such class.
    # Raising one hands nothing over (unlike a class whose `__init__` stores `self.sock`).
    args_only_exceptions: set[str] = field(default_factory=set)
    # Methods that cannot raise, by the classes whose own definition cannot: `self.debug_print()`
    # is judged by the calling class's method, not by every method of that name.
    nonraising_methods: dict[str, set[str]] = field(default_factory=dict)
    # Class-aware view of `sources`: which classes define a method, and in which it returns
    # a fresh socket (`self._setup_connection()` means this class's method first).
    method_classes: dict[str, set[str]] = field(default_factory=dict)
    method_sources: dict[str, set[str]] = field(default_factory=dict)
    function_sources: set[str] = field(default_factory=set)
    # Private helpers (`_name`, or nested) whose every call in the module passes a datagram
    # socket at that position: an empty datagram there is valid, not end of stream
    # (`_handle_multi_packet_response(sock, packet)` called only with a UDP socket).
    dgram_params: dict[str, set[int]] = field(default_factory=dict)
    # Methods (other than `__init__` / `__enter__`) that store a socket they make on `self`:
    # class -> method -> the attributes (`def connect(self): self.sock = socket.socket()`). A
    # call from the constructor leaves the half-built object holding it. `setters_raise`:
    # "Class.method" of those that then use it (`self.sock.connect(...)`) and never close it
    # themselves, so they can raise with it stored: with I/O that fails in normal operation
    # (`setters_raise`), or only with configuration calls (`setters_raise_config`: SKL107).
    socket_setters: dict[str, dict[str, frozenset[str]]] = field(default_factory=dict)
    # The same for `__init__`, `__enter__`...: class -> the attributes they store a socket they
    # make in.
    init_socket_attrs: dict[str, frozenset[str]] = field(default_factory=dict)
    setters_raise: set[str] = field(default_factory=set)
    setters_raise_config: set[str] = field(default_factory=set)
    # Connection handlers: functions (or methods, by name) of the module given to
    # `asyncio.start_server(cb, ...)` (`connection-handlers` rows); each owns a parameter.
    # By name: the row, and whether the callback is a method (`self._handle`).
    handlers: dict[str, tuple[model.Handler, bool]] = field(default_factory=dict)
    # Spellings that construct a socket class (`class TracedSocket(socket.socket)` here, or one
    # imported from the project): calling one creates a socket, as a factory does.
    socket_classes: set[str] = field(default_factory=set)
    # Resource types, by spelling: classes whose `__init__` keeps a socket in an attribute that
    # their `close()` / `__exit__` closes ("creates": a socket it makes; "wraps": its first
    # argument). Constructing one creates a resource the caller must close, as a factory does.
    resource_classes: dict[str, str] = field(default_factory=dict)
    # Where imported project helpers live, by spelling (for the trace): "path:line".
    origins: dict[str, str] = field(default_factory=dict)
    # Classes and their attributes: which methods close which `self.X`, which attribute names
    # the module ever lets go of (`objects.py`; SKL111, SKL112).
    objects: ObjectSummary = field(default_factory=ObjectSummary)
    # "Class.attr": attributes the module's classes fill with a socket they make that nothing in
    # the module closes or lets go of (SKL112 unless another module of the package does; the
    # project index asks the package, ``socklint.project.released_in_package``).
    kept_attributes: tuple[str, ...] = ()

    def defines(self, local_name: str, via_self: bool, cur_class: Optional[str]) -> bool:
        """The call reaches this module's definition of ``local_name``: a plain call, or
        `self.<method>` where the calling class defines the method itself (not one it may
        inherit from another module), so a summary by name applies."""
        return not via_self or (cur_class is not None and cur_class in self.method_classes.get(local_name, ()))

    def nonraising_in(self, local_name: str, via_self: bool, cur_class: Optional[str]) -> bool:
        """A call of a module-local function, or of `self.<method>` defined by the calling
        class itself, that cannot raise."""
        if not via_self:
            return local_name in self.nonraising
        return cur_class is not None and cur_class in self.nonraising_methods.get(local_name, ())

    def is_source(self, local_name: str, via_self: bool, cur_class: Optional[str]) -> bool:
        if local_name not in self.sources:
            return False
        if not via_self:
            return local_name in self.function_sources
        classes = self.method_classes.get(local_name, set())
        srcs = self.method_sources.get(local_name, set())
        if cur_class is not None and cur_class in classes:
            return cur_class in srcs
        # Inherited or unknown class: only if every definition in this module is a source.
        return bool(classes) and classes == srcs


@dataclass
class Snippet:
    """A region handed to libcst: one outermost candidate function (with the functions nested
    in it, in source order), or one module-level statement."""

    start: int  # first line (1-based, decorators included)
    end: int  # last line
    indented: bool
    functions: list[tuple[FuncNode, bool]]  # preorder, with "is a candidate"
    module_level: bool = False
    whole_module: bool = False  # libcst-only fallback: analyse every function of the module


@dataclass
class ScanResult:
    imports: ImportTable
    summaries: Summaries
    snippets: list[Snippet]
    classes: list[ast.ClassDef]
    tree: ast.Module
    fn_class: dict[int, Optional[str]] = field(default_factory=dict)  # id(ast function) -> class
    # Last names called in the code the deep analysis will see (candidate functions, the
    # functions nested in them, triggered module-level statements): the project index ships
    # a module only the facts about these that matter beyond ownership (project.ModuleView).
    analysed_calls: frozenset[str] = frozenset()


# Nodes the walk in ``scan`` never acts on and whose subtrees hold nothing it acts on: names,
# constants, and the operator / context singletons (together about half of all nodes).
_INERT = frozenset({ast.Name, ast.Constant} | SINGLETONS)


def _children(node: ast.AST) -> list[ast.AST]:
    """The children the walk in ``scan`` visits: 1.5x less CPU for the whole scan on the 3.11
    standard library than ``ast.iter_child_nodes``."""
    return children(node, _INERT)


@dataclass
class _Fn:
    node: FuncNode
    parent: int  # index of the enclosing function, -1 for none
    params: dict[str, int]
    cls: Optional[str] = None  # the enclosing class, for `self.method()` resolution
    trigger: bool = False
    called: set[str] = field(default_factory=set)
    # (callee's last name, argument position, parameter index): for closer chains
    param_calls: list[tuple[str, int, int]] = field(default_factory=list)
    returns: list[ast.expr] = field(default_factory=list)
    assigned: dict[str, list[ast.Call]] = field(default_factory=dict)
    # Names whose socket the function keeps or has cleaned up itself: `self.s = s`,
    # `self.addCleanup(s.close)`. Returning such a socket does not give the caller ownership.
    kept: set[str] = field(default_factory=set)
    # What the function can raise: only OSError unless `os_unsafe`, or a call in `os_calls`
    # (module-local helpers) raises more.
    os_unsafe: bool = False
    os_calls: set[str] = field(default_factory=set)
    # Dotted calls resolved after the walk (`fcntl.fcntl`: OS configuration, OSError only).
    ext_calls: set[str] = field(default_factory=set)
    # Calls socket I/O (recv, connect...) on a parameter: may time out, unlike configuration.
    os_io: bool = False
    # (callee's last name, argument position or -1 for keywords, the argument): for
    # `Summaries.dgram_params`.
    arg_calls: list[tuple[str, int, Optional[ast.expr]]] = field(default_factory=list)
    # Attributes of `self` the function uses as a socket in operation (`self.sock.sendall()`,
    # model.IN_USE_METHODS), and those it assigns (`self.sock = None`).
    self_used: set[str] = field(default_factory=set)
    self_set: set[str] = field(default_factory=set)
    socket_only: set[str] = field(default_factory=set)  # ... with a method only sockets have
    self_closed: set[str] = field(default_factory=set)  # ... and closes (`self.sock.close()`)
    self_io: set[str] = field(default_factory=set)  # ... with I/O that fails in operation (connect, recv)
    self_stored: dict[str, list[ast.expr]] = field(default_factory=dict)  # X -> values of `self.X = v`


def _params(fn: FuncNode) -> dict[str, int]:
    a = fn.args
    names = [p.arg for p in getattr(a, "posonlyargs", [])] + [p.arg for p in a.args]
    if names and names[0] in ("self", "cls"):
        names = names[1:]
    return {p: i for i, p in enumerate(names)}


# (node, enclosing function index or -1, top-level statement index or -1, inside a try that
# swallows OSError, enclosing class name)
_Item = tuple[ast.AST, int, int, bool, Optional[str]]


class _Walk:
    """The state of the scan's single iterative walk over the module: what it collects for
    the summaries and the snippets, one ``_visit`` per node."""

    def __init__(
        self,
        factories: frozenset[str],
        closers: frozenset[str],
        guesses: frozenset[str] = ALL_IDS,
        view: Optional[ModuleView] = None,
        handlers: Optional[Mapping[str, model.Handler]] = None,
    ) -> None:
        self.guesses = guesses
        # `connection-handlers` rows (the built-in ones and the user's), and the last names of
        # their registrars (`start_server`), which decide whether a call is looked at.
        self.handlers = model.BUILTIN.HANDLERS if handlers is None else handlers
        self.registrar_lasts = frozenset(n.rsplit(".", 1)[-1] for n in self.handlers)
        self.imports = ImportTable(view.module, view.is_package) if view is not None else ImportTable()
        self.classes: list[ast.ClassDef] = []
        self.fns: list[_Fn] = []
        self.summaries = Summaries()
        self.trigger_names = set(TRIGGER_METHODS) | {n.rsplit(".", 1)[-1] for n in factories}
        self.closer_lasts = {n.rsplit(".", 1)[-1] for n in closers}
        self.top_trigger: dict[int, bool] = {}
        self.top_called: dict[int, set[str]] = {}
        # `socket_factory = socket.socket` at module level: resolved once every import is known.
        self.aliases: list[tuple[str, str]] = []
        # Where helpers are mentioned other than called (`Thread(target=_serve)`, `cb =
        # self._read`), they have callers we do not see. (Names are never visited: see _INERT.)
        self.call_funcs: dict[str, int] = {}
        self.attr_calls: dict[str, int] = {}
        self.attr_mentions: dict[str, int] = {}
        self.passed: set[str] = set()
        # `asyncio.start_server(handle, ...)`: (the callee as written, the callback's name).
        self.handler_calls: list[tuple[str, str, bool]] = []

    def run(self, tree: ast.Module) -> None:
        stack: list[_Item] = []
        for i, stmt in enumerate(tree.body):
            top = -1 if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) else i
            stack.append((stmt, -1, top, False, None))
        while stack:
            node, fi, ti, prot, cls = stack.pop()
            if isinstance(node, (ast.Assign, ast.Return)) and isinstance(node.value, ast.Name):
                self.passed.add(node.value.id)  # `handler = _serve`, `return _serve`
            inner = self._visit(node, fi, ti, prot, cls, stack)
            if inner is not None:
                for sub in _children(node):
                    stack.append((sub, *inner))

    def _visit(
        self, node: ast.AST, fi: int, ti: int, prot: bool, cls: Optional[str], stack: list[_Item]
    ) -> Optional[tuple[int, int, bool, Optional[str]]]:
        """Record what ``node`` says; return the context for its children, or None when the
        node pushed the children it wants walked itself."""
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            self.fns.append(_Fn(node, fi, _params(node), cls=cls))
            self.summaries.defined.add(node.name)
            if isinstance(node, ast.AsyncFunctionDef):
                self.summaries.async_funcs.add(node.name)
            # A function inside a module-level statement is analysed on its own.
            return len(self.fns) - 1, -1, False, cls
        if isinstance(node, (ast.With, ast.AsyncWith)) and fi >= 0 and self.fns[fi].params:
            # `async with sock:` on a parameter: the helper closes it.
            f = self.fns[fi]
            for item in node.items:
                if isinstance(item.context_expr, ast.Name) and item.context_expr.id in f.params:
                    self.summaries.closers.setdefault(f.node.name, set()).add(f.params[item.context_expr.id])
        elif isinstance(node, ast.If) and (on_py3 := python3_constant_ast(node.test)) is not None:
            # A Python 2 branch never runs: nothing in it is analysed or summarised.
            for stmt in node.body if on_py3 else node.orelse:
                stack.append((stmt, fi, ti, prot, cls))
            return None
        elif isinstance(node, ast.Try) and not prot and _catches_oserror(node):
            # The try body's OSErrors are handled here: push it protected, the rest not.
            for stmt in node.body:
                stack.append((stmt, fi, ti, True, cls))
            for other in [*node.handlers, *node.orelse, *node.finalbody]:
                stack.append((other, fi, ti, False, cls))
            return None
        elif isinstance(node, ast.Raise) and fi >= 0 and not prot:
            self.fns[fi].os_unsafe = True
        elif isinstance(node, ast.Call):
            self._call(node, fi, ti, prot)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            self.imports.add(node)
        elif isinstance(node, ast.ClassDef):
            self.classes.append(node)
            cls = node.name
        elif isinstance(node, ast.Attribute):
            self._attribute(node, fi, ti)
        elif fi >= 0 and isinstance(node, ast.Return) and node.value is not None:
            self.fns[fi].returns.append(node.value)
        elif isinstance(node, ast.Assign):
            self._assign(node, fi, cls)
        return fi, ti, prot, cls

    def _call(self, node: ast.Call, fi: int, ti: int, prot: bool) -> None:
        last = _last_name(node.func)
        if last is not None and last in self.registrar_lasts:
            self._handler_call(node)
        if last is not None:
            self.call_funcs[last] = self.call_funcs.get(last, 0) + 1
            if isinstance(node.func, ast.Attribute):
                self.attr_calls[last] = self.attr_calls.get(last, 0) + 1
            # `Thread(target=_serve)`, `map(_parse, socks)`: the helper is passed around.
            self.passed.update(a.id for a in node.args if isinstance(a, ast.Name))
            self.passed.update(k.value.id for k in node.keywords if isinstance(k.value, ast.Name))
            if fi >= 0:
                if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
                    self.fns[fi].arg_calls.append((last, -1, None))
                for pos, arg in enumerate(node.args):
                    self.fns[fi].arg_calls.append((last, pos, arg))
        if fi >= 0 and not prot:
            _classify_raise(self.fns[fi], node, self.guesses)
        hit = last is not None and last in self.trigger_names
        if not hit and node.keywords:
            hit = any(kw.arg in TRIGGER_KEYWORDS for kw in node.keywords)
        if fi >= 0:
            self._call_in_function(self.fns[fi], node, last, hit)
        elif ti >= 0:
            if hit:
                self.top_trigger[ti] = True
            if last is not None:
                self.top_called.setdefault(ti, set()).add(last)

    def _handler_call(self, node: ast.Call) -> None:
        """``asyncio.start_server(handle, ...)`` / ``(self._handle, ...)``: remember the callback
        by name; the callee is qualified once every import is known (``_find_handlers``)."""
        callee = dotted_name(node.func)
        if callee is None:
            return
        for h in self.handlers.values():
            if h.name.rsplit(".", 1)[-1] != callee.rsplit(".", 1)[-1]:
                continue
            cbs = [k.value for k in node.keywords if h.keyword and k.arg == h.keyword] or node.args[:1]
            for cb in cbs:
                if isinstance(cb, ast.Name):
                    self.handler_calls.append((callee, cb.id, False))
                elif isinstance(cb, ast.Attribute) and isinstance(cb.value, ast.Name) and cb.value.id in ("self", "cls"):
                    self.handler_calls.append((callee, cb.attr, True))

    def _call_in_function(self, f: _Fn, node: ast.Call, last: Optional[str], hit: bool) -> None:
        if hit:
            f.trigger = True
        if f.cls is not None and isinstance(node.func, ast.Attribute) and (attr := self_attr(node.func.value, "self")):
            if last in model.IN_USE_METHODS:
                f.self_used.add(attr)
            if last in _SOCKET_ONLY_METHODS and last != "connect":
                f.socket_only.add(attr)
            if last in model.CLOSE_METHODS:
                f.self_closed.add(attr)
            if last in model.SOCKET_METHODS and _fails_in_operation(last, node):
                f.self_io.add(attr)
        for arg in node.args:
            if isinstance(arg, ast.Attribute) and arg.attr in model.CLOSE_METHODS and isinstance(arg.value, ast.Name):
                f.kept.add(arg.value.id)
            elif isinstance(arg, ast.Name) and isinstance(node.func, ast.Attribute) and node.func.attr in model.KEEPING_METHODS:
                f.kept.add(arg.id)  # `self.open_sockets.append(s); return s`
        if last is not None:
            f.called.add(last)
        if f.params:
            self._call_on_params(f, node, last)

    def _call_on_params(self, f: _Fn, node: ast.Call, last: Optional[str]) -> None:
        """Summaries of what a helper does with its parameters: closes, keeps, passes on."""
        func = node.func
        closers = self.summaries.closers
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in f.params:
            if func.attr in model.CLOSE_METHODS:
                closers.setdefault(f.node.name, set()).add(f.params[func.value.id])
        if isinstance(func, ast.Attribute) and func.attr in model.KEEPING_METHODS:
            for arg in node.args:
                if isinstance(arg, ast.Name) and arg.id in f.params:
                    self.summaries.keepers.setdefault(f.node.name, set()).add(f.params[arg.id])
        if last in self.closer_lasts:
            for arg in node.args[:1]:
                if isinstance(arg, ast.Name) and arg.id in f.params:
                    closers.setdefault(f.node.name, set()).add(f.params[arg.id])
        if last is not None:
            for pos, arg in enumerate(node.args):
                if isinstance(arg, ast.Name) and arg.id in f.params:
                    f.param_calls.append((last, pos, f.params[arg.id]))
            if "class-call-takes-ownership" in self.guesses and _names_a_class(last):
                # `Conn(reader, writer)`, `TcpConnection(writer=writer)`: the object built around
                # the parameter owns it, as at a direct call (calls._keeps).
                for arg in [*node.args, *(k.value for k in node.keywords)]:
                    if isinstance(arg, ast.Name) and arg.id in f.params:
                        self.summaries.keepers.setdefault(f.node.name, set()).add(f.params[arg.id])

    def _attribute(self, node: ast.Attribute, fi: int, ti: int) -> None:
        self.attr_mentions[node.attr] = self.attr_mentions.get(node.attr, 0) + 1
        if node.attr in TRIGGER_ATTRIBUTES:
            if fi >= 0:
                self.fns[fi].trigger = True
            elif ti >= 0:
                self.top_trigger[ti] = True

    def _assign(self, node: ast.Assign, fi: int, cls: Optional[str]) -> None:
        if fi < 0:
            if (
                cls is None
                and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)
                and (value := dotted_name(node.value)) is not None
            ):
                self.aliases.append((node.targets[0].id, value))
            return
        f = self.fns[fi]
        if f.cls is not None:
            for t in node.targets:
                if (a := self_attr(t, "self")) is not None:
                    f.self_set.add(a)
                    f.self_stored.setdefault(a, []).append(node.value)
        if isinstance(node.value, ast.Call):
            stored = any(isinstance(t, (ast.Attribute, ast.Subscript)) for t in node.targets)
            for t in node.targets:
                if isinstance(t, ast.Name):
                    f.assigned.setdefault(t.id, []).append(node.value)
                    if stored:
                        f.kept.add(t.id)  # `sock = self.socket = make()`: the object keeps it
        elif isinstance(node.value, ast.Name):
            if any(isinstance(t, (ast.Attribute, ast.Subscript)) for t in node.targets):
                f.kept.add(node.value.id)
                if node.value.id in f.params:
                    self.summaries.keepers.setdefault(f.node.name, set()).add(f.params[node.value.id])

    def is_factory(self, qual: str, factories: frozenset[str]) -> bool:
        return qual in model.FACTORIES or qual in model.PAIR_FACTORIES or qual in factories


def scan(
    tree: ast.Module,
    factories: frozenset[str] = frozenset(),
    closers: frozenset[str] = frozenset(),
    guesses: frozenset[str] = ALL_IDS,
    view: Optional[ModuleView] = None,
    summary_only: bool = False,
    handlers: Optional[Mapping[str, model.Handler]] = None,
) -> ScanResult:
    """``guesses``: the named heuristics that apply (``socklint.heuristics``). ``view``: what
    the module sees of its project through its imports (``project.ProjectIndex.view``).
    ``handlers``: the ``connection-handlers`` rows in force (default: the built-in ones).
    ``summary_only``: the module is only summarised for the project index (not reported): what
    only its own analysis reads (objects, snippets) is skipped."""
    if view:
        factories = factories | frozenset(view.socket_classes) | frozenset(k for k, f in view.functions.items() if f.source)
    w = _Walk(factories, closers, guesses, view, handlers)
    w.run(tree)
    fns, summaries, imports = w.fns, w.summaries, w.imports
    _resolve_factory_aliases(w, factories)
    factories = factories | _find_socket_classes(w.classes, imports, summaries, view)
    _import_view(summaries, view)
    if "resource-types" in guesses:
        _find_resource_classes(w.classes, imports, summaries, factories)
        factories = factories | frozenset(summaries.resource_classes)
    _find_sources(fns, imports, factories, summaries)
    _find_socket_setters(fns, imports, factories, summaries)
    _find_fake_net(fns, summaries, imports)
    _find_os_only(fns, summaries, imports)
    _find_nonraising(fns, summaries, imports, guesses)
    _find_local_classes(w.classes, summaries)
    _find_always_raise(fns, summaries)
    _import_raising(summaries, view)
    _close_chains(fns, summaries, "closes-by-name" in guesses)
    _class_sources(fns, imports, factories, summaries)
    _attribute_rebind_triggers(fns)
    _late_triggers(w, factories)
    calls = _analysed_calls(w)
    # The objects are a module's own analysis's; a summary needs them only to say which
    # attributes keep a socket nothing in the module closes (`kept_attributes`), asked only of
    # modules that store a socket they make on self. Both kinds of scan answer it the same way.
    if w.classes and (not summary_only or summaries.socket_setters or summaries.init_socket_attrs or (view is not None and view.base_inits)):
        summaries.objects = summarize_objects(
            w.classes,
            summaries.closers,
            lambda n: _is_source_call(n, imports, factories, summaries.sources),
            by_name="object-method-closes-by-name" in guesses,
        )
        if view is not None:
            summaries.objects.imported_inits = {c: set(a) for c, a in view.base_inits.items()}
        if not summary_only:
            _factory_triggers(fns, summaries)
            _base_init_triggers(fns, summaries)
        summaries.objects.released, summaries.objects.released_by = released_attributes(tree)
        summaries.kept_attributes = _kept_attributes(summaries)
        if view is not None:
            summaries.objects.released_elsewhere = set(view.released_elsewhere)
    if summary_only:
        return ScanResult(imports, summaries, [], w.classes, tree, analysed_calls=calls)
    unseen = w.passed | {a for a, n in w.attr_mentions.items() if n != w.attr_calls.get(a, 0)}
    _find_dgram_params(fns, imports, summaries, unseen, w.call_funcs)
    _find_handlers(w)
    snippets = _snippets(tree, fns, w.top_trigger)
    result = ScanResult(imports, summaries, snippets, w.classes, tree, analysed_calls=calls)
    result.fn_class = {id(f.node): f.cls for f in fns}
    return result


def _analysed_calls(w: _Walk) -> frozenset[str]:
    top: list[int] = []
    for i, f in enumerate(w.fns):
        top.append(top[f.parent] if f.parent >= 0 else i)
    wanted = {top[i] for i, f in enumerate(w.fns) if f.trigger}
    out: set[str] = set()
    for i, f in enumerate(w.fns):
        if top[i] in wanted:
            out |= f.called
    for ti, hit in w.top_trigger.items():
        if hit:
            out |= w.top_called.get(ti, set())
    return frozenset(out)


def _factory_triggers(fns: list[_Fn], s: Summaries) -> None:
    """A classmethod or staticmethod that builds an instance of its own class (`cls(addr)`),
    when the class's `__init__` stores a socket it makes: the factory owns the object until it
    returns it (SKL111), so the flow analysis must see it."""
    for f in fns:
        if f.trigger or f.cls is None or f.cls not in s.objects.socket_inits:
            continue
        kinds = {dotted_name(d) for d in f.node.decorator_list}
        if "classmethod" in kinds and f.called & {"cls", f.cls}:
            f.trigger = True
        elif "staticmethod" in kinds and f.cls in f.called:
            f.trigger = True


def _kept_attributes(s: Summaries) -> tuple[str, ...]:
    """``Summaries.kept_attributes``: the attributes ``__init__`` (``ObjectSummary.init_stores``)
    or another method (``Summaries.socket_setters``) stores a socket it makes in, that the module
    itself never closes nor lets go of. Decided without what the view says other modules do, so
    the question the module asks its package does not change with the answer."""
    stores = {(c, a) for c, attrs in s.init_socket_attrs.items() for a in attrs}
    stores |= {(c, a) for c, ms in s.socket_setters.items() for attrs in ms.values() for a in attrs}
    return tuple(sorted(f"{c}.{a}" for c, a in stores if s.objects.keeps_unseen(c, a, elsewhere=False)))


def _base_init_triggers(fns: list[_Fn], s: Summaries) -> None:
    """An ``__init__`` that runs a base's ``__init__`` of this module (``super().__init__()``,
    ``Base.__init__(self)``) storing a socket it makes: from that call on the object under
    construction holds the socket, so what fails after it is SKL111 (``calls._constructor_calls_base_init``)."""
    for f in fns:
        if f.trigger or f.cls is None or f.parent >= 0 or f.node.name != "__init__" or "__init__" not in f.called:
            continue
        call = s.objects.init_base_call.get(f.cls)
        if call is not None and s.objects.base_init_stores(f.cls, call or None):
            f.trigger = True


def _resolve_factory_aliases(w: _Walk, factories: frozenset[str]) -> None:
    """`socket_factory = socket.socket` at module level: calling the alias makes a socket, as
    an import under another name would (`from socket import socket as socket_factory`)."""
    for alias, value in w.aliases:
        q = w.imports.qualify(value)
        if w.is_factory(q, factories):
            w.imports.names[alias] = q
            for f in w.fns:
                if alias in f.called:
                    f.trigger = True


def _find_socket_setters(fns: list[_Fn], imports: ImportTable, factories: frozenset[str], s: Summaries) -> None:
    def fresh(f: _Fn, v: ast.expr) -> bool:
        if isinstance(v, ast.Call):
            return _is_source_call(v, imports, factories, s.sources)
        return isinstance(v, ast.Name) and any(_is_source_call(c, imports, factories, s.sources) for c in f.assigned.get(v.id, ()))

    for f in fns:
        if f.cls is not None and f.parent < 0 and f.node.name in OWNING_METHODS:
            attrs = frozenset(a for a, values in f.self_stored.items() if any(fresh(f, v) for v in values))
            if attrs:
                s.init_socket_attrs[f.cls] = s.init_socket_attrs.get(f.cls, frozenset()) | attrs
        if f.cls is None or f.parent >= 0 or f.node.name in OWNING_METHODS or f.node.name == "__new__":
            continue
        attrs = frozenset(a for a, values in f.self_stored.items() if any(fresh(f, v) for v in values))
        if attrs:
            s.socket_setters.setdefault(f.cls, {})[f.node.name] = attrs
            if attrs & f.self_used and not attrs & f.self_closed:
                if attrs & f.self_io:
                    s.setters_raise.add(f"{f.cls}.{f.node.name}")
                else:
                    s.setters_raise_config.add(f"{f.cls}.{f.node.name}")
    # A constructor calling one is worth analysing (SKL111 if it raises with the socket stored).
    for f in fns:
        if f.cls in s.socket_setters and f.parent < 0 and f.node.name in OWNING_METHODS:
            if f.called & s.socket_setters[f.cls].keys():
                f.trigger = True


def _fails_in_operation(method: str, call: ast.Call) -> bool:
    """The socket method fails in normal operation (`connect` refused, a taken port for
    `bind`), not only when misused (`setsockopt`, a `bind` to port 0)."""
    fails = model.BUILTIN.fails(method)
    if fails == "in-operation-unless-port-zero":
        addr = call.args[0] if call.args else None
        port = addr.elts[1] if isinstance(addr, ast.Tuple) and len(addr.elts) >= 2 else None
        return not (isinstance(port, ast.Constant) and port.value == 0)
    return fails == "in-operation"


def _attribute_rebind_triggers(fns: list[_Fn]) -> None:
    """A method that uses ``self.X`` as a socket (``sendall``, ``recv``...) and assigns
    ``self.X`` may rebind or clear it while that socket is open (SKL104 on attributes), when
    its class owns a socket in ``X``: it uses ``X`` somewhere with a method only a socket has
    (not ``connect()``, which wrappers have too) and closes it somewhere. A class that never
    closes ``X`` holds a socket someone else owns (gevent's request ``Input``)."""
    socket_attrs: dict[str, set[str]] = {}
    closed: dict[str, set[str]] = {}
    for f in fns:
        if f.cls is not None:
            socket_attrs.setdefault(f.cls, set()).update(f.socket_only)
            closed.setdefault(f.cls, set()).update(f.self_closed)
    for f in fns:
        if (
            not f.trigger
            and f.cls is not None
            and f.self_used & f.self_set & socket_attrs.get(f.cls, set()) & closed.get(f.cls, set())
        ):
            f.trigger = True


def _late_triggers(w: _Walk, factories: frozenset[str]) -> None:
    """Names that call a socket factory under another name: local sources, and imports such
    as `from socket import create_connection as connect_to`."""
    extra = set(w.summaries.sources) | w.summaries.socket_classes | set(w.summaries.resource_classes) | {local for local, q in w.imports.names.items() if w.is_factory(q, factories)}
    if extra:
        for f in w.fns:
            if not f.trigger and f.called & extra:
                f.trigger = True
        for ti, called in w.top_called.items():
            if called & extra:
                w.top_trigger[ti] = True


def _find_socket_classes(
    classes: list[ast.ClassDef], imports: ImportTable, s: Summaries, view: Optional[ModuleView]
) -> frozenset[str]:
    """Classes of the module derived from a socket class (``model.SOCKET_CLASSES``, one of the
    project's, or another class of this module that is one): their constructors make sockets.
    Returns their names, which the module's analysis treats as factories."""
    known = set(model.SOCKET_CLASSES) | (set(view.socket_classes) if view else set())
    found: set[str] = set()
    changed = True
    while changed:
        changed = False
        for c in classes:
            if c.name in found:
                continue
            for b in c.bases:
                name = dotted_name(b)
                if name is not None and (imports.qualify(name) in known or name in found):
                    found.add(c.name)
                    changed = True
                    break
    s.socket_classes |= found
    return frozenset(found)


# Methods that only a socket has (a file, a pipe or a queue has none of them): a class calling
# one on an attribute holds a socket there.
_SOCKET_ONLY_METHODS = frozenset(
    {"recv", "recv_into", "recvfrom", "recvfrom_into", "sendall", "sendto", "setsockopt", "getsockopt",
     "getpeername", "getsockname", "settimeout", "makefile", "connect"}
)


def _find_resource_classes(
    classes: list[ast.ClassDef], imports: ImportTable, s: Summaries, factories: frozenset[str]
) -> None:
    """Resource types of the module (``Summaries.resource_classes``): `__init__` stores a
    socket in `self.<attr>` (a factory's result, or its first parameter) and a `close()` or
    `__exit__` of the class calls `self.<attr>.close()`. A class that is a socket itself, or
    that has no such closing method, is not one."""
    for c in classes:
        if c.name in s.socket_classes or c.name in s.resource_classes:
            continue
        methods = {m.name: m for m in c.body if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef))}
        init = methods.get("__init__")
        if init is None:
            continue
        params = [a.arg for a in init.args.args[1:]]
        stored: dict[str, str] = {}  # attribute -> "creates" | "wraps"
        for node in iter_nodes(init):
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                t = node.targets[0]
                if not (isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == "self"):
                    continue
                v = node.value
                if isinstance(v, ast.Name) and params and v.id == params[0]:
                    stored[t.attr] = "wraps"
                elif isinstance(v, ast.Call) and (name := dotted_name(v.func)) is not None and (
                    imports.qualify(name) in model.FACTORIES or imports.qualify(name) in factories or name in factories
                ):
                    stored[t.attr] = "creates"
        # A first argument kept and closed could be any file-like object: it counts only when
        # the class uses it as a socket too (`self.sock.sendall(...)`).
        used_as_socket = {
            node.func.value.attr
            for m in methods.values()
            for node in iter_nodes(m)
            if isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in _SOCKET_ONLY_METHODS
            and isinstance(node.func.value, ast.Attribute)
            and isinstance(node.func.value.value, ast.Name)
            and node.func.value.value.id == "self"
        }
        stored = {a: k for a, k in stored.items() if k == "creates" or a in used_as_socket}
        if not stored:
            continue
        for closer in ("close", "__exit__", "__aexit__"):
            m = methods.get(closer)
            if m is None:
                continue
            for node in iter_nodes(m):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr in model.CLOSE_METHODS
                    and isinstance(node.func.value, ast.Attribute)
                    and isinstance(node.func.value.value, ast.Name)
                    and node.func.value.value.id == "self"
                    and node.func.value.attr in stored
                ):
                    s.resource_classes[c.name] = stored[node.func.value.attr]
                    break
            if c.name in s.resource_classes:
                break


def _import_view(s: Summaries, view: Optional[ModuleView]) -> None:
    """Merge what the module's imports reach in the project into its own summaries, under the
    spellings the module uses, before the summaries that build on them (a local helper that
    returns an imported helper's socket is a source too)."""
    if not view:
        return
    s.socket_classes |= set(view.socket_classes)
    for spelling, c in view.resource_classes.items():
        s.resource_classes[spelling] = c.resource
        s.origins[spelling] = f"{c.path}:{c.line}"
    for cls, methods in view.inherited.items():
        # `self._connect()` in a class whose base (another module's) defines `_connect`: the
        # summaries are by method name and calling class, as for the module's own methods.
        for m, f in methods.items():
            s.method_classes.setdefault(m, set()).add(cls)
            s.origins[m] = f"{f.path}:{f.line}"
            _import_ownership(s, m, f)
            if f.source:
                s.method_sources.setdefault(m, set()).add(cls)
            if f.cannot_raise:
                s.nonraising_methods.setdefault(m, set()).add(cls)
    for spelling, c in view.socket_classes.items():
        s.origins[spelling] = f"{c.path}:{c.line}"
    for spelling, f in view.functions.items():
        s.defined.add(spelling)
        s.origins[spelling] = f"{f.path}:{f.line}"
        _import_ownership(s, spelling, f)
        if f.source:
            s.function_sources.add(spelling)
        if f.is_async:
            s.async_funcs.add(spelling)


def _import_ownership(s: Summaries, spelling: str, f: FunctionFacts) -> None:
    """What an imported helper does with sockets, under the spelling the module calls it by."""
    if f.source:
        s.sources.add(spelling)
    if f.wraps:
        s.wrappers.setdefault(spelling, set()).update(f.wraps)
    if f.closes:
        s.closers.setdefault(spelling, set()).update(f.closes)
    if f.keeps:
        s.keepers.setdefault(spelling, set()).update(f.keeps)


def _import_raising(s: Summaries, view: Optional[ModuleView]) -> None:
    """What imported helpers can raise, after the module's own derivations (which replace
    these sets wholesale)."""
    if not view:
        return
    for spelling, c in view.classes.items():
        if "." not in spelling:
            s.local_classes.add(spelling)
            if c.trivial:
                s.trivial_init.add(spelling)
    for spelling, f in view.functions.items():
        if f.raises == "oscfg":
            s.oscfg_only.add(spelling)
            s.os_only.add(spelling)
        elif f.raises == "os":
            s.os_only.add(spelling)
        elif f.raises == "nonos":
            s.non_os.add(spelling)
        if f.cannot_raise:
            s.nonraising.add(spelling)
        if f.always_raises:
            s.always_raise.add(spelling)


def _class_sources(fns: list[_Fn], imports: ImportTable, factories: frozenset[str], summaries: Summaries) -> None:
    """The class-aware view of the sources: which class defines each method, and which
    definitions of a source name return a fresh socket themselves."""
    for f in fns:
        if f.cls is not None:
            summaries.method_classes.setdefault(f.node.name, set()).add(f.cls)
            if f.node.name in summaries.sources and _fresh_return(f, imports, factories, summaries.sources) is not None:
                summaries.method_sources.setdefault(f.node.name, set()).add(f.cls)
        elif f.node.name in summaries.sources and _fresh_return(f, imports, factories, summaries.sources) is not None:
            summaries.function_sources.add(f.node.name)


def _is_source_call(node: ast.AST, imports: ImportTable, factories: frozenset[str], local_sources: set[str]) -> bool:
    if not isinstance(node, ast.Call):
        return False
    name = dotted_name(node.func)
    if name is not None:
        q = imports.qualify(name)
        if q in model.FACTORIES or q in factories:
            return True
        last = name.rsplit(".", 1)[-1]
        if (name == last or name.startswith(("self.", "cls."))) and last in local_sources:
            return True
    if isinstance(node.func, ast.Attribute) and node.func.attr in model.WRAP_METHODS:
        return True
    return False


def _fresh_return(f: _Fn, imports: ImportTable, factories: frozenset[str], sources: set[str]) -> Optional[ast.expr]:
    """The first `return` of ``f`` that hands back a fresh socket: a source call, or a local
    name bound only to source calls that the function has not kept itself."""
    for r in f.returns:
        if _is_source_call(r, imports, factories, sources) or (
            isinstance(r, ast.Name)
            and r.id not in f.kept
            and any(_is_source_call(c, imports, factories, sources) for c in f.assigned.get(r.id, ()))
        ):
            return r
    return None


def _find_sources(fns: list[_Fn], imports: ImportTable, factories: frozenset[str], s: Summaries) -> None:
    """A function that returns a fresh socket (directly, or through a local name) is a source
    at its call sites; iterate so that a helper returning another helper's socket counts."""
    candidates = [f for f in fns if f.returns]
    for _ in range(5):
        changed = False
        for f in candidates:
            if f.node.name in s.sources:
                continue
            r = _fresh_return(f, imports, factories, s.sources)
            if r is None:
                continue
            s.sources.add(f.node.name)
            # `return ctx.wrap_socket(sock)`, or `sock = _wrap(sock); return sock`: the
            # helper wraps its parameter, and so takes it over.
            calls = [r] if isinstance(r, ast.Call) else f.assigned.get(r.id, []) if isinstance(r, ast.Name) else []
            for c in calls:
                if c.args and isinstance(c.args[0], ast.Name) and c.args[0].id in f.params and _takes_over_first(c, imports, s):
                    s.wrappers.setdefault(f.node.name, set()).add(f.params[c.args[0].id])
            changed = True
        if not changed:
            break


def _takes_over_first(call: ast.Call, imports: ImportTable, s: Summaries) -> bool:
    """The call wraps its first argument into the socket it returns (``ctx.wrap_socket(sock)``,
    ``ssl.wrap_socket(sock)``, a helper that does): not ``socket.socket(family)``."""
    func = call.func
    if isinstance(func, ast.Attribute) and func.attr in model.WRAP_METHODS:
        return True
    name = dotted_name(func)
    if name is None:
        return False
    if imports.qualify(name) in model.WRAPPING_FACTORIES or s.resource_classes.get(name) == "wraps":
        return True
    wrapped = s.wrappers.get(name) or s.wrappers.get(imports.qualify(name))
    return bool(wrapped and 0 in wrapped)


def _catches_oserror(node: ast.Try) -> bool:
    for h in node.handlers:
        if h.type is None:
            return True
        types = h.type.elts if isinstance(h.type, ast.Tuple) else [h.type]
        if any((dotted_name(t) or "") in model.OSERROR_CATCHERS for t in types):
            # A handler that re-raises does not swallow.
            if not any(isinstance(n, ast.Raise) for n in iter_nodes(h)):
                return True
    return False


def _classify_raise(f: _Fn, call: ast.Call, guesses: frozenset[str]) -> None:
    func = call.func
    if isinstance(func, ast.Attribute) and (
        (isinstance(func.value, ast.Name) and func.value.id in f.params)
        # `self.sock.settimeout(t)` in a method: the object's socket, summarised as a parameter's.
        or (f.cls is not None and self_attr(func.value, "self") is not None)
    ):
        if func.attr in model.SOCKET_METHODS or func.attr in model.NONRAISING_SOCKET_METHODS:
            if func.attr not in model.CONFIG_SOCKET_METHODS and func.attr not in model.NONRAISING_SOCKET_METHODS:
                f.os_io = True
            return
    if cannot_fail(call) or logger_call(call, guesses) or _literal_str_method(call):
        return
    if isinstance(func, ast.Name):
        f.os_calls.add(func.id)
        return
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in ("self", "cls"):
        # `self.verbose_set_socket_timeout(sock, t)`: a method of the module, summarised by name.
        f.os_calls.add(func.attr)
        return
    dotted = dotted_name(func)
    if dotted is not None and "." in dotted:
        f.ext_calls.add(dotted)
        return
    f.os_unsafe = True


def _literal_str_method(call: ast.Call) -> bool:
    """``"\x05\x01\x00".encode("utf-8")``, ``"{}:{}".format(host, port)``: a string method
    on a literal fails only for a programming error (model rows ``string-methods``; ``encode``
    only to UTF-8, as ``raises.str_method_cannot_fail`` has it for the flow analysis)."""
    func = call.func
    if not (
        isinstance(func, ast.Attribute)
        and isinstance(func.value, (ast.Constant, ast.JoinedStr))
        and isinstance(getattr(func.value, "value", ""), (str, bytes))
        and func.attr in model.STR_BUILDING_METHODS
    ):
        return False
    if func.attr == "encode" and call.args:
        codec = call.args[0]
        return isinstance(codec, ast.Constant) and codec.value in ("utf-8", "utf8", "UTF-8")
    return True


def _find_os_only(fns: list[_Fn], s: Summaries, imports: ImportTable) -> None:
    # Library functions that fail with OSError only: configuration, name resolution, address
    # parsing (model rows `config-functions`, `network-functions`, `oserror-functions`).
    os_only_functions = model.OS_CONFIG_FUNCTIONS | model.NETWORK_FUNCTIONS | model.OSERROR_FUNCTIONS

    def unsafe(f: _Fn) -> bool:
        return f.os_unsafe or any(imports.qualify(d) not in os_only_functions for d in f.ext_calls)

    unsafe_names = {f.node.name for f in fns if unsafe(f)}
    by_name: dict[str, list[_Fn]] = {}
    for f in fns:
        by_name.setdefault(f.node.name, []).append(f)

    def closure(cand: set[str]) -> set[str]:
        changed = True
        while changed:
            changed = False
            for name in list(cand):
                if any(not (f.os_calls <= cand) for f in by_name[name]):
                    cand.discard(name)
                    changed = True
        return cand

    s.os_only = closure({f.node.name for f in fns} - unsafe_names)
    # Configuration only (fcntl, setsockopt, bind): plain OSError, never a timeout.
    s.oscfg_only = closure(
        s.os_only
        - {f.node.name for f in fns if f.os_io or any(imports.qualify(d) in model.NETWORK_FUNCTIONS for d in f.ext_calls)}
    )


def _swallows_everything(stmt: ast.stmt, imports: ImportTable) -> bool:
    """``with suppress(Exception): ...`` or ``try: ... except Exception: <no raise>`` with no
    ``else``/``finally``: nothing the block does escapes it."""
    if isinstance(stmt, ast.With) and len(stmt.items) == 1:
        call = stmt.items[0].context_expr
        if isinstance(call, ast.Call) and (name := dotted_name(call.func)) is not None:
            if imports.qualify(name) in model.SUPPRESS or name in model.SUPPRESS:
                return any((n := dotted_name(a)) is not None and n in model.CATCH_ALL for a in call.args)
        return False
    if isinstance(stmt, ast.Try) and not stmt.orelse and not stmt.finalbody:
        for h in stmt.handlers:
            if h.type is None or ((n := dotted_name(h.type)) is not None and n in model.CATCH_ALL):
                return not any(isinstance(x, ast.Raise) for x in ast.walk(h))
    return False


def _ends_in_raise(body: list[ast.stmt]) -> bool:
    if not body:
        return False
    last = body[-1]
    if isinstance(last, ast.Raise):
        return True
    if isinstance(last, ast.If):
        return _ends_in_raise(last.body) and _ends_in_raise(last.orelse)
    return False


def socket_type_arg(call: ast.Call) -> Optional[ast.expr]:
    """The ``type`` argument of ``socket.socket(family, type, ...)``, positional or keyword."""
    typ: Optional[ast.expr] = call.args[1] if len(call.args) > 1 else None
    for kw in call.keywords:
        if kw.arg == "type":
            typ = kw.value
    return typ


def _dgram_factory(node: ast.expr, imports: ImportTable) -> bool:
    """``socket.socket(AF_INET, SOCK_DGRAM)`` (positional or ``type=``)."""
    if not isinstance(node, ast.Call):
        return False
    name = dotted_name(node.func)
    if name is None or imports.qualify(name) != "socket.socket":
        return False
    typ = socket_type_arg(node)
    return typ is not None and (dotted_name(typ) or "").rsplit(".", 1)[-1] == "SOCK_DGRAM"


def _find_dgram_params(
    fns: list[_Fn], imports: ImportTable, s: Summaries, unseen: set[str], call_funcs: dict[str, int]
) -> None:
    by_name: dict[str, list[_Fn]] = {}
    for f in fns:
        by_name.setdefault(f.node.name, []).append(f)
    # Candidates: private helpers defined once, only ever called (never passed around).
    cand: dict[str, set[int]] = {}
    for name, defs in by_name.items():
        f = defs[0]
        if len(defs) != 1 or not (name.startswith("_") or f.parent >= 0) or name.startswith("__"):
            continue
        if name in unseen or not call_funcs.get(name):
            continue
        cand[name] = set(f.params.values())
    if not cand:
        return
    # Each call site once: (callee, position, passes a datagram socket for sure, or the
    # caller's parameter it passes on, whose own status the fixpoint decides).
    sites: list[tuple[str, int, bool, Optional[tuple[str, int]]]] = []
    for f in fns:
        dgram_locals: Optional[set[str]] = None
        for last, pos, arg in f.arg_calls:
            if last not in cand:
                continue
            if pos < 0 or arg is None:
                sites.append((last, -1, False, None))
                continue
            if dgram_locals is None:
                dgram_locals = {n for n, calls in f.assigned.items() if calls and all(_dgram_factory(c, imports) for c in calls)}
            what = arg.id if isinstance(arg, ast.Name) else None
            sure = _dgram_factory(arg, imports) or what in dgram_locals
            via = (f.node.name, f.params[what]) if not sure and what is not None and what in f.params else None
            sites.append((last, pos, sure, via))
    # Greatest fixpoint: a parameter stays a datagram one while every call passes a datagram
    # socket, possibly another such parameter (helpers calling helpers).
    changed = True
    while changed:
        changed = False
        ok_at: dict[tuple[str, int], bool] = {}
        for last, pos, sure, via in sites:
            ok = sure or (via is not None and via[1] in cand.get(via[0], set()))
            for k in [(last, i) for i in cand[last]] if pos < 0 else [(last, pos)]:
                ok_at[k] = ok_at.get(k, True) and ok
        for name in list(cand):
            keep = {i for i in cand[name] if ok_at.get((name, i), False)}
            if keep != cand[name]:
                cand[name] = keep
                changed = True
    s.dgram_params = {n: idx for n, idx in cand.items() if idx}


def _find_always_raise(fns: list[_Fn], s: Summaries) -> None:
    names: dict[str, bool] = {}
    for f in fns:
        ok = _ends_in_raise(list(f.node.body)) and not any(
            isinstance(n, (ast.Return, ast.Yield, ast.YieldFrom)) for n in ast.walk(f.node)
        )
        names[f.node.name] = names.get(f.node.name, True) and ok
    s.always_raise = {n for n, ok in names.items() if ok}


def _find_nonraising(fns: list[_Fn], s: Summaries, imports: ImportTable, guesses: frozenset[str]) -> None:
    names: dict[str, bool] = {}
    classes: dict[tuple[str, str], bool] = {}
    non_os: dict[str, bool] = {}
    for f in fns:
        body = without_docstring(f.node.body)
        guard = OsGuard(set(f.params), imports, guesses)
        guarded = bool(body) and guard.block(body, False)
        ok = (
            (len(body) == 1 and _swallows_everything(body[0], imports))
            or (bool(body) and only_reports(body, guesses))
            or (guarded and not guard.translates and not guard.other_calls)
        )
        non_os[f.node.name] = non_os.get(f.node.name, True) and guarded
        # Every definition of the name must be safe (conditional definitions, methods), except
        # that a method is judged by its own class's definition (`Summaries.nonraising_in`).
        names[f.node.name] = names.get(f.node.name, True) and ok
        if f.cls is not None:
            classes[f.node.name, f.cls] = classes.get((f.node.name, f.cls), True) and ok
    s.nonraising = {n for n, ok in names.items() if ok}
    s.non_os = {n for n, ok in non_os.items() if ok} - s.nonraising
    for (n, c), ok in classes.items():
        if ok:
            s.nonraising_methods.setdefault(n, set()).add(c)


def _find_local_classes(classes: list[ast.ClassDef], s: Summaries) -> None:
    trivial: dict[str, bool] = {}
    for c in classes:
        s.local_classes.add(c.name)
        trivial[c.name] = trivial.get(c.name, True) and _trivial_init(c)
    s.trivial_init = {n for n, ok in trivial.items() if ok}
    s.args_only_exceptions = _args_only_exceptions(classes)


def _args_only_exceptions(classes: list[ast.ClassDef]) -> set[str]:
    out: set[str] = set()
    seen: set[str] = set()
    for c in classes:
        own_init = any(
            isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name in ("__init__", "__new__") for n in c.body
        )
        bases = [dotted_name(b) for b in c.bases]
        if (
            c.name not in seen  # one definition only
            and not own_init
            and not c.decorator_list
            and not c.keywords
            and bases
            and all(b is not None and (b in out or model.builtin_exception(b) is not None) for b in bases)
        ):
            out.add(c.name)
        else:
            out.discard(c.name)
        seen.add(c.name)
    return out


def _trivial_init(c: ast.ClassDef) -> bool:
    """Constructing the class cannot fail: its `__init__` only stores values it was given or
    computed without calls (a `_Client(sock)` that stores `self.sock = sock`); without an
    `__init__`, only if it has no base class whose constructor would run instead."""
    if c.decorator_list or c.keywords:
        return False  # a dataclass, a metaclass: the constructor is not what it looks like
    inits = [n for n in c.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name in ("__init__", "__new__", "__post_init__")]
    if not inits:
        return all(isinstance(b, ast.Name) and b.id == "object" for b in c.bases)
    if len(inits) != 1 or inits[0].name != "__init__" or inits[0].decorator_list:
        return False
    for stmt in without_docstring(inits[0].body):
        if isinstance(stmt, ast.Pass):
            continue
        if isinstance(stmt, (ast.Assign, ast.AnnAssign)) and stmt.value is not None:
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            if all(isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == "self" for t in targets) and no_calls(stmt.value):
                continue
        return False
    return True


def _find_fake_net(fns: list[_Fn], s: Summaries, imports: ImportTable) -> None:
    installers = set(model.FAKE_FACTORY_INSTALLERS) | {
        local for local, q in imports.names.items() if q in model.FAKE_NETWORK_CLASSES
    }
    changed = True
    while changed:
        changed = False
        for f in fns:
            if f.node.name not in s.fake_net and f.called & installers:
                s.fake_net.add(f.node.name)
                installers.add(f.node.name)
                changed = True


def _names_a_class(last: str) -> bool:
    """The shape the ``class-call-takes-ownership`` guess reads as a class (``Conn``,
    ``_TransportWrapper``; not ``CONSTANT``), other than an exception: raising one hands its
    arguments to nobody who closes them."""
    bare = last.lstrip("_")
    return bool(bare) and bare[0].isupper() and not bare.isupper() and not bare.endswith(("Error", "Exception", "Warning"))


def _close_chains(fns: list[_Fn], s: Summaries, by_name: bool) -> None:
    """A helper that passes its parameter to a closing helper closes it too
    (socketserver's ``shutdown_request`` -> ``close_request``), also to a function of another
    module named for closing (``close_quietly(s)``, under ``closes-by-name``: as at a direct
    call, calls._closer_params)."""
    for _ in range(5):
        changed = False
        for f in fns:
            for callee, pos, param in f.param_calls:
                closes = s.closers.get(callee)
                if not closes and by_name and callee not in s.defined and model.closes_by_name(callee):
                    closes = {pos}
                if closes and pos in closes and param not in s.closers.get(f.node.name, set()):
                    s.closers.setdefault(f.node.name, set()).add(param)
                    changed = True
        if not changed:
            break


def _find_handlers(w: _Walk) -> None:
    """The module's connection handlers (``asyncio.start_server(handle, ...)``, the callee
    qualified through the imports): each is analysed, owning its connection parameter."""
    for callee, cb, method in w.handler_calls:
        h = w.handlers.get(w.imports.qualify(callee))
        if h is None:
            continue
        for f in w.fns:
            # `handle` is a module-level coroutine function; `self._handle` a method of a class
            # (a nested function of the same name is someone else's callback).
            where = f.parent < 0 and (f.cls is not None) == method
            if f.node.name == cb and isinstance(f.node, ast.AsyncFunctionDef) and where:
                f.trigger = True
                w.summaries.handlers[cb] = (h, method)


def _snippets(tree: ast.Module, fns: list[_Fn], top_trigger: dict[int, bool]) -> list[Snippet]:
    # A function belongs to the snippet of its outermost candidate ancestor (itself included).
    # The snippet is the outermost function around a candidate: a nested function needs its
    # enclosing function's parameters (a `callback` it hands sockets to).
    top: list[int] = []
    for i, f in enumerate(fns):
        # Parents are always recorded before their children (preorder walk).
        top.append(top[f.parent] if f.parent >= 0 else i)
    wanted = {top[i] for i, f in enumerate(fns) if f.trigger}
    members: dict[int, list[_Fn]] = {}
    for i, f in enumerate(fns):
        if top[i] in wanted:
            members.setdefault(top[i], []).append(f)
    snippets: list[Snippet] = []
    for r, group in members.items():
        root = fns[r].node
        group.sort(key=lambda f: (f.node.lineno, f.node.col_offset))
        start = min([root.lineno, *(d.lineno for d in root.decorator_list)])
        snippets.append(
            Snippet(start, root.end_lineno or root.lineno, root.col_offset > 0, [(f.node, f.trigger) for f in group])
        )
    for ti in sorted(top_trigger):
        stmt = tree.body[ti]
        snippets.append(Snippet(stmt.lineno, stmt.end_lineno or stmt.lineno, False, [], module_level=True))
    snippets.sort(key=lambda s: s.start)
    return snippets


def iter_nodes(root: ast.AST) -> Iterator[ast.AST]:
    """Iterative walk (deeply nested input must not hit the recursion limit)."""
    stack = [root]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(ast.iter_child_nodes(node))
