"""Objects that own sockets: what the classes of a module do with their attributes.

One walk of each class's methods (stdlib ``ast``) answers two questions:

* which attributes of ``self`` a method closes, directly (``self.sock.close()``, ``with
  self.sock:``, ``closing(self.sock)``, ``close_socket(self.sock)``, an alias ``s = self.sock;
  s.close()``) or through another method of the class or of a module-local base
  (``self._cleanup()``, ``super().close()``). The interpreter reads it where ``__init__`` or
  ``__enter__`` calls ``self.close()`` in a handler: a close() that closes ``self.sock`` cleans
  up the half-built object (SKL111);
* which attribute names the module ever lets go of: closes, passes to a call, returns, aliases,
  puts in a container or hands to a ``with``. Anything but a socket method called on it, a
  test, or an attribute read off it. An attribute a class fills with a fresh socket and the
  module never lets go of is never closed (SKL112).

Everything here is about one module; a base class or a caller in another module is unknown,
and the answers lean towards "closed" where the module cannot tell (``docs/rules/SKL112.md``).
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Optional, Union

from socklint.analysis import model
from socklint.analysis.astutil import children, dotted_name
from socklint.heuristics import words

FuncNode = Union[ast.FunctionDef, ast.AsyncFunctionDef]

# `super().m()` / `Base.m(self)` in the calls a method makes, and "every attribute".
SUPER = "super:"
ALL = "*"


def ends_object(method: str) -> bool:
    """Heuristic ``object-method-closes-by-name``: the method's name says it ends the object
    (``close``, ``disconnect``, ``server_close``, ``_cleanup``, ``__exit__``)."""
    return method in ("__exit__", "__aexit__", "__del__") or bool(set(words(method)) & model.OBJECT_ENDING_WORDS)


# Bases of another module that close nothing their subclasses store: a class deriving only from
# these (and from classes of its own module) is all there is to read.
INERT_BASES = frozenset({"object", "Thread", "ABC", "Generic", "Protocol", "Exception", "BaseException"})

# Socket methods whose call on `self.X` neither closes nor lets the socket go: the object
# uses its socket. Everything else done with `self.X` counts as letting go (`fileno()` may
# feed `os.close`, `makefile()` / `dup()` make another owner, `detach()` / `unwrap()` give it up).
# `makefile()` is a use: the file it returns does not close the socket (its close() only drops
# one reference; the socket closes when its own close() has been called too).
_USES = frozenset(model.SOCKET_METHODS) - {"fileno", "detach", "unwrap", "share", "shutdown"}


@dataclass
class ObjectSummary:
    """Module-local facts about classes and their attributes, by class name (classes of one
    name defined twice are merged)."""

    # class -> the module-local classes it names as bases
    bases: dict[str, list[str]] = field(default_factory=dict)
    # class -> method -> attributes of self it closes (through other methods too)
    closes: dict[str, dict[str, set[str]]] = field(default_factory=dict)
    # class -> the bases it names that the module does not define (`socketserver.TCPServer`)
    external_bases: dict[str, list[str]] = field(default_factory=dict)
    # Attribute names the module lets go of (see the module docstring) through an object other
    # than a method's own `self`, and by class, through `self` in the class's methods.
    released: set[str] = field(default_factory=set)
    released_by: dict[str, set[str]] = field(default_factory=dict)
    # "Class.attr" that other modules of the package let go of (`server.srv_sck.close()` in
    # `__main__.py`), from the project view (``project.released_in_package``).
    released_elsewhere: set[str] = field(default_factory=set)
    # Classes whose `__init__` stores a socket it makes on self (`self.sock =
    # socket.create_connection(addr)`): building one in a factory makes an object to close.
    socket_inits: set[str] = field(default_factory=set)
    # Classes that reach their attributes by name (`getattr(self, ...)`, `self.__dict__`,
    # `vars(self)`, `__getattr__`): what they close cannot be read off the code.
    opaque: set[str] = field(default_factory=set)
    # class -> attributes its own `__init__` stores a socket it makes in; and how that
    # `__init__` runs a base's (`super().__init__()`: "", `Base.__init__(self)`: "Base").
    init_stores: dict[str, set[str]] = field(default_factory=dict)
    init_base_call: dict[str, str] = field(default_factory=dict)
    # class -> the last names of all its bases, in order (`super()` runs the first one's).
    base_order: dict[str, list[str]] = field(default_factory=dict)
    # class -> what the `__init__` of its first base, a class of another module of the project,
    # stores a socket in (the project view's ``base_inits``).
    imported_inits: dict[str, set[str]] = field(default_factory=dict)
    # class -> methods that hand `self` itself to a call (`cleanup(self)`, `pool.release(self)`),
    # directly or through another method of the class: what they close is not all in the class.
    hands_self: dict[str, set[str]] = field(default_factory=dict)

    def family(self, cls: str) -> set[str]:
        """``cls`` with its module-local bases and subclasses, transitively."""
        out = {cls}
        changed = True
        while changed:
            changed = False
            for c, bs in self.bases.items():
                new = set(bs) - out if c in out else ({c} if out & set(bs) else set())
                if new:
                    out |= new
                    changed = True
        return out

    def keeps_unseen(self, cls: str, attr: str, elsewhere: bool = True) -> bool:
        """Whether ``cls`` keeps ``self.<attr>`` where no code of the module closes it or lets
        it go: the attribute name is never released in the module, no class of the family reaches
        attributes by name, and every base from elsewhere is one that closes nothing of its
        subclasses (``object``, ``threading.Thread``...). With ``elsewhere``, nor in another
        module of the package (``released_elsewhere``)."""
        if attr in self.released:
            return False
        fam = self.family(cls)
        if fam & self.opaque or any(attr in self.released_by.get(c, ()) for c in fam):
            return False
        if elsewhere and any(f"{c}.{attr}" in self.released_elsewhere for c in fam):
            return False
        return all(b.rsplit(".", 1)[-1] in INERT_BASES for c in fam for b in self.external_bases.get(c, ()))

    def calls_close(self, cls: str, callee: str, by_name: bool) -> set[str]:
        """What a call recorded by ``_method_closes`` closes: ``self.m()`` from ``cls``, or
        ``super().m()`` (``SUPER + m``) from its bases; a method the module does not define,
        named for ending the object, closes everything (``ALL``) under the heuristic."""
        if callee.startswith(SUPER):
            m = callee[len(SUPER):]
            found = [self.closed_by(b, m) for b in self.bases.get(cls, ())]
            known = [f for f in found if f is not None]
            if known:
                return set().union(*known)
        else:
            m = callee
            own = self.closed_by(cls, m)
            if own is not None:
                return own
        return {ALL} if by_name and ends_object(m) else set()

    def closed_by(self, cls: str, method: str) -> Optional[set[str]]:
        """The attributes ``self.method()`` closes when called in ``cls``: the first
        definition found in ``cls`` and its module-local bases; None when none is in the module."""
        owner = self.defining(cls, method)
        return None if owner is None else self.closes[owner][method]

    def defining(self, cls: str, method: str) -> Optional[str]:
        """The class whose ``method`` a call of ``self.method()`` in ``cls`` runs: the first
        definition in ``cls`` and its module-local bases (breadth first); None when none is in
        the module."""
        seen: set[str] = set()
        todo = [cls]
        while todo:
            c = todo.pop(0)
            if c in seen:
                continue
            seen.add(c)
            ms = self.closes.get(c)
            if ms is not None and method in ms:
                return c
            todo.extend(self.bases.get(c, ()))
        return None

    def base_init_stores(self, cls: str, named: Optional[str] = None) -> set[str]:
        """The attributes of ``self`` that hold a socket once ``super().__init__()`` (or
        ``named.__init__(self)``) called in ``cls`` returns: those the ``__init__`` it runs, of a
        class of this module, stores a socket it makes in, and those of the base ``__init__``
        that one runs in turn; for a first base from another module of the project, what the
        project index says it stores (``imported_inits``). Empty when the ``__init__`` run is
        unknown (a library's: ``socketserver.TCPServer``)."""
        first = next(iter(self.base_order.get(cls, ())), None)
        return self._init_chain(cls, named if named is not None else first)

    def init_attrs(self, cls: str) -> set[str]:
        """The attributes ``cls(...)`` stores a socket it makes in: its own ``__init__`` (or its
        bases' here), as the project index exports it (``ClassFacts.init_stores``)."""
        return self._init_chain(None, cls)

    def _init_chain(self, frm: Optional[str], target: Optional[str]) -> set[str]:
        out: set[str] = set()
        seen: set[str] = set()
        while target is not None and target not in seen:
            seen.add(target)
            if target not in self.closes:
                # A class of another module: the index's word, for the first base only.
                if frm is not None and target == next(iter(self.base_order.get(frm, ())), None):
                    out |= self.imported_inits.get(frm, set())
                break
            frm = target
            if "__init__" not in self.closes[target]:
                # No `__init__` of its own: its first base's runs.
                target = next(iter(self.base_order.get(target, ())), None)
                continue
            out |= self.init_stores.get(target, set())
            call = self.init_base_call.get(target)
            if call is None:
                break
            target = call or next(iter(self.base_order.get(target, ())), None)
        return out

    def ancestors(self, cls: str) -> set[str]:
        """``cls`` and its module-local bases, transitively."""
        out: set[str] = set()
        todo = [cls]
        while todo:
            c = todo.pop()
            if c not in out:
                out.add(c)
                todo.extend(self.bases.get(c, ()))
        return out

    def closes_exactly(self, cls: str, method: str, via_super: bool = False) -> Optional[set[str]]:
        """What ``self.method()`` (``super().method()`` with ``via_super``) called in ``cls``
        closes, when the module shows all of it: the method is defined in the module, the
        class and its bases reach no attribute by name, every base from elsewhere closes nothing
        (``INERT_BASES``), and the method hands ``self`` to no call. Then an attribute not in the
        answer is not closed by the call (``close()`` that closes only a file). None otherwise:
        the caller keeps its guesses (``object-method-closes-by-name``)."""
        starts = list(self.bases.get(cls, ())) if via_super else [cls]
        if not starts:
            return None
        found: set[str] = set()
        for start in starts:
            line = self.ancestors(start)
            if line & self.opaque or any(
                b.rsplit(".", 1)[-1] not in INERT_BASES for c in line | {cls} for b in self.external_bases.get(c, ())
            ):
                return None
            owner = self.defining(start, method)
            if owner is None or method in self.hands_self.get(owner, ()):
                return None
            closes = self.closes[owner][method]
            if ALL in closes:
                return None
            found |= closes
        return found


def summarize(
    classes: Iterable[ast.ClassDef],
    closers: dict[str, set[int]],
    is_source: Callable[[ast.AST], bool] = lambda n: False,
    by_name: bool = True,
) -> ObjectSummary:
    """``by_name``: the heuristic ``object-method-closes-by-name`` applies (a method that calls
    `self.disconnect()` of a base of another module closes everything, ``ALL``)."""
    out = ObjectSummary()
    classes = list(classes)
    names = {c.name for c in classes}
    direct: dict[str, dict[str, set[str]]] = {}
    calls: dict[str, dict[str, set[str]]] = {}  # class -> method -> self.m() / super().m() it calls
    for c in classes:
        out.bases.setdefault(c.name, [])
        out.external_bases.setdefault(c.name, [])
        # A dotted base (`queue.Queue`), or one spelt like the class itself (`class Queue(Queue)`
        # after `from queue import Queue`), is another module's class, never one of these.
        out.base_order[c.name] = [
            d if d is not None and "." not in d and d != c.name else f"<elsewhere>{d or '?'}"
            for d in (dotted_name(b) for b in c.bases)
        ]
        for b in c.bases:
            d = dotted_name(b)
            if d is not None and d.rsplit(".", 1)[-1] in names and d.rsplit(".", 1)[-1] != c.name:
                out.bases[c.name].append(d.rsplit(".", 1)[-1])
            else:
                # A base of another module (or one spelt as an expression) may close anything.
                out.external_bases[c.name].append(d or "?")
        if c.keywords:
            out.external_bases[c.name].append("?")  # a metaclass: the class is not what it looks like
        for fn in c.body:
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            if fn.name in ("__getattr__", "__getattribute__"):
                out.opaque.add(c.name)
            me = _self_name(fn)
            if fn.name == "__init__":
                stored = _fresh_socket_attrs(fn, is_source)
                if stored:
                    out.socket_inits.add(c.name)
                    out.init_stores[c.name] = stored
                base_call = _base_init_call(fn, me)
                if base_call is not None:
                    out.init_base_call[c.name] = base_call
            closed, called, opaque, hands = _method_closes(fn, me, closers)
            if hands:
                out.hands_self.setdefault(c.name, set()).add(fn.name)
            direct.setdefault(c.name, {}).setdefault(fn.name, set()).update(closed)
            calls.setdefault(c.name, {}).setdefault(fn.name, set()).update(called)
            if opaque:
                out.opaque.add(c.name)
    # A subclass without an `__init__` of its own runs its module-local base's.
    for _ in range(6):
        more = {
            c.name
            for c in classes
            if c.name not in out.socket_inits
            and not any(isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) and fn.name == "__init__" for fn in c.body)
            and out.bases.get(c.name)
            and out.bases[c.name][0] in out.socket_inits
        }
        if not more:
            break
        out.socket_inits |= more
    out.closes = {c: {m: set(a) for m, a in ms.items()} for c, ms in direct.items()}
    # Through other methods: `close()` calling `self._close_socket()`, to a fixed point.
    for _ in range(6):
        changed = False
        for cname, ms in calls.items():
            for m, called in ms.items():
                for callee in called:
                    through = out.calls_close(cname, callee, by_name)
                    if through and not through <= out.closes[cname][m]:
                        out.closes[cname][m] |= through
                        changed = True
                    if m not in out.hands_self.get(cname, ()) and _calls_hands_self(out, cname, callee):
                        out.hands_self.setdefault(cname, set()).add(m)
                        changed = True
        if not changed:
            break
    return out


def _calls_hands_self(s: ObjectSummary, cls: str, callee: str) -> bool:
    """The method ``callee`` (as ``_method_closes`` records it) called from ``cls`` hands
    ``self`` to a call."""
    if callee.startswith(SUPER):
        m = callee[len(SUPER):]
        owners = [s.defining(b, m) for b in s.bases.get(cls, ())]
    else:
        m = callee
        owners = [s.defining(cls, m)]
    return any(o is not None and m in s.hands_self.get(o, ()) for o in owners)


def released_attributes(tree: ast.AST) -> tuple[set[str], dict[str, set[str]]]:
    """Where the module lets attributes go (see the module docstring): the names let go of
    through any object but a method's own ``self`` (``client.sock.close()``), and, by class, the
    names let go of through ``self`` in its methods."""
    other: set[str] = set()
    by_class: dict[str, set[str]] = {}
    # (node, enclosing class, the name of self in the enclosing method of that class)
    todo: list[tuple[ast.AST, Optional[str], Optional[str]]] = [(tree, None, None)]
    while todo:
        node, cls, me = todo.pop()
        for child in children(node):
            if child.__class__ is ast.Name or child.__class__ is ast.Constant:
                continue  # leaves: nothing below them to let go of
            c_cls, c_me = cls, me
            if isinstance(child, ast.ClassDef):
                c_cls, c_me = child.name, None
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) and isinstance(node, ast.ClassDef):
                c_me = _self_name(child)
            if child.__class__ is ast.Attribute and (
                isinstance(child.ctx, ast.Del) or (isinstance(child.ctx, ast.Load) and _lets_go(child, node))
            ):
                value = child.value
                if cls is not None and me is not None and isinstance(value, ast.Name) and value.id == me:
                    by_class.setdefault(cls, set()).add(child.attr)
                else:
                    other.add(child.attr)
            todo.append((child, c_cls, c_me))
    return other, by_class


def _lets_go(node: ast.Attribute, parent: Optional[ast.AST]) -> bool:
    """Whether this read of ``obj.X`` may let the socket in it go (or close it)."""
    if isinstance(parent, ast.Attribute) and parent.value is node:
        # `self.X.m(...)` or `self.X.family`: a use, unless it closes or gives the socket up.
        return parent.attr not in _USES and parent.attr not in ("family", "type", "proto", "timeout", "closed")
    if isinstance(parent, (ast.If, ast.While, ast.IfExp, ast.Assert)) and getattr(parent, "test", None) is node:
        return False
    if isinstance(parent, ast.UnaryOp) and isinstance(parent.op, ast.Not):
        return False
    if isinstance(parent, ast.BoolOp):
        return False  # `if self.X and ...`: a test (the value of `a or b` is rare with sockets)
    if isinstance(parent, ast.Compare):
        # `self.X is None`, `self.X == other`: a test. `sock in self.X` keeps nothing either.
        return False
    return True


def _fresh_socket_attrs(fn: FuncNode, is_source: Callable[[ast.AST], bool]) -> set[str]:
    """The X of ``self.X = <socket source>()`` in the method, directly or through a local name
    bound to one (`sock = socket.socket(); ...; self.sock = sock`)."""
    me = _self_name(fn)
    fresh: set[str] = set()
    stores: list[tuple[str, ast.expr]] = []
    for n in _walk_own(fn):
        if isinstance(n, ast.Assign):
            for t in n.targets:
                attr = self_attr(t, me)
                if isinstance(t, ast.Name) and is_source(n.value):
                    fresh.add(t.id)
                elif attr is not None:
                    stores.append((attr, n.value))
    return {a for a, v in stores if is_source(v) or (isinstance(v, ast.Name) and v.id in fresh)}


def _base_init_call(fn: FuncNode, me: Optional[str]) -> Optional[str]:
    """How ``__init__`` runs a base's ``__init__``: ``super().__init__(...)`` gives "",
    ``Base.__init__(self, ...)`` gives "Base"; None when it does neither."""
    for n in _walk_own(fn):
        if not (isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "__init__"):
            continue
        recv = n.func.value
        if isinstance(recv, ast.Call) and dotted_name(recv.func) == "super":
            return ""
        d = dotted_name(recv)
        if d is not None and me is not None and n.args and isinstance(n.args[0], ast.Name) and n.args[0].id == me:
            # `socketserver.TCPServer.__init__(self, ...)`: a class of another module ("?").
            return d if "." not in d else "?"
    return None


def _self_name(fn: FuncNode) -> Optional[str]:
    args = [*fn.args.posonlyargs, *fn.args.args]
    if not args:
        return None
    if any(dotted_name(d) == "staticmethod" for d in fn.decorator_list):
        return None
    return args[0].arg


def self_attr(node: Optional[ast.AST], me: Optional[str]) -> Optional[str]:
    """``X`` of ``<me>.X`` (``me``: the method's name for its instance, usually ``self``)."""
    if me is not None and isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == me:
        return node.attr
    return None


# Nodes a method's walk never yields: other scopes, and the leaves (names and constants, about
# half of all nodes) that its users only look at through their parents.
_NOT_WALKED = frozenset({ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda, ast.Name, ast.Constant})


def _walk_own(fn: FuncNode) -> list[ast.AST]:
    """The nodes of the method's body, not of functions or classes nested in it, nor names and
    constants."""
    out: list[ast.AST] = []
    todo: list[ast.AST] = list(fn.body)
    while todo:
        n = todo.pop()
        out.append(n)
        todo.extend([c for c in children(n) if c.__class__ not in _NOT_WALKED])
    return out


def _method_closes(fn: FuncNode, me: Optional[str], closers: dict[str, set[int]]) -> tuple[set[str], set[str], bool, bool]:
    """The attributes of ``self`` the method closes itself, the methods of ``self`` it calls
    (``self.m()``, ``super().m()``, ``Base.m(self)``), whether it reaches attributes by name,
    and whether it hands ``self`` itself to a call (`cleanup(self)`: that call may close them)."""
    closed: set[str] = set()
    called: set[str] = set()
    opaque = False
    hands = False
    alias: dict[str, set[str]] = {}  # local name -> attributes of self it may hold
    nodes = _walk_own(fn)

    def attrs_of(e: ast.AST) -> set[str]:
        a = self_attr(e, me)
        if a is not None:
            return {a}
        if isinstance(e, ast.Name):
            return alias.get(e.id, set())
        if isinstance(e, (ast.Tuple, ast.List, ast.Set)):
            return set().union(*(attrs_of(x) for x in e.elts)) if e.elts else set()
        return set()

    # Aliases first (an assignment may come after its use in walk order, never in a loop).
    for n in nodes:
        if isinstance(n, ast.Assign):
            for t in n.targets:
                if isinstance(t, ast.Name):
                    alias.setdefault(t.id, set()).update(attrs_of(n.value))
                elif isinstance(t, ast.Tuple) and isinstance(n.value, ast.Tuple) and len(t.elts) == len(n.value.elts):
                    for te, ve in zip(t.elts, n.value.elts):
                        if isinstance(te, ast.Name):
                            alias.setdefault(te.id, set()).update(attrs_of(ve))
        elif isinstance(n, (ast.For, ast.AsyncFor)) and isinstance(n.target, ast.Name):
            alias.setdefault(n.target.id, set()).update(attrs_of(n.iter))
        elif isinstance(n, ast.NamedExpr):
            alias.setdefault(n.target.id, set()).update(attrs_of(n.value))
    for n in nodes:
        if isinstance(n, (ast.With, ast.AsyncWith)):
            for item in n.items:
                closed |= attrs_of(item.context_expr)
            continue
        if not isinstance(n, ast.Call):
            continue
        f = n.func
        name = dotted_name(f)
        last = (name or "").rsplit(".", 1)[-1]
        if name in ("getattr", "setattr", "vars", "delattr") and n.args and isinstance(n.args[0], ast.Name) and n.args[0].id == me:
            opaque = True
        if isinstance(f, ast.Attribute):
            if f.attr in model.CLOSE_METHODS or f.attr == "__exit__":
                closed |= attrs_of(f.value)
            recv = f.value
            if isinstance(recv, ast.Name) and recv.id == me:
                called.add(f.attr)
            elif isinstance(recv, ast.Call) and dotted_name(recv.func) == "super":
                called.add(SUPER + f.attr)
            elif n.args and isinstance(n.args[0], ast.Name) and n.args[0].id == me:
                called.add(SUPER + f.attr)  # `Base.close(self)`
        # `Base.close(self)` runs a method of the class (above); any other call given `self`
        # may close what it holds.
        based = (
            isinstance(f, ast.Attribute)
            and not (isinstance(f.value, ast.Name) and f.value.id == me)
            and not (isinstance(f.value, ast.Call) and dotted_name(f.value.func) == "super")
        )
        given = [a for i, a in enumerate(n.args) if not (based and i == 0)] + [k.value for k in n.keywords]
        if me is not None and any(isinstance(a, ast.Name) and a.id == me for a in given):
            hands = True
        # `closing(self.X)`, `stack.enter_context(self.X)`, `stack.callback(self.X.close)`,
        # `close_socket(self.X)`, a module closer.
        closes_args = last in ("closing", "enter_context", "enter_async_context") or model.closes_by_name(last) or last in closers
        for a in n.args:
            if isinstance(a, ast.Attribute) and a.attr in model.CLOSE_METHODS:
                closed |= attrs_of(a.value)
            elif closes_args:
                closed |= attrs_of(a)
    for n in nodes:
        if isinstance(n, ast.Attribute) and n.attr == "__dict__" and isinstance(n.value, ast.Name) and n.value.id == me:
            opaque = True
    return closed, called, opaque, hands
