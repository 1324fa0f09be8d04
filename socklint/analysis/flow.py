"""The per-function flow analysis.

An abstract interpreter over libcst statements. It is equivalent to a forward may-analysis over
a control-flow graph with exception edges, but the graph is never materialised: structured
control flow (if/match/loops/try/with) is interpreted in place, and *jumps* (return, raise,
break, continue, a call that raises) are routed through a stack of frames (enclosing loops,
``try`` handlers and ``finally`` blocks), the way the CPython compiler inlines ``finally`` for
each kind of exit. States merge where branches join, so the cost is close to linear in the
size of the function; loops iterate to a fixed point (the lattice is finite).

The state tracks *obligations*: a socket this function owns and has not yet closed or handed
off. Each obligation knows which local names may hold it and which must hold it (for narrowing
on ``if sock is not None``), and one witness path (a persistent linked list of steps) that
explains how control got here. An obligation that reaches the function's exit, or loses its
last name, is a leak fact; rules decide how to report it.

Obligations are keyed by ``(rid, exit)``: ``exit`` is ``None`` on the normal path, and an index
into ``self.exits`` once the obligation rides on a jump (the return statement, the call that
raised, ...). Keeping the key means a ``finally`` block can run once for all pending returns
and still tell, afterwards, which return leaked which socket.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Callable, Optional, Union

import libcst as cst

from socklint.analysis import model
from socklint.analysis.compat import python3_constant, raises_on_python3
from socklint.analysis.facts import Event, FunctionFacts, Leak, Resource, Step
from socklint.analysis.facts import cst_name as _name_of
from socklint.analysis.scan import ImportTable, Summaries
from socklint.config import Settings

Key = tuple[int, Optional[int]]


class BudgetExceeded(Exception):
    pass


Facts = tuple[frozenset[str], frozenset[str], frozenset[str]]  # truthy, falsy, nones
Variant = tuple[frozenset[str], frozenset[str], frozenset[str], Optional[Step]]
# How many sets of path facts one obligation keeps apart before they are intersected.
MAX_VARIANTS = 4


def _subsumes(a: Facts, b: Facts) -> bool:
    """Every fact of ``a`` is one of ``b``'s: ``b`` is contradicted whenever ``a`` is, so ``b``
    never decides whether the obligation survives."""
    return a[0] <= b[0] and a[1] <= b[1] and a[2] <= b[2]


def _normal_variants(vs: list[Variant]) -> list[Variant]:
    """Drop variants that repeat or are more specific than another; past MAX_VARIANTS,
    intersect the two that differ least, until few enough are left (the witness of the
    earlier one stays). Merging the closest pair loses the fewest facts: with a protocol
    flag, a mode flag and a read loop's `data` facts (hpilo's `_communicate`, hold-out corpus
    9), the read loop's variants fold together while the two flags stay apart."""
    out: list[Variant] = []
    for v in vs:
        _add_variant(out, v)
    while len(out) > MAX_VARIANTS:
        best: Optional[tuple[int, int, int]] = None
        for i, a in enumerate(out):
            for j in range(i + 1, len(out)):
                b = out[j]
                lost = len(a[0] ^ b[0]) + len(a[1] ^ b[1]) + len(a[2] ^ b[2])
                if best is None or lost < best[0]:
                    best = (lost, i, j)
        assert best is not None
        _, i, j = best
        a, b = out[i], out[j]
        rest = out[:i] + out[i + 1 : j] + out[j + 1 :]
        out = []
        for v in [(a[0] & b[0], a[1] & b[1], a[2] & b[2], a[3]), *rest]:
            _add_variant(out, v)
    return out


def _add_variant(out: list[Variant], v: Variant) -> None:
    """Add ``v`` unless a variant with fewer facts is there; drop those it has fewer facts than."""
    f = (v[0], v[1], v[2])
    if any(_subsumes((o[0], o[1], o[2]), f) for o in out):
        return
    out[:] = [o for o in out if not _subsumes(f, (o[0], o[1], o[2]))]
    out.append(v)


class Ob:
    """An open, owned socket on some path. Besides the names that may / must hold it, it
    carries path facts: names known truthy, falsy or None there. Narrowing on a test that
    contradicts them drops the obligation, which is how correlated flags (``completed = True``
    ... ``if not completed: close``, ``err = None`` ... ``if err is not None: raise err``) stay
    clean without enumerating paths.

    Where paths with different facts join, the obligation keeps up to MAX_VARIANTS sets of
    facts side by side, each with its own witness (``alts`` besides the primary one): a test
    drops the variants it contradicts, and the obligation only when none is left. So a socket
    open on two paths (the success path where ``fid == PIPE``, and a handler path where it is
    not) is reported with the witness of the path that really leaks it."""

    __slots__ = ("alts", "falsy", "may", "must", "nones", "rid", "truthy", "witness")

    def __init__(
        self,
        rid: int,
        must: frozenset[str],
        may: frozenset[str],
        witness: Optional[Step],
        truthy: frozenset[str] = frozenset(),
        falsy: frozenset[str] = frozenset(),
        nones: frozenset[str] = frozenset(),
        alts: tuple[Variant, ...] = (),
    ) -> None:
        self.rid = rid
        self.must = must
        self.may = may
        self.witness = witness
        self.truthy = truthy
        self.falsy = falsy
        self.nones = nones
        self.alts = alts

    def copy(self) -> Ob:
        return Ob(self.rid, self.must, self.may, self.witness, self.truthy, self.falsy, self.nones, self.alts)

    def variants(self) -> list[Variant]:
        return [(self.truthy, self.falsy, self.nones, self.witness), *self.alts]

    def set_variants(self, vs: list[Variant]) -> None:
        self.truthy, self.falsy, self.nones, self.witness = vs[0]
        self.alts = tuple(vs[1:])

    def keep_variants(self, keep: Callable[[Variant], bool]) -> bool:
        """Keep the variants ``keep`` accepts; False when none is left (the path is infeasible)."""
        if not self.alts:
            return keep(self.variants()[0])
        vs = [v for v in self.variants() if keep(v)]
        if not vs:
            return False
        self.set_variants(vs)
        return True

    def meet(self, o: Ob) -> None:
        """Merge another path's view of the same obligation into this one."""
        self.must &= o.must
        self.may |= o.may
        if not self.alts and not o.alts and (self.truthy, self.falsy, self.nones) == (o.truthy, o.falsy, o.nones):
            return
        self.set_variants(_normal_variants(self.variants() + o.variants()))

    def facts_key(self) -> list[Facts]:
        return [(v[0], v[1], v[2]) for v in self.variants()]

    def same(self, o: Ob) -> bool:
        return (self.must, self.may) == (o.must, o.may) and self.facts_key() == o.facts_key()


class State:
    __slots__ = ("derived", "env", "falsy", "nones", "obs", "truthy")

    def __init__(self) -> None:
        self.obs: dict[Key, Ob] = {}
        self.env: dict[str, frozenset[int]] = {}
        # Names bound to values that reach a socket without being it (a coroutine or wrapper
        # made from it): handing such a name off hands the socket off.
        self.derived: dict[str, frozenset[int]] = {}
        self.truthy: frozenset[str] = frozenset()
        self.falsy: frozenset[str] = frozenset()
        self.nones: frozenset[str] = frozenset()

    def copy(self) -> State:
        out = State()
        out.obs = {k: o.copy() for k, o in self.obs.items()}
        out.env = dict(self.env)
        out.derived = dict(self.derived)
        out.truthy, out.falsy, out.nones = self.truthy, self.falsy, self.nones
        return out

    def same(self, other: State) -> bool:
        if self.obs.keys() != other.obs.keys() or self.env != other.env or self.derived != other.derived:
            return False
        if (self.truthy, self.falsy, self.nones) != (other.truthy, other.falsy, other.nones):
            return False
        return all(o.same(other.obs[k]) for k, o in self.obs.items())


def _merge_into(out: State, b: State) -> None:
    """Join ``b`` into ``out`` in place (``out`` must be a private copy)."""
    for k, o in b.obs.items():
        mine = out.obs.get(k)
        if mine is None:
            out.obs[k] = o.copy()
        else:
            mine.meet(o)
    for name, rids in b.env.items():
        cur = out.env.get(name)
        out.env[name] = rids if cur is None else cur | rids
    for name, rids in b.derived.items():
        cur = out.derived.get(name)
        out.derived[name] = rids if cur is None else cur | rids
    out.truthy &= b.truthy
    out.falsy &= b.falsy
    out.nones &= b.nones


def join(a: Optional[State], b: Optional[State]) -> Optional[State]:
    if a is None:
        return b.copy() if b is not None else None
    if b is None:
        return a.copy()
    out = a.copy()
    _merge_into(out, b)
    return out


def _bool_ops(test: cst.BaseExpression) -> int:
    """How many `and` / `or` a test chains (through `not` and parentheses)."""
    n = 0
    stack = [test]
    while stack:
        e = stack.pop()
        if isinstance(e, cst.BooleanOperation):
            n += 1
            stack.extend((e.left, e.right))
        elif isinstance(e, cst.UnaryOperation):
            stack.append(e.expression)
    return n


def _merged(a: State, b: State) -> State:
    out = a.copy()
    _merge_into(out, b)
    return out


def _replace_state(dst: State, src: State) -> None:
    """Make ``dst`` (a state narrowed in place by the caller) equal to ``src``."""
    dst.obs, dst.env, dst.derived = src.obs, src.env, src.derived
    dst.truthy, dst.falsy, dst.nones = src.truthy, src.falsy, src.nones


def join_all(states: Iterable[Optional[State]]) -> Optional[State]:
    # One copy, then in-place merges: joining n pending returns stays linear.
    out: Optional[State] = None
    for s in states:
        if s is None:
            continue
        if out is None:
            out = s.copy()
        else:
            _merge_into(out, s)
    return out


@dataclass
class Val:
    """The abstract value of an expression: which tracked sockets it may *be* (``rids``), which
    are reachable from it (``reach``: inside a container, passed into the call that made it),
    and, for tuples, its elements (for ``a, b = ...``)."""

    rids: frozenset[int] = frozenset()
    reach: frozenset[int] = frozenset()
    contained: frozenset[int] = frozenset()
    elems: Optional[tuple[Val, ...]] = None
    accept_call: Optional[cst.Call] = None
    pair_call: Optional[cst.Call] = None
    const: Optional[str] = None  # "none" | "falsy" | "truthy" for literal constants

    @staticmethod
    def of(rids: frozenset[int]) -> Val:
        return Val(rids, rids)


EMPTY = Val()


@dataclass
class Exit:
    kind: str  # return | raise | call | end | continue | assert
    node: cst.CSTNode
    touched: frozenset[int] = frozenset()
    cls: str = "any"


class LoopFrame:
    def __init__(self) -> None:
        self.breaks: list[State] = []
        self.continues: list[State] = []
        self.created: set[int] = set()


class TryFrame:
    """Collects exceptions raised in a ``try`` body (with their class) for its handlers."""

    def __init__(self) -> None:
        self.exc: list[tuple[State, str]] = []


class FinallyFrame:
    def __init__(self) -> None:
        # (kind, state, cls or None, loop target or None)
        self.pending: list[tuple[str, State, str, Optional[LoopFrame]]] = []


Frame = Union[LoopFrame, TryFrame, FinallyFrame]

_OS = "os"  # OSError or any subclass (I/O: connect, recv, send, accept...)
_OSCFG = "oscfg"  # plain OSError from configuration calls (setblocking, setsockopt...)
_ANY = "any"  # anything, from a call that uses a socket
_OTHER = "other"  # anything, from a call that touches no socket
_NONOS = "non-os"  # anything but an OSError (a helper that keeps its OSErrors in: Summaries.non_os)


@dataclass
class ModuleContext:
    imports: ImportTable
    summaries: Summaries
    settings: Settings
    code_for: Callable[[cst.CSTNode], str]
    factories: frozenset[str] = frozenset()
    closers: frozenset[str] = frozenset()
    sinks: frozenset[str] = frozenset()
    borrowers: frozenset[str] = frozenset()
    module_level_names: frozenset[str] = field(default_factory=frozenset)


def _walk(node: cst.CSTNode) -> Iterable[cst.CSTNode]:
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(n.children)


def _use_positions(body: Sequence[cst.CSTNode]) -> tuple[dict[str, int], dict[int, int]]:
    """Walk the function once in source order: the last position at which each (dotted) name
    occurs, and where each ``if`` statement, loop and ``if``/``while`` test ends. An occurrence inside a loop counts at the
    end of the outermost loop, since the back edge can reach it again."""
    last: dict[str, int] = {}
    ends: dict[int, int] = {}
    in_loop: list[str] = []
    loops = 0
    idx = 0
    stack: list[tuple[cst.CSTNode, bool]] = [(n, False) for n in reversed(body)]
    while stack:
        node, done = stack.pop()
        if done:
            if isinstance(node, (cst.For, cst.While)):
                # Past everything inside: a use in the loop outlives an `if` that ends it.
                idx += 1
            ends[id(node)] = idx
            if isinstance(node, (cst.For, cst.While)):
                loops -= 1
                if not loops:
                    for used in in_loop:
                        last[used] = idx
                    in_loop.clear()
            continue
        idx += 1
        if isinstance(node, (cst.Name, cst.Attribute)) and (name := _dotted(node)) is not None:
            if loops:
                in_loop.append(name)
            else:
                last[name] = idx
        if isinstance(node, (cst.For, cst.While)):
            loops += 1
        if isinstance(node, (cst.If, cst.For, cst.While)):
            stack.append((node, True))
        for c in reversed(node.children):
            if isinstance(node, (cst.If, cst.While)) and c is node.test:
                stack.append((c, True))  # where the test ends (see FunctionAnalyzer.narrow_end)
            stack.append((c, False))
    return last, ends


def _same_facts(a: State, b: State) -> bool:
    """Both states know the same path facts, overall and for every obligation they share."""
    if (a.truthy, a.falsy, a.nones) != (b.truthy, b.falsy, b.nones):
        return False
    for k, ob in a.obs.items():
        other = b.obs.get(k)
        if other is not None and ob.facts_key() != other.facts_key():
            return False
    return True


def _dotted(node: cst.BaseExpression) -> Optional[str]:
    """``a.b.c`` for a chain of attributes on a name (cheaper than libcst's full-name helper,
    which _use_positions would call on every name of the function)."""
    parts: list[str] = []
    while isinstance(node, cst.Attribute):
        parts.append(node.attr.value)
        node = node.value
    if not isinstance(node, cst.Name):
        return None
    parts.append(node.value)
    return ".".join(reversed(parts))


def _fact_bases(key: str) -> Optional[list[str]]:
    """The names a path fact is about (``x`` for ``x==CONST``, ``a`` and ``b`` for
    ``eq:a:b``); None for the engine's own facts (``exc:config``), which are never dead."""
    if key.startswith("eq:"):
        return key.split(":")[1:]
    if "==" in key:
        return [key[: key.index("==")]]
    if ":" in key:
        return None
    return [key]


def _is_none(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Name) and node.value == "None"


def _const_true(node: cst.BaseExpression) -> bool:
    if isinstance(node, cst.Name) and node.value == "True":
        return True
    if isinstance(node, cst.Integer) and node.value not in ("0", "0x0", "0o0", "0b0"):
        return True
    return False


_MODULE_FACTORIES = frozenset({"socket", "create_connection", "create_server", "fromfd", "socketpair"})


def _socket_module_factory(qual: str) -> bool:
    parts = qual.split(".")
    return len(parts) >= 2 and parts[-1] in _MODULE_FACTORIES and "socket" in parts[-2].lower() and parts[-2] not in ("self", "cls")


def _looks_like_ssl_context(receiver: Optional[str]) -> bool:
    """``ctx.wrap_socket(...)``, ``self._ssl_context.wrap_socket(...)``: an SSLContext by name."""
    if not receiver:
        return False
    last = receiver.rsplit(".", 1)[-1].lower()
    return "context" in last or "ctx" in last


def _atom_const(node: cst.BaseExpression) -> Optional[str]:
    """A comparand that names one fixed value: a number, a string literal, a dotted name in
    UPPER_CASE (`STATUS_SUCCESS`, `socket.SOCK_STREAM`), or a member of a class or enum
    (`AFI.ipv4`: exabgp's `create()` tests `afi == AFI.ipv4`, then `afi == AFI.ipv6`,
    hold-out corpus 15)."""
    if isinstance(node, (cst.Integer, cst.Float, cst.SimpleString)):
        return node.value
    if isinstance(node, (cst.Name, cst.Attribute)):
        n = _name_of(node)
        if n and n.rsplit(".", 1)[-1].isupper():
            return n
        parts = n.split(".") if n else []
        if len(parts) >= 2 and parts[-2][:1].isupper() and parts[0] not in ("self", "cls"):
            return n
    return None


_FAMILIES = {"AF_INET": "inet", "AF_INET6": "inet6", "AF_UNIX": "unix"}
# Path fact: the exception being handled was raised by a configuration call.
_EXC_CFG = "exc:config"


def _nonempty_iterable(node: cst.BaseExpression) -> bool:
    """A literal list/tuple/set with elements (none starred), or ``range(N)`` with N > 0."""
    if isinstance(node, (cst.List, cst.Tuple, cst.Set)):
        return bool(node.elements) and not any(isinstance(e, cst.StarredElement) for e in node.elements)
    if (
        isinstance(node, cst.Call)
        and isinstance(node.func, cst.Name)
        and node.func.value == "range"
        and len(node.args) == 1
        and isinstance(node.args[0].value, cst.Integer)
    ):
        return int(node.args[0].value.value, 0) > 0
    return False


def _bindings(func: Optional[cst.CSTNode]) -> dict[str, list[Optional[cst.BaseExpression]]]:
    """Every value ``func`` binds to each name: the value of a plain ``name = value``, None
    for any other binding (augmented assignment, loop target, ``as``, unpacking)."""
    if not isinstance(func, cst.FunctionDef):
        return {}
    out: dict[str, list[Optional[cst.BaseExpression]]] = {}
    for n in _walk(func.body):
        targets: list[cst.BaseExpression] = []
        if isinstance(n, cst.Assign):
            targets = [t.target for t in n.targets]
        elif isinstance(n, (cst.AugAssign, cst.AnnAssign, cst.For, cst.CompFor)):
            targets = [n.target]
        elif isinstance(n, cst.AsName):
            targets = [n.name]
        value: Optional[cst.BaseExpression] = None
        if (isinstance(n, cst.Assign) and len(n.targets) == 1) or isinstance(n, cst.AnnAssign):
            value = n.value
        for t in targets:
            if isinstance(t, cst.Name):
                out.setdefault(t.value, []).append(value)
    return out


def _outer_call(value: cst.BaseExpression) -> Optional[cst.Call]:
    if isinstance(value, cst.Await):
        value = value.expression
    return value if isinstance(value, cst.Call) else None


def _raise_note(node: cst.CSTNode) -> str:
    if isinstance(node, cst.Call):
        return f"`{_callee_text(node)}` raises"
    if isinstance(node, cst.Await) and isinstance(node.expression, cst.Call):
        return f"`await {_callee_text(node.expression)}` raises"
    if isinstance(node, (cst.Import, cst.ImportFrom)):
        return "the import fails (ImportError)"
    return "raises"


def _callee_text(call: cst.Call) -> str:
    f = call.func
    if isinstance(f, cst.Attribute):
        return f"{f.attr.value}()"
    n = _name_of(f)
    return f"{n}()" if n else "call"


class FunctionAnalyzer:
    def __init__(
        self,
        ctx: ModuleContext,
        func: Optional[Union[cst.FunctionDef, cst.CSTNode]],
        body: Sequence[cst.CSTNode],
        name: str,
        *,
        module_level: bool = False,
        rid_base: int = 0,
        outer_params: Iterable[str] = (),
        cur_class: Optional[str] = None,
    ) -> None:
        self.ctx = ctx
        self.func = func
        self.body = body
        self.facts = FunctionFacts(func, name)
        self.module_level = module_level
        self.frames: list[Frame] = []
        self.exits: list[Exit] = []
        self.rid_by_node: dict[int, int] = {}
        self.next_rid = rid_base
        self.steps = 0
        self.budget = ctx.settings.max_function_steps
        self.global_names: set[str] = set()
        self.event_keys: set[tuple[str, int]] = set()
        self.leak_keys: set[tuple[int, str, int]] = set()
        self.order = 0
        self.handler_depth = 0
        self.guards: list[cst.BaseExpression] = []
        self.regions: list[tuple[int, str]] = []  # see Event.regions
        self.targets: frozenset[str] = frozenset()
        # The call whose result the current assignment binds (`sock = adapter.wrap(sock)`).
        self.rebind_call: Optional[cst.Call] = None
        self.rebind_moved: frozenset[int] = frozenset()
        self.atoms_used = False  # some `name==CONST` path fact exists (see _edge_atom)
        self.pair_partner: dict[int, int] = {}  # the other end of a socketpair()
        # What each name of the function is bound to (_bindings), walked once and only when a
        # test needs it (_literal_tuple, _is_str, _is_noreturn).
        self._binds: Optional[dict[str, list[Optional[cst.BaseExpression]]]] = None
        # Where names are last used and `if` statements end (_use_positions), walked once and
        # only when an `if` leaves path facts behind (_forget_dead).
        self._uses: Optional[tuple[dict[str, int], dict[int, int]]] = None
        # While an `if` test narrows: where the test ends. A name mentioned nowhere after it
        # gets no path fact, since no later test can consult one (_set_fact).
        self.narrow_end: Optional[int] = None
        self.exc_facts = False  # some path records that a configuration call raised (_EXC_CFG)
        self.fake_net = False  # a custom socket factory was installed (model.FAKE_FACTORY_INSTALLERS)
        # The socket module itself was patched by a test double (model.SOCKET_MODULE_PATCHERS):
        # its factories make fakes from here on.
        self.socket_patched = False
        self.stmt_node: Optional[cst.CSTNode] = None
        self.caught_cls: list[str] = []
        self.expect_raise = 0
        # `with self.assertRaises(E):` items: building the context manager fails nothing.
        self.cm_calls: set[int] = set()
        self.callable_params: frozenset[str] = frozenset(outer_params)
        self.cur_class = cur_class

    # ------------------------------------------------------------------ entry
    def run(self) -> FunctionFacts:
        st = State()
        if isinstance(self.func, cst.FunctionDef):
            self._bind_params(self.func, st)
            for d in self.func.decorators:
                dec = d.decorator.func if isinstance(d.decorator, cst.Call) else d.decorator
                name = _name_of(dec)
                if name is not None and self.ctx.imports.qualify(name) in model.SOCKET_MODULE_PATCHING_DECORATORS:
                    self.socket_patched = True
        try:
            out = self.exec_block(self.body, st)
            if out is not None:
                last = self._last_stmt(self.body)
                self.facts.last_line_node = last
                ei = self._exit("end", last)
                self._rekey(out, ei)
                self._at_function_exit(out)
        except (BudgetExceeded, RecursionError):
            # Too big or too deeply nested to analyse within budget: say so, never hang.
            self.facts.budget_exceeded = True
            self.facts.leaks.clear()
        return self.facts

    def _last_stmt(self, body: Sequence[cst.CSTNode]) -> cst.CSTNode:
        node = body[-1]
        # The last *line* of the function body: descend into the last compound statement.
        while True:
            if isinstance(node, cst.SimpleStatementLine):
                return node
            inner = getattr(node, "orelse", None) or getattr(node, "finalbody", None) or getattr(node, "body", None)
            if isinstance(node, cst.Try) and node.finalbody is not None:
                inner = node.finalbody
            elif isinstance(node, (cst.If, cst.For, cst.While, cst.Try)) and getattr(node, "orelse", None) is not None:
                inner = node.orelse
            elif isinstance(node, cst.Try) and node.handlers:
                inner = node.handlers[-1]
            if inner is None:
                return node
            blk = getattr(inner, "body", inner)
            if isinstance(blk, (cst.IndentedBlock, cst.SimpleStatementSuite)):
                seq = blk.body
            elif isinstance(blk, Sequence) and not isinstance(blk, (str, bytes)):
                seq = blk
            else:
                return node
            if not seq:
                return node
            nxt = seq[-1]
            if isinstance(node, cst.SimpleStatementSuite):
                return node
            node = nxt
            if not isinstance(node, (cst.SimpleStatementLine, cst.BaseCompoundStatement, cst.BaseSmallStatement)):
                return node

    def _bind_params(self, fn: cst.FunctionDef, st: State) -> None:
        params = fn.params
        own = [*params.posonly_params, *params.params, *params.kwonly_params]
        self.callable_params = self.callable_params | {p.name.value for p in own}
        positional = [*params.posonly_params, *params.params]
        if positional and positional[0].name.value in ("self", "cls"):
            positional = positional[1:]
        dgram = {positional[i] for i in self.ctx.summaries.dgram_params.get(fn.name.value, ()) if i < len(positional)}
        for p in own:
            name = p.name.value
            if name in ("self", "cls"):
                continue
            rid = self._new_rid(p)
            res = Resource(rid, p, "param", name, name=name, reportable=False)
            if p in dgram:
                res.sock_type = "dgram"  # every caller in the module passes a datagram socket
            self.facts.resources[rid] = res
            st.env[name] = frozenset({rid})

    # ------------------------------------------------------------------ helpers
    def _tick(self, n: int = 1) -> None:
        self.steps += n
        if self.steps > self.budget:
            raise BudgetExceeded()

    def _new_rid(self, node: cst.CSTNode) -> int:
        rid = self.rid_by_node.get(id(node))
        if rid is None:
            rid = self.next_rid
            self.next_rid += 1
            self.rid_by_node[id(node)] = rid
        return rid

    def _exit(self, kind: str, node: cst.CSTNode, touched: frozenset[int] = frozenset(), cls: str = _ANY) -> int:
        self.exits.append(Exit(kind, node, touched, cls))
        return len(self.exits) - 1

    def _rekey(self, st: State, ei: int, only_normal: bool = True) -> None:
        """Attach every obligation on the normal path to jump ``ei``."""
        new: dict[Key, Ob] = {}
        for (rid, cur), ob in st.obs.items():
            key: Key = (rid, ei) if cur is None or not only_normal else (rid, cur)
            if key in new:
                new[key].meet(ob)
            else:
                new[key] = ob
        st.obs = new

    def _unkey(self, st: State, kinds: tuple[str, ...]) -> None:
        """Bring obligations riding on jumps of ``kinds`` back to the normal path."""
        new: dict[Key, Ob] = {}
        for (rid, cur), ob in st.obs.items():
            key: Key = (rid, None) if cur is not None and self.exits[cur].kind in kinds else (rid, cur)
            if key in new:
                new[key].meet(ob)
            else:
                new[key] = ob
        st.obs = new

    def _used_after_continue(self, st: State, rids: frozenset[int]) -> None:
        """A socket carried over a ``continue`` and used again in the next iteration
        (``if sock is None: sock = connect()`` ... ``sock.sendall(line)``) was not lost at the
        ``continue``: it is back on the normal path, and a later ``sock = None`` is where it
        is lost (potsdb's sender loop, hold-out corpus 8)."""
        carried = [k for k in st.obs if k[0] in rids and k[1] is not None and self.exits[k[1]].kind == "continue"]
        for rid, ei in carried:
            ob = st.obs.pop((rid, ei))
            if (rid, None) in st.obs:
                st.obs[(rid, None)].meet(ob)
            else:
                st.obs[(rid, None)] = ob

    def _step(self, st: State, node: cst.CSTNode, note: str) -> None:
        for ob in st.obs.values():
            ob.witness = Step(node, note, ob.witness)
            if ob.alts:
                ob.alts = tuple((t, f, n, Step(node, note, w)) for t, f, n, w in ob.alts)

    def _record_leak(self, rid: int, ei: Optional[int], ob: Ob, kind: str, node: cst.CSTNode, touching: bool = True) -> None:
        res = self.facts.resources.get(rid)
        if res is None or not res.reportable:
            return
        k = (rid, kind, id(node))
        if k in self.leak_keys:
            return
        self.leak_keys.add(k)
        self.facts.leaks.append(Leak(rid, kind, node, ob.witness, touching))

    def _at_function_exit(self, st: State) -> None:
        for (rid, ei), ob in st.obs.items():
            if ei is None:
                continue
            ex = self.exits[ei]
            if ex.kind == "assert":
                continue
            touching = rid in ex.touched if ex.kind == "call" else True
            self._record_leak(rid, ei, ob, ex.kind, ex.node, touching)

    def _event(self, kind: str, method: str, node: cst.CSTNode, rids: frozenset[int], receiver: Optional[str]) -> None:
        k = (kind, id(node))
        if k in self.event_keys:
            return
        self.event_keys.add(k)
        self.order += 1
        guards = tuple(self.ctx.code_for(g) for g in self.guards) if self.guards else ()
        self.facts.events.append(
            Event(kind, method, node, rids, receiver, self.order, self.handler_depth > 0, guards, tuple(self.regions))
        )

    def _dispose(self, st: State, rids: Iterable[int], node: cst.CSTNode, kind: str) -> None:
        rids = frozenset(rids)
        if not rids:
            return
        for key in [k for k in st.obs if k[0] in rids]:
            del st.obs[key]
        for rid in rids:
            self.facts.disposed.add(rid)
        if kind == "escape":
            self._event("escape", "", node, rids, None)

    def _holders(self, st: State, name: str) -> frozenset[int]:
        return st.env.get(name, frozenset())

    # ------------------------------------------------------------------ jumps
    def jump(self, kind: str, st: State, cls: str = _ANY, target: Optional[LoopFrame] = None, start: Optional[int] = None) -> None:
        i = (len(self.frames) if start is None else start) - 1
        while i >= 0:
            f = self.frames[i]
            if isinstance(f, FinallyFrame):
                f.pending.append((kind, st, cls, target))
                return
            if kind == "raise" and isinstance(f, TryFrame):
                f.exc.append((st, cls))
                return
            if kind in ("break", "continue") and f is target:
                assert isinstance(f, LoopFrame)
                (f.breaks if kind == "break" else f.continues).append(st)
                return
            i -= 1
        if kind in ("raise", "return"):
            self._at_function_exit(st)

    def raise_point(self, st: State, node: cst.CSTNode, touched: frozenset[int], cls: str) -> None:
        """The call ``node`` may raise here, with the state as it is now."""
        if cls == _ANY and not self._real_sockets(touched):
            cls = _OTHER
        if not st.obs and not any(isinstance(f, (TryFrame, FinallyFrame)) for f in self.frames):
            return
        if not any(isinstance(f, (TryFrame, FinallyFrame)) for f in self.frames):
            # Fast path: nothing can intercept, so the exception leaves the function.
            note = _raise_note(node)
            for (rid, cur), ob in st.obs.items():
                if cur is not None and self.exits[cur].kind != "continue":
                    continue
                w = Step(node, note, ob.witness)
                self._record_leak(rid, None, Ob(rid, ob.must, ob.may, w), "call", node, rid in touched)
            return
        exc = st.copy()
        ei = self._exit("call", node, touched, cls)
        note = _raise_note(node)
        self._step(exc, node, note)
        self._exc_origin(exc, cls == _OSCFG)
        self._rekey(exc, ei)
        self.jump("raise", exc, cls)

    def _forget_exc_origin(self, st: Optional[State]) -> None:
        """Leaving a handler (or its loop): which call raised no longer matters, and keeping
        the fact would keep paths apart that are the same from here on."""
        if self.exc_facts and st is not None:
            self._set_fact(st, _EXC_CFG, None, rebinding=False)

    def _exc_origin(self, exc: State, config: bool) -> None:
        """Record on the exception's path whether a configuration call raised it: such an
        OSError never carries an I/O errno (see _narrow_errno)."""
        if config:
            self.exc_facts = True
            self._set_fact(exc, _EXC_CFG, "truthy", rebinding=False)
        elif self.exc_facts:
            self._set_fact(exc, _EXC_CFG, None, rebinding=False)

    # ------------------------------------------------------------------ blocks
    def exec_block(self, stmts: Sequence[cst.CSTNode], st: Optional[State]) -> Optional[State]:
        for s in stmts:
            if st is None:
                return None
            st = self.exec_stmt(s, st)
        return st

    def _body(self, node: cst.CSTNode) -> Sequence[cst.CSTNode]:
        b = getattr(node, "body", None)
        if isinstance(b, (cst.IndentedBlock, cst.SimpleStatementSuite)):
            return b.body
        if isinstance(b, Sequence):
            return b
        return ()

    def exec_stmt(self, s: cst.CSTNode, st: State) -> Optional[State]:
        # A statement costs in proportion to the sockets alive across it (states are copied
        # and joined per socket): charge the budget the same way, so it bounds wall time.
        self._tick(1 + len(st.obs))
        if isinstance(s, cst.SimpleStatementLine):
            cur: Optional[State] = st
            for small in s.body:
                if cur is None:
                    return None
                self.stmt_node = s
                cur = self.exec_small(small, s, cur)
                if cur is not None:
                    self._drop_temporaries(cur, s)
            return cur
        if isinstance(s, cst.If):
            return self.exec_if(s, st)
        if isinstance(s, cst.For):
            return self.exec_for(s, st)
        if isinstance(s, cst.While):
            return self.exec_while(s, st)
        if isinstance(s, (cst.Try, cst.TryStar)):
            return self.exec_try(s, st)
        if isinstance(s, cst.With):
            return self.exec_with(s, st)
        if isinstance(s, cst.FunctionDef):
            self._capture(st, s, s.body)
            self._rebind(st, s.name.value, EMPTY, s)
            return st
        if isinstance(s, cst.ClassDef):
            self._capture(st, s, s.body)
            self._rebind(st, s.name.value, EMPTY, s)
            return st
        if isinstance(s, cst.Match):
            return self.exec_match(s, st)
        if isinstance(s, cst.SimpleStatementSuite):
            return self.exec_block(s.body, st)
        # Unknown statement: conservatively evaluate the expressions it contains.
        for child in s.children:
            if isinstance(child, cst.BaseExpression):
                self.ev(child, st)
        return st

    def _drop_temporaries(self, st: State, stmt: cst.CSTNode) -> None:
        dropped = [k for k, ob in st.obs.items() if k[1] is None and not ob.may]
        for k in dropped:
            ob = st.obs.pop(k)
            if self.expect_raise:
                # `with self.assertRaises(OSError): socket.create_connection(addr)`: the
                # statement is there to fail; its unused result is not a leak.
                continue
            self._record_leak(k[0], None, ob, "drop", stmt)

    # ------------------------------------------------------------------ small statements
    def exec_small(self, s: cst.BaseSmallStatement, line: cst.SimpleStatementLine, st: State) -> Optional[State]:
        if isinstance(s, cst.Expr):
            value = s.value
            if isinstance(value, cst.Call) and self._is_noreturn(value):
                self.ev(value, st)
                return None
            if isinstance(value, cst.Call) and self._always_raises(value):
                # `self._handle_error(payload["error"])`, a module-local function that raises on
                # every path: the call raises (a raise point, as any call) and never returns.
                self.ev(value, st)
                return None
            if isinstance(value, cst.Call) and self._is_test_failure(value):
                # `self.fail("should have raised")`: the test fails like `assert False`.
                for a in value.args:
                    self.ev(a.value, st)
                ei = self._exit("assert", s, cls="AssertionError")
                self._rekey(st, ei)
                self.jump("raise", st, "AssertionError")
                return None
            self.ev(value, st)
            return st
        if isinstance(s, cst.Assign):
            names = frozenset(n for t in s.targets for n in self._target_names(t.target))
            self.targets = names
            self.rebind_call = _outer_call(s.value)
            try:
                val = self.ev(s.value, st)
                for t in s.targets:
                    self._assign(st, t.target, val, s)
                    self._assign_atom(st, t.target, s.value)
            finally:
                self.targets = frozenset()
                self.rebind_call = None
                self.rebind_moved = frozenset()
            return st
        if isinstance(s, cst.AnnAssign):
            if s.value is not None:
                self.targets = frozenset(self._target_names(s.target))
                self.rebind_call = _outer_call(s.value)
                try:
                    val = self.ev(s.value, st)
                    self._assign(st, s.target, val, s)
                    self._assign_atom(st, s.target, s.value)
                finally:
                    self.targets = frozenset()
                    self.rebind_call = None
                    self.rebind_moved = frozenset()
            return st
        if isinstance(s, cst.AugAssign):
            v = self.ev(s.value, st)
            self.ev(s.target, st)
            if v.contained:
                self._dispose(st, v.contained, s, "escape")  # `sockets += [a, b]`
            return st
        if isinstance(s, cst.Return):
            if s.value is not None:
                v = self.ev(s.value, st)
                self._dispose(st, v.reach | v.rids, s, "escape")
            ei = self._exit("return", s)
            self._rekey(st, ei)
            self.jump("return", st)
            return None
        if isinstance(s, cst.Raise):
            cls = _ANY
            if s.exc is not None:
                self.ev(s.exc, st)
                cls = self._raised_class(s.exc)
            elif self.caught_cls:
                cls = self.caught_cls[-1]
            if s.cause is not None:
                self.ev(s.cause.item, st)
            if s.exc is not None:
                self._exc_origin(st, False)
            ei = self._exit("raise", s, cls=cls)
            self._rekey(st, ei)
            self.jump("raise", st, cls)
            return None
        if isinstance(s, cst.Assert):
            self.ev(s.test, st)
            if _const_true(s.test):
                return st
            if isinstance(s.test, cst.Name) and s.test.value == "False":
                ei = self._exit("assert", s)
                self._rekey(st, ei)
                self.jump("raise", st, "AssertionError")
                return None
            exc = st.copy()
            ei = self._exit("assert", s, cls="AssertionError")
            self._rekey(exc, ei)
            self.jump("raise", exc, "AssertionError")
            holds, _ = self.narrow(st, s.test)
            return holds
        if isinstance(s, cst.Break):
            loop = self._innermost_loop()
            if loop is not None:
                self._forget_exc_origin(st)
                self.jump("break", st, target=loop)
            return None
        if isinstance(s, cst.Continue):
            loop = self._innermost_loop()
            if loop is not None:
                self._forget_exc_origin(st)
                # A socket created in this loop and still open is lost when the next
                # iteration rebinds its name: remember this exit on it.
                ei = self._exit("continue", s)
                new: dict[Key, Ob] = {}
                for (rid, cur), ob in st.obs.items():
                    key: Key = (rid, ei) if cur is None and rid in loop.created else (rid, cur)
                    new[key] = ob
                st.obs = new
                self.jump("continue", st, target=loop)
            return None
        if isinstance(s, cst.Del):
            for n in self._target_names(s.target):
                self._rebind(st, n, EMPTY, s, deleted=True)
            for node in _walk(s.target):
                if isinstance(node, (cst.Attribute, cst.Subscript)):
                    self.ev(node, st)
                    break
            return st
        if isinstance(s, (cst.Global, cst.Nonlocal)):
            for item in s.names:
                self.global_names.add(item.name.value)
            return st
        if isinstance(s, (cst.Import, cst.ImportFrom)):
            # `import ssl` inside a function can fail: ImportError, the only place it comes from.
            self.raise_point(st, s, frozenset(), "ImportError")
            aliases = s.names if not isinstance(s.names, cst.ImportStar) else ()
            for alias in aliases:
                if alias.asname is not None:
                    nm = _name_of(alias.asname.name)
                else:
                    nm = _name_of(alias.name)
                    nm = nm.split(".")[0] if nm else None
                if nm:
                    self._rebind(st, nm, EMPTY, s)
            return st
        if isinstance(s, cst.Pass):
            return st
        # TypeAlias and future statements: evaluate what they contain.
        for child in s.children:
            if isinstance(child, cst.BaseExpression):
                self.ev(child, st)
        return st

    def _innermost_loop(self) -> Optional[LoopFrame]:
        for f in reversed(self.frames):
            if isinstance(f, LoopFrame):
                return f
        return None

    def _raised_class(self, exc: cst.BaseExpression) -> str:
        node = exc.func if isinstance(exc, cst.Call) else exc
        name = _name_of(node)
        if not name:
            return _ANY
        q = self.ctx.imports.qualify(name)
        b = model.builtin_exception(q)
        if b is not None:
            return _OS if issubclass(b, OSError) else b.__name__
        if q in model.OSERROR_ALIASES:
            return _OS
        # A name bound in a handler (`except E as e: ... raise e`) re-raises what was caught.
        if self.caught_cls and isinstance(node, cst.Name):
            return self.caught_cls[-1]
        return q

    def _is_str(self, node: cst.BaseExpression, depth: int = 0) -> bool:
        """``node`` is a str (or bytes) built here: a literal, ``"..." % x``, a string method
        of one (``"...".format(x)``), or a name bound once to such a value."""
        if isinstance(node, (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString)):
            return True
        if depth > 3:
            return False
        if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Modulo):
            return isinstance(node.left, (cst.SimpleString, cst.ConcatenatedString))
        if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Add):
            # `self.address_str + "\r\n"`: adding to a string literal makes a string.
            return self._is_str(node.left, depth + 1) or self._is_str(node.right, depth + 1)
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
            return node.func.attr.value in model.STR_BUILDING_METHODS and self._is_str(node.func.value, depth + 1)
        if isinstance(node, cst.Name):
            values = self._bindings().get(node.value)
            return bool(values) and all(v is not None and self._is_str(v, depth + 1) for v in values or ())
        return False

    def _bindings(self) -> dict[str, list[Optional[cst.BaseExpression]]]:
        if self._binds is None:
            self._binds = _bindings(self.func)
        return self._binds

    def _single_value(self, name: str) -> Optional[cst.BaseExpression]:
        """The value of ``name`` when the function binds it exactly once, plainly."""
        values = self._bindings().get(name)
        return values[0] if values is not None and len(values) == 1 else None

    def _str_method_cannot_fail(self, call: cst.Call, f: cst.Attribute) -> bool:
        method = f.attr.value
        if method in ("decode", "encode"):
            # `data.decode("ascii", "ignore")`: an error handler that drops or replaces what
            # does not fit cannot fail, whatever the data (ipwhois, hold-out corpus 9).
            errors = call.args[1].value if len(call.args) > 1 and call.args[1].keyword is None else None
            for a in call.args:
                if a.keyword is not None and a.keyword.value == "errors":
                    errors = a.value
            if isinstance(errors, cst.SimpleString) and errors.evaluated_value in model.LENIENT_CODEC_ERRORS:
                return True
        if method == "encode":
            # Only the UTF-8 default cannot fail (`.encode("ascii")` can, on other text).
            if call.args and not (
                isinstance(call.args[0].value, cst.SimpleString)
                and call.args[0].value.evaluated_value in ("utf-8", "utf8", "UTF-8")
            ):
                return False
        elif method not in model.STR_BUILDING_METHODS:
            return False
        return self._is_str(f.value)

    def _is_noreturn(self, call: cst.Call) -> bool:
        name = _name_of(call.func)
        if not name:
            return False
        if self.ctx.imports.qualify(name) in model.NORETURN or name in model.NORETURN:
            return True
        f = call.func
        if isinstance(f, cst.Attribute) and f.attr.value in ("error", "exit") and isinstance(f.value, cst.Name):
            # `p.error("Must specify a port")` where `p = argparse.ArgumentParser()`: prints the
            # usage and exits (SystemExit); the path ends (netcat-py, hold-out corpus 9).
            value = self._single_value(f.value.value)
            callee = _name_of(value.func) if isinstance(value, cst.Call) else None
            return callee is not None and self.ctx.imports.qualify(callee) in model.ARG_PARSERS
        return False

    def _always_raises(self, call: cst.Call) -> bool:
        name = _name_of(call.func)
        if name is None:
            return False
        last = name.rsplit(".", 1)[-1]
        local = name == last or name.startswith(("self.", "cls."))
        return local and last in self.ctx.summaries.always_raise

    @staticmethod
    def _is_test_failure(call: cst.Call) -> bool:
        f = call.func
        return (
            isinstance(f, cst.Attribute)
            and f.attr.value in model.TEST_FAILURE_METHODS
            and isinstance(f.value, cst.Name)
            and f.value.value == "self"
        )

    # ------------------------------------------------------------------ binding
    def _target_names(self, t: cst.BaseExpression) -> list[str]:
        if isinstance(t, cst.Name):
            return [t.value]
        if isinstance(t, (cst.Tuple, cst.List)):
            out: list[str] = []
            for e in t.elements:
                out.extend(self._target_names(e.value))
            return out
        if isinstance(t, cst.StarredElement):
            return self._target_names(t.value)
        return []

    def _assign(self, st: State, target: cst.BaseExpression, val: Val, stmt: cst.CSTNode) -> None:
        if isinstance(target, cst.Name):
            if self.module_level or target.value in self.global_names:
                # A global outlives the function: ownership handed off.
                self._dispose(st, val.reach | val.rids, stmt, "escape")
                st.env[target.value] = val.rids
                return
            if val.contained:
                self._dispose(st, val.contained, stmt, "escape")
            carried = (val.reach - val.rids) & st.env.get(target.value, frozenset())
            if carried:
                # `sock = self.bind_socket(sock, addr)`, `sock = adapter.wrap(sock)`: the call
                # returns the socket it was given, or a wrapper that owns it.
                val = Val(val.rids | carried, val.reach, val.contained, val.elems)
            self._rebind(st, target.value, val, stmt)
            return
        if isinstance(target, (cst.Tuple, cst.List)):
            elts = [e for e in target.elements]
            if val.accept_call is not None and len(elts) >= 1 and not any(isinstance(e, cst.StarredElement) for e in elts):
                val = self._make_accept(st, val.accept_call)
            if val.pair_call is not None and len(elts) == 2:
                val = self._make_pair(st, val.pair_call)
            if val.elems is not None and len(val.elems) == len(elts) and not any(isinstance(e, cst.StarredElement) for e in elts):
                for e, v in zip(elts, val.elems):
                    self._assign(st, e.value, v, stmt)
                return
            # Unknown shape: the sockets go somewhere we do not follow.
            self._dispose(st, val.reach | val.rids, stmt, "escape")
            for e in elts:
                for n in self._target_names(e.value):
                    self._rebind(st, n, EMPTY, stmt)
            return
        if isinstance(target, cst.StarredElement):
            self._assign(st, target.value, Val(reach=val.reach, contained=val.reach), stmt)
            return
        # Attribute or subscript store: the object now owns the socket.
        if isinstance(target, cst.Attribute):
            self.ev(target.value, st)
            dotted = _name_of(target)
            if dotted is not None:
                self._set_fact(st, dotted, val.const if val.const is not None else ("truthy" if val.rids else None))
        elif isinstance(target, cst.Subscript):
            self.ev(target.value, st)
            # `self.peers[sock] = peer`: a socket used as the key is held by the mapping as
            # much as one stored as the value (sshuttle's DnsProxy, hold-out corpus 3).
            for sub in target.slice:
                if isinstance(sub.slice, cst.Index):
                    key = self.ev(sub.slice.value, st)
                    self._dispose(st, key.reach | key.rids, stmt, "escape")
        self._dispose(st, val.reach | val.rids, stmt, "escape")

    def _rebind(self, st: State, name: str, val: Val, node: cst.CSTNode, deleted: bool = False) -> None:
        keep = val.rids
        if name in self.global_names or self.module_level:
            st.env[name] = val.rids
            return
        for key in list(st.obs):
            ob = st.obs[key]
            if name not in ob.may or ob.rid in keep:
                continue
            ob.may = ob.may - {name}
            ob.must = ob.must - {name}
            if not ob.may:
                del st.obs[key]
                rid, ei = key
                if ei is not None and self.exits[ei].kind == "continue":
                    self._record_leak(rid, ei, ob, "continue", self.exits[ei].node)
                else:
                    self._record_leak(rid, ei, ob, "delete" if deleted else "rebind", node)
        st.env[name] = val.rids
        derived = val.reach - val.rids
        if derived:
            st.derived[name] = derived
        else:
            st.derived.pop(name, None)
        kind = val.const
        if kind is None and val.rids:
            kind = "truthy"  # socket objects are always true
        self._set_fact(st, name, kind)
        definite = len(val.rids) == 1
        for ob in st.obs.values():
            if ob.rid in val.rids:
                ob.may = ob.may | {name}
                if definite:
                    ob.must = ob.must | {name}
        for rid in val.rids:
            res = self.facts.resources.get(rid)
            if res is not None and res.name is None:
                res.name = name

    def _assign_atom(self, st: State, target: cst.BaseExpression, value: cst.BaseExpression) -> None:
        """`fid = PIPE_FILE_DESCRIPTOR`: from here on, `fid == PIPE_FILE_DESCRIPTOR` holds."""
        if isinstance(target, (cst.Name, cst.Attribute)) and (const := _atom_const(value)) is not None:
            name = _name_of(target)
            if name is not None and not self.module_level and name not in self.global_names:
                self.atoms_used = True
                self._set_fact(st, f"{name}=={const}", "truthy")

    def _set_fact(self, st: State, name: str, kind: Optional[str], rebinding: bool = True) -> None:
        """``name`` now holds a value known to be None / falsy / truthy (or unknown)."""
        if kind is not None and self.narrow_end is not None and self._dead_after(name, self.narrow_end):
            kind = None  # only this test mentions it: the fact could never be consulted
        one = frozenset({name})
        holders: list[Union[State, Ob]] = [st, *st.obs.values()]
        # Rebinding `name` also forgets what was known about its comparisons (`name==X`, and
        # `eq:a:b` for `a == b` between two names); narrowing on `if name:` does not.
        prefix = name + "==" if rebinding and self.atoms_used and "==" not in name and not name.startswith("eq:") else None

        def stale(x: str) -> bool:
            assert prefix is not None
            return x.startswith(prefix) or (x.startswith("eq:") and name in x.split(":")[1:])

        def update(t: frozenset[str], f: frozenset[str], n: frozenset[str]) -> Facts:
            t, f, n = t - one, f - one, n - one
            if prefix is not None:
                t = frozenset(x for x in t if not stale(x)) if t else t
                f = frozenset(x for x in f if not stale(x)) if f else f
            if kind == "none":
                f, n = f | one, n | one
            elif kind == "falsy":
                f = f | one
            elif kind == "truthy":
                t = t | one
            return t, f, n

        for holder in holders:
            holder.truthy, holder.falsy, holder.nones = update(holder.truthy, holder.falsy, holder.nones)
            if isinstance(holder, Ob) and holder.alts:
                holder.alts = tuple((*update(t, f, n), w) for t, f, n, w in holder.alts)
                # Forgetting a fact can make two variants the same.
                holder.set_variants(_normal_variants(holder.variants()))

    # ------------------------------------------------------------------ resources
    def _create(self, st: State, node: cst.CSTNode, origin: str, callee: str, args: Optional[cst.Call] = None) -> int:
        rid = self._new_rid(node)
        if rid not in self.facts.resources:
            res = Resource(rid, node, origin, callee)
            if args is not None:
                self._classify(res, args)
            self.facts.resources[rid] = res
        for f in self.frames:
            if isinstance(f, LoopFrame):
                f.created.add(rid)
        # The same creation site seen again (next loop iteration): the previous socket is
        # lost unless something other than this statement's targets still holds it.
        for key in [k for k in st.obs if k[0] == rid]:
            ob = st.obs.pop(key)
            if ob.may - self.targets:
                continue
            ei = key[1]
            stmt = self.stmt_node or node
            if ei is not None and self.exits[ei].kind == "continue":
                self._record_leak(rid, ei, ob, "continue", self.exits[ei].node)
            else:
                self._record_leak(rid, ei, ob, "rebind", stmt)
        witness = Step(node, "created", None)
        st.obs[(rid, None)] = Ob(rid, frozenset(), frozenset(), witness, st.truthy, st.falsy, st.nones)
        return rid

    def _classify(self, res: Resource, call: cst.Call) -> None:
        """Type and family from the creating call's arguments, where they are constants."""
        if res.origin in ("create_connection",):
            res.sock_type, res.role = "stream", "client"
            return
        if res.origin == "create_server":
            res.sock_type, res.role = "stream", "listener"
            return
        if res.origin == "accept":
            res.sock_type, res.role = "stream", "server-conn"
            return
        pos = [a for a in call.args if a.keyword is None and a.star == ""]
        kw = {a.keyword.value: a.value for a in call.args if a.keyword is not None}
        fam = kw.get("family", pos[0].value if len(pos) > 0 else None)
        typ = kw.get("type", pos[1].value if len(pos) > 1 else None)
        if res.origin in ("socket", "fromfd", "socketpair"):
            if res.origin == "fromfd":
                fam = kw.get("family", pos[1].value if len(pos) > 1 else None)
                typ = kw.get("type", pos[2].value if len(pos) > 2 else None)
            if typ is None and res.origin in ("socket", "socketpair") and not pos and not kw:
                res.sock_type = "stream"
            for node, attr, table in (
                (typ, "sock_type", {"SOCK_STREAM": "stream", "SOCK_DGRAM": "dgram", "SOCK_RAW": "raw", "SOCK_SEQPACKET": "seqpacket"}),
                (fam, "family", {"AF_INET": "inet", "AF_INET6": "inet6", "AF_UNIX": "unix"}),
            ):
                if node is not None:
                    n = _name_of(node)
                    if n:
                        last = n.rsplit(".", 1)[-1]
                        if last in table:
                            setattr(res, attr, table[last])
            if res.sock_type is None and typ is None and res.origin == "socket":
                res.sock_type = "stream"
            if fam is None and res.origin == "socket" and "fileno" not in kw:
                res.family = "inet"  # `socket.socket()`: AF_INET unless told otherwise

    def _make_accept(self, st: State, call: cst.Call) -> Val:
        rid = self._create(st, call, "accept", _callee_text(call))
        return Val(elems=(Val.of(frozenset({rid})), EMPTY))

    def _local_pair_send(self, method: str, rids: frozenset[int]) -> bool:
        """``a.send(data)`` on one end of a ``socketpair()`` whose other end this function has
        not closed: a write into a local buffer that the function's own peer holds open, which
        blocks when full but does not fail (torpy's ``_create_socket_loop``, hold-out corpus 7)."""
        if method not in ("send", "sendall") or not rids:
            return False
        for rid in rids:
            partner = self.pair_partner.get(rid)
            if partner is None:
                return False
            if any(e.kind == "close" and partner in e.rids for e in self.facts.events):
                return False
        return True

    def _make_pair(self, st: State, call: cst.Call) -> Val:
        a = self._create(st, call, "socketpair", _callee_text(call), call)
        # The second end needs its own identity: key it on the call's func node.
        b = self._create(st, call.func, "socketpair", _callee_text(call), call)
        self.pair_partner[a], self.pair_partner[b] = b, a
        return Val(elems=(Val.of(frozenset({a})), Val.of(frozenset({b}))))

    # ------------------------------------------------------------------ expressions
    def ev(self, e: cst.BaseExpression, st: State) -> Val:
        self._tick()
        if isinstance(e, cst.Name):
            if e.value in ("None", "False", "True"):
                return Val(const="none" if e.value == "None" else ("falsy" if e.value == "False" else "truthy"))
            rids = self._holders(st, e.value)
            return Val(rids, rids | st.derived.get(e.value, frozenset()))
        if isinstance(e, cst.Call):
            return self.ev_call(e, st)
        if isinstance(e, cst.Attribute):
            base = self.ev(e.value, st)
            if e.attr.value in model.CLOSE_METHODS and base.rids:
                # `return port, sock.close`: whoever gets the bound `close` is to close it
                # (tornado's `refusing_port()` returns it as the cleanup function).
                return Val(frozenset(), base.rids)
            return EMPTY
        if isinstance(e, cst.Await):
            v = self.ev(e.expression, st)
            fresh = self._fresh_only(st, v.rids)
            if e.expression is self.rebind_call and self.rebind_moved:
                # `sock = await upgrade(sock)`: the coroutine took the socket over (see ev_call).
                fresh = set(self.rebind_moved)
            if fresh:
                # `sock = await self._connect_sock(...)`: the socket exists only once the
                # await completes, so it cannot leak if the await raises.
                hidden = {k: o for k, o in st.obs.items() if k[0] in fresh}
                for k in hidden:
                    del st.obs[k]
                self.raise_point(st, e, v.reach - v.rids, _ANY)
                st.obs.update(hidden)
            else:
                self.raise_point(st, e, v.reach, _ANY)
            return v
        if isinstance(e, (cst.Tuple, cst.List, cst.Set)):
            vals = [self.ev(el.value, st) for el in e.elements]
            reach = frozenset().union(*(v.reach | v.rids for v in vals)) if vals else frozenset()
            elems = tuple(vals) if isinstance(e, (cst.Tuple, cst.List)) and not any(isinstance(el, cst.StarredElement) for el in e.elements) else None
            return Val(frozenset(), reach, reach, elems)
        if isinstance(e, cst.Dict):
            dreach: frozenset[int] = frozenset()
            for item in e.elements:
                if isinstance(item, cst.DictElement):
                    self.ev(item.key, st)
                dv = self.ev(item.value, st)
                dreach = dreach | dv.reach | dv.rids
            return Val(frozenset(), dreach, dreach)
        if isinstance(e, cst.IfExp):
            self.ev(e.test, st)
            a = self.ev(e.body, st)
            b = self.ev(e.orelse, st)
            return Val(a.rids | b.rids, a.reach | b.reach, a.contained | b.contained)
        if isinstance(e, cst.BooleanOperation):
            a = self.ev(e.left, st)
            b = self.ev(e.right, st)
            return Val(a.rids | b.rids, a.reach | b.reach)
        if isinstance(e, cst.NamedExpr):
            v = self.ev(e.value, st)
            if isinstance(e.target, cst.Name):
                self._assign(st, e.target, v, self.stmt_node or e)
            return v
        if isinstance(e, cst.Subscript):
            v = self.ev(e.value, st)
            for sub in e.slice:
                if isinstance(sub.slice, cst.Index):
                    self.ev(sub.slice.value, st)
            if len(e.slice) == 1 and isinstance(e.slice[0].slice, cst.Index):
                idx = e.slice[0].slice.value
                if isinstance(idx, cst.Integer) and idx.value == "0":
                    if v.accept_call is not None:
                        v = self._make_accept(st, v.accept_call)
                    if v.elems:
                        return v.elems[0]
            return EMPTY
        if isinstance(e, (cst.Lambda, cst.GeneratorExp)):
            self._capture(st, e, e)
            return EMPTY
        if isinstance(e, (cst.ListComp, cst.SetComp, cst.DictComp)):
            # Evaluated at once: uses inside borrow. Evaluate the pieces for their calls.
            for child in _walk(e):
                if isinstance(child, cst.Call):
                    self._tick()
            return EMPTY
        if isinstance(e, cst.Yield):
            if e.value is not None:
                inner: cst.BaseExpression = e.value.item if isinstance(e.value, cst.From) else e.value
                v = self.ev(inner, st)
                self._dispose(st, v.reach | v.rids, e, "escape")
            return EMPTY
        if isinstance(e, (cst.UnaryOperation,)):
            self.ev(e.expression, st)
            return EMPTY
        if isinstance(e, cst.BinaryOperation):
            self.ev(e.left, st)
            self.ev(e.right, st)
            return EMPTY
        if isinstance(e, cst.Comparison):
            self.ev(e.left, st)
            for c in e.comparisons:
                self.ev(c.comparator, st)
            return EMPTY
        if isinstance(e, cst.StarredElement):
            v = self.ev(e.value, st)
            return Val(frozenset(), v.reach | v.rids, v.reach | v.rids)
        if isinstance(e, (cst.FormattedString, cst.ConcatenatedString)):
            for child in _walk(e):
                if isinstance(child, cst.FormattedStringExpression):
                    self.ev(child.expression, st)
            return EMPTY
        # Literals and anything else: evaluate sub-expressions for their effects.
        if isinstance(e, cst.Integer):
            return Val(const="falsy" if e.value.strip("0xXoObB_") == "" else "truthy")
        if isinstance(e, cst.SimpleString):
            return Val(const="falsy" if len(e.raw_value) == 0 else "truthy")
        if isinstance(e, (cst.Float, cst.Imaginary, cst.Ellipsis)):
            return EMPTY
        for child in e.children:
            if isinstance(child, cst.BaseExpression):
                self.ev(child, st)
        return EMPTY

    def _capture(self, st: State, node: cst.CSTNode, scope: cst.CSTNode) -> None:
        """A nested def, class, lambda or generator refers to a local socket: it may outlive
        this call, so ownership is shared with it."""
        held = {n for n, r in st.env.items() if r}
        if not held:
            return
        rids: set[int] = set()
        for n in _walk(scope):
            self._tick()
            if isinstance(n, cst.Name) and n.value in held:
                rids |= st.env[n.value]
        if rids:
            self._dispose(st, rids, node, "escape")

    def ev_call(self, call: cst.Call, st: State) -> Val:
        f = call.func
        recv_val = EMPTY
        method: Optional[str] = None
        receiver_text: Optional[str] = None
        if isinstance(f, cst.Attribute):
            method = f.attr.value
            recv_val = self.ev(f.value, st)
            receiver_text = _name_of(f.value)
        else:
            self.ev(f, st)
        name = _name_of(f)
        qual = self.ctx.imports.qualify(name) if name else None
        last = (name or "").rsplit(".", 1)[-1]

        # Arguments, in order.
        arg_vals: list[tuple[cst.Arg, Val]] = []
        for a in call.args:
            # `stack.callback(s.close)`, `self.addCleanup(s.close)`: a cleanup registered.
            if isinstance(a.value, cst.Attribute) and a.value.attr.value in model.CLOSE_METHODS:
                base = self.ev(a.value.value, st)
                if base.rids:
                    self._dispose(st, base.rids, call, "escape")
                arg_vals.append((a, EMPTY))
                continue
            arg_vals.append((a, self.ev(a.value, st)))
        arg_rids = frozenset().union(*(v.rids | v.reach for _, v in arg_vals)) if arg_vals else frozenset()

        if last in model.FAKE_FACTORY_INSTALLERS or last in self.ctx.summaries.fake_net or (
            qual is not None and qual in model.FAKE_NETWORK_CLASSES
        ):
            self.fake_net = True
        if qual is not None and qual in model.SOCKET_MODULE_PATCHERS:
            self.socket_patched = True
        # --- sources
        if (
            qual is not None
            and not (qual in model.FACTORIES or qual in self.ctx.factories)
            and _socket_module_factory(qual)
            # After a custom socket factory is installed, `trio.socket.socket()` returns what
            # the factory makes (FakeNet's sockets have no descriptor).
            and not self.fake_net
            # `m_socket.socket()` where `m_socket` is a parameter: a stand-in handed to the
            # function (a mock.patch argument in tests), not a module we know.
            and qual.rsplit(".", 1)[0] not in self.callable_params - {"self", "cls"}
        ):
            # `gevent.socket.create_connection`, `trio.socket.socket`, `self.socket_module.socket`:
            # a socket-like module's factory.
            qual = "socket." + qual.rsplit(".", 1)[-1]
        if (
            qual is not None
            and (qual in model.FACTORIES or qual in self.ctx.factories or (name in self.ctx.factories))
            and not (self.socket_patched and qual.startswith("socket."))
        ):
            origin = qual.rsplit(".", 1)[-1] if qual.startswith(("socket.", "_socket.")) else ("wrap" if qual in model.WRAPPING_FACTORIES else "factory")
            if origin not in ("socket", "create_connection", "create_server", "fromfd", "fromshare", "SocketType"):
                origin = "wrap" if qual in model.WRAPPING_FACTORIES else "factory"
            if origin == "SocketType":
                origin = "socket"
            if origin == "wrap":
                # ssl takes the socket over first: SSLSocket._create detaches it and closes
                # it itself if the handshake fails (ssl.py, 3.7 to 3.13).
                self._dispose(st, arg_rids, call, "escape")
                self.raise_point(st, call, frozenset(), _ANY)
            else:
                # `socket.socket(family, type, fileno=fd)`: the new socket owns that descriptor.
                fd_rids = frozenset().union(
                    *(v.rids for a, v in arg_vals if a.keyword is not None and a.keyword.value == "fileno")
                )
                self._dispose(st, fd_rids, call, "escape")
                self.raise_point(st, call, arg_rids - fd_rids, _OS)
                self._dispose(st, self._fresh_only(st, arg_rids), call, "escape")
            rid = self._create(st, call, origin, _callee_text(call), call)
            return Val.of(frozenset({rid}))
        if qual is not None and qual in model.PAIR_FACTORIES:
            self.raise_point(st, call, frozenset(), _OS)
            return Val(pair_call=call)
        if method is not None and method in model.WRAP_METHODS and (
            self._real_sockets(arg_rids) or _looks_like_ssl_context(receiver_text)
        ):
            # `ctx.wrap_socket(sock)`: ownership moves to the SSL socket before anything can
            # fail (see above). Only a tracked socket argument makes this ssl's method: a
            # project's own `wrap_socket()` may return anything.
            self._dispose(st, arg_rids, call, "escape")
            self.raise_point(st, call, frozenset(), _ANY)
            rid = self._create(st, call, "wrap", _callee_text(call), call)
            return Val.of(frozenset({rid}))
        if method is not None and method in model.ACCEPT_METHODS and not call.args:
            self.raise_point(st, call, recv_val.rids, _OS)
            self._event("method", method, call, recv_val.rids, receiver_text)
            return Val(accept_call=call)
        if method is not None and method in model.DUP_METHODS and not call.args and (recv_val.rids or self._sockety(receiver_text)):
            self.raise_point(st, call, recv_val.rids, _OS)
            self._event("method", method, call, recv_val.rids, receiver_text)
            rid = self._create(st, call, "dup", _callee_text(call), call)
            return Val.of(frozenset({rid}))
        local_name = None
        if name is not None and (name == last or name.startswith(("self.", "cls."))):
            local_name = last
        if local_name is not None and local_name in self.ctx.summaries.async_funcs and local_name not in self.ctx.summaries.sources:
            # Calling a coroutine function only builds the coroutine: it cannot fail, and
            # the coroutine holds the arguments until it is awaited or scheduled. One that
            # closes an argument (`async with sock:` in curio's `run_server`) owns it.
            closes = self.ctx.summaries.closers.get(local_name, set())
            by_coro: frozenset[int] = frozenset().union(
                *(v.rids for i, (a, v) in enumerate(arg_vals) if a.keyword is None and i in closes)
            ) if closes else frozenset()
            if by_coro:
                self._dispose(st, by_coro, call, "close")
            return Val(frozenset(), arg_rids - by_coro, frozenset())
        if local_name is not None and self.ctx.summaries.is_source(local_name, name != local_name, self.cur_class):
            wrapped = self.ctx.summaries.wrappers.get(local_name, set())
            taken = frozenset().union(
                *(v.rids for i, (a, v) in enumerate(arg_vals) if a.keyword is None and i in wrapped)
            ) if wrapped else frozenset()
            # `sock = _ssl_socket(sock)`: rebinding the argument's name hands it over too.
            taken |= self._moved_by_rebinding(call, arg_vals)
            # A helper returning `ctx.wrap_socket(param)` takes its argument over, as ssl does.
            self._dispose(st, taken, call, "escape")
            self.raise_point(st, call, arg_rids - taken, _ANY)
            # `test_wrap_socket(socket.socket())`: a helper that returns a fresh socket owns
            # the fresh socket it was given (it wraps it).
            self._dispose(st, self._fresh_only(st, arg_rids), call, "escape")
            rid = self._create(st, call, "factory", _callee_text(call), call)
            return Val.of(frozenset({rid}))

        moved = self._moved_by_rebinding(call, arg_vals)
        if call is self.rebind_call:
            self.rebind_moved = moved
        if moved and not (method is not None and recv_val.rids and method in model.CLOSE_METHODS):
            # `sock = adapter.wrap(sock)`, `s, env = adapter.wrap(s)`, `sock = bind(sock, addr)`:
            # the caller replaces its socket with what the call returns, so the call takes the
            # socket over (the result is the socket itself or a wrapper that owns it), and
            # whoever took it over disposes of it if the call fails, as ssl's wrap_socket does.
            # The result is followed as the same socket, with its creation and path.
            exc = st.copy()
            for key in [k for k in exc.obs if k[0] in moved]:
                del exc.obs[key]
            self.raise_point(exc, call, (arg_rids | recv_val.rids) - moved, _ANY)
            return Val(moved, moved)

        # --- methods on a socket
        if method is not None and (method in model.SOCKET_METHODS or method in model.CLOSE_METHODS):
            self._event("method", method, call, recv_val.rids, receiver_text)
        if (
            method is not None
            and method in model.CLOSE_METHODS
            and isinstance(f, cst.Attribute)
            and isinstance(f.value, cst.Attribute)
            and "sock" in f.value.attr.value.lower()
            and (inner := self.ev_peek(f.value.value, st))
        ):
            # `sock._socket.close()`: a socket-like wrapper (curio's Socket) closed through the
            # socket it wraps (curio's tcp_server_socket, hold-out corpus 3).
            self._dispose(st, inner, call, "close")
            self._event("close", method, call, inner, receiver_text)
            return EMPTY
        if method is not None and method in model.CLOSE_METHODS and recv_val.reach - recv_val.rids and not recv_val.rids:
            # `transport = make_transport(sock); ...; transport.close()`: the object built
            # around the socket owns it, and closing it closes the socket.
            owned = recv_val.reach - recv_val.rids
            self._dispose(st, owned, call, "close")
            self._event("close", method, call, owned, receiver_text)
            return EMPTY
        if method is not None and recv_val.rids and (
            method in model.SOCKET_METHODS
            or method in model.CLOSE_METHODS
            or any(self.facts.resources[r].origin != "param" for r in recv_val.rids if r in self.facts.resources)
        ):
            # A method of a socket (parameters are tracked too, but a parameter's unknown
            # methods are just calls on some object).
            self._used_after_continue(st, recv_val.rids)
            if method in model.CLOSE_METHODS:
                # Everything the name may hold, or may own through a wrapper, is closed.
                self._dispose(st, recv_val.rids | recv_val.reach, call, "close")
                self._event("close", method, call, recv_val.rids, receiver_text)
                return EMPTY
            if method not in model.NONRAISING_SOCKET_METHODS and not model.is_accessor(method) and not self._local_pair_send(method, recv_val.rids):
                cls = (_OSCFG if method in model.CONFIG_SOCKET_METHODS else _OS) if method in model.SOCKET_METHODS else _ANY
                if method == "connect" and self._all_dgram(recv_val.rids):
                    # A datagram socket's connect() only records the peer (a route lookup):
                    # it never blocks, so it fails at once with a plain OSError and never
                    # times out (minestat's `except socket.timeout` around a UDP connect,
                    # hold-out corpus 14).
                    cls = _OSCFG
                self.raise_point(st, call, recv_val.rids | arg_rids, cls)
            if method in model.DERIVING_METHODS:
                return Val(frozenset(), recv_val.rids, frozenset())
            if method in model.SELF_RETURNING_METHODS:
                return Val(recv_val.rids, recv_val.rids)
            self._after_borrow(st, call, arg_vals, qual, method)
            return EMPTY

        # --- closing helpers, owners, borrowers
        if (qual in model.NORETURN) or (name in model.NORETURN):
            return EMPTY
        if qual in model.PASS_THROUGH or last in ("closing", "nullcontext"):
            return Val(arg_rids, arg_rids)
        if qual in model.SUPPRESS or qual in model.INERT_CONTEXT_MANAGERS:
            # `with contextlib.suppress(OSError):` only builds the context manager: nothing
            # to fail (ssh-mitm's cleanup `client.close()` under it, hold-out corpus 14).
            return EMPTY
        closer_params = self._closer_params(name, qual, local_name)
        if closer_params is not None:
            closed: set[int] = set()
            for i, (a, v) in enumerate(arg_vals):
                if a.keyword is None and (i in closer_params or closer_params == {-1}):
                    closed |= v.rids
            if closed:
                self._dispose(st, closed, call, "close")
                self._event("close", last or "close", call, frozenset(closed), None)
                return EMPTY
        if arg_rids:
            if self._keeps(name, qual, method, last, local_name, call):
                # The new owner has the socket before anything in the call can fail.
                self._dispose(st, arg_rids, call, "escape")
                if method not in model.NONRAISING_KEEPERS and self._local_class(name, last) not in self.ctx.summaries.trivial_init:
                    self.raise_point(st, call, frozenset(), _ANY)
                return EMPTY
            contained = frozenset().union(*(v.contained for _, v in arg_vals))
            if contained:
                # A container built around the socket and passed on: the callee keeps it.
                self._dispose(st, contained, call, "escape")
            owned_kw = frozenset().union(
                *(v.rids | v.reach for a, v in arg_vals if a.keyword is not None and a.keyword.value in model.OWNING_KEYWORDS)
            )
            if owned_kw:
                self._dispose(st, owned_kw, call, "escape")
        if method is not None and model.is_test_assertion(method) and receiver_text == "self" and id(call) not in self.cm_calls:
            # `self.assertNotEqual(s, None)`, `self.assertRaisesRegex(E, msg, s.connect, a)`:
            # a unittest assertion fails with AssertionError, a failed test like a failing
            # `assert` statement: handlers and `finally` see it, no finding is made of it.
            exc = st.copy()
            ei = self._exit("assert", call, cls="AssertionError")
            self._rekey(exc, ei)
            self.jump("raise", exc, "AssertionError")
            return Val(frozenset(), arg_rids, frozenset()) if arg_rids else EMPTY
        if qual in model.INSPECTING_FUNCTIONS or name in model.INSPECTING_FUNCTIONS or model.is_logging_call(name, method):
            if qual in model.NON_OWNING_CALLS:
                # `ev = select.kevent(b, ...)` holds a descriptor number, not the socket: handing
                # `ev` on (`kq.control([ev])`) hands nothing on.
                return EMPTY
            return Val(frozenset(), arg_rids, frozenset()) if arg_rids else EMPTY
        if isinstance(f, cst.Attribute) and self._str_method_cannot_fail(call, f):
            # `"whois -h {0}".format(server)`, `b"".join(parts)`, `query.encode()` where
            # `query = "...".format(...)`: a string method builds a string; it fails only for a
            # programming error (a bad format field), not at run time, so it is neither a raise
            # point nor a witness (ipwhois, hold-out corpus 9).
            return EMPTY
        if local_name is not None and self.ctx.summaries.nonraising_in(local_name, name != local_name, self.cur_class):
            # `set_nodelay(sock)` whose body is `with suppress(Exception): ...`, or
            # `self.debug_print(msg)` that only prints: cannot raise. A method counts only when
            # this class defines it (not one it may inherit from elsewhere).
            self._after_borrow(st, call, arg_vals, qual, method)
            return Val(frozenset(), arg_rids, frozenset()) if arg_rids else EMPTY
        cls = _ANY
        if qual in model.OS_CONFIG_FUNCTIONS:
            # `fcntl.ioctl(s, SIOCGIFADDR, req)`: fails with a plain OSError, which
            # `except IOError:` catches (scapy's read_routes).
            cls = _OSCFG
        if local_name is not None and self.ctx.summaries.defines(local_name, name != local_name, self.cur_class):
            # A module function, or a method of the calling class (`self.update_timeout(s)`).
            if local_name in self.ctx.summaries.oscfg_only:
                cls = _OSCFG
            elif local_name in self.ctx.summaries.os_only:
                cls = _OS
            elif local_name in self.ctx.summaries.non_os:
                cls = _NONOS
        # A fresh, unnamed socket belongs to the callee from the call on.
        self._after_borrow(st, call, arg_vals, qual, method)
        if method in model.ASYNC_LOOP_METHODS and "loop" in (receiver_text or "").rsplit(".", 1)[-1].lower():
            # `f = self.loop.sock_recv(r, 1)`: a coroutine is built, nothing runs yet; it raises
            # where it is awaited or run, and it holds the socket until then.
            return Val(frozenset(), arg_rids, frozenset())
        if (
            qual not in model.NON_OWNING_CALLS
            and not (method or "").startswith("assert")
            and (local_name is None or local_name not in self.ctx.summaries.defined)
            and not (qual in self.ctx.borrowers or (name is not None and name in self.ctx.borrowers))
        ):
            # Passed to a call of another module: if the function never closes it, that call is
            # the likely owner (see check_leaks).
            for _, v in arg_vals:
                for rid in self._real_sockets(v.rids):
                    res = self.facts.resources[rid]
                    if res.lent is None:
                        res.lent = call
        self.raise_point(st, call, arg_rids, cls)
        # The call's result may hold what was passed in (a coroutine, a wrapper): it is
        # reachable from the result, which matters only if the result is handed off.
        return Val(frozenset(), arg_rids, frozenset())

    def _moved_by_rebinding(self, call: cst.Call, arg_vals: list[tuple[cst.Arg, Val]]) -> frozenset[int]:
        """Sockets that ``name = f(name, ...)`` passes in under the very name it rebinds."""
        if call is not self.rebind_call or not self.targets:
            return frozenset()
        out: set[int] = set()
        for a, v in arg_vals:
            if a.keyword is None and not a.star and isinstance(a.value, cst.Name) and a.value.value in self.targets:
                out |= self._real_sockets(v.rids)
        return frozenset(out)

    def _real_sockets(self, rids: frozenset[int]) -> frozenset[int]:
        return frozenset(r for r in rids if r in self.facts.resources and self.facts.resources[r].origin != "param")

    def _sockety(self, receiver: Optional[str]) -> bool:
        return bool(receiver) and ("sock" in receiver.lower() or "conn" in receiver.lower())  # type: ignore[union-attr]

    def _fresh_only(self, st: State, rids: frozenset[int]) -> set[int]:
        out: set[int] = set()
        for rid in rids:
            for (r, ei), ob in st.obs.items():
                if r == rid and ei is None and not ob.may:
                    out.add(rid)
        return out

    def _after_borrow(self, st: State, call: cst.Call, arg_vals: list[tuple[cst.Arg, Val]], qual: Optional[str], method: Optional[str]) -> None:
        """A fresh, unnamed socket passed to a call goes to the callee: nothing else could
        ever close it, so the callee must own it (``serve(socket.socket())``)."""
        fresh: set[int] = set()
        for _, v in arg_vals:
            fresh |= self._fresh_only(st, v.rids | v.reach)
        if fresh:
            self._dispose(st, fresh, call, "escape")

    def _closer_params(self, name: Optional[str], qual: Optional[str], local_name: Optional[str]) -> Optional[set[int]]:
        if name is None:
            return None
        if qual in self.ctx.closers or name in self.ctx.closers or (local_name and local_name in self.ctx.closers):
            return {0}
        if local_name is not None and local_name in self.ctx.summaries.closers:
            return self.ctx.summaries.closers[local_name]
        last = name.rsplit(".", 1)[-1]
        if last not in self.ctx.summaries.defined and model.closes_by_name(last):
            # A function of another module named for closing (`close_socket(s)`): it closes
            # every socket given to it (evaluation round 6, gevent's `_close_on_teardown`).
            return {-1}
        return None

    def _all_dgram(self, rids: frozenset[int]) -> bool:
        """Every tracked socket among ``rids`` is a datagram socket (and there is one)."""
        res = [self.facts.resources[r] for r in rids if r in self.facts.resources]
        return bool(res) and all(r.sock_type == "dgram" for r in res)

    def _local_class(self, name: Optional[str], last: str) -> Optional[str]:
        """The class of this module that the call constructs (`_Client(...)`,
        `self._Client(...)`, `Server._Client(...)`), if it is one."""
        classes = self.ctx.summaries.local_classes
        if name is None or last not in classes:
            return None
        owner = name.rsplit(".", 1)[0] if "." in name else None
        if owner is None or owner in ("self", "cls") or owner in classes:
            return last
        return None

    def _keeps(self, name: Optional[str], qual: Optional[str], method: Optional[str], last: str, local_name: Optional[str], call: cst.Call) -> bool:
        if qual in self.ctx.borrowers or (name and name in self.ctx.borrowers):
            return False
        if qual in self.ctx.sinks or (name and name in self.ctx.sinks) or (last and last in self.ctx.sinks):
            return True
        if qual in model.KEEPING_FUNCTIONS:
            return True
        if method is not None and method in model.KEEPING_METHODS:
            return True
        if local_name is not None and local_name in self.ctx.summaries.keepers:
            return True
        # `callback(conn, addr)`: a callable handed to this function (a parameter, or a
        # parameter of an enclosing function) is where the connection is meant to go.
        if name is not None and name == last and name in self.callable_params:
            return True
        # A class: constructing an object around the socket hands it over (a wrapper owns it).
        if last and last[0].isupper() and not last.isupper():
            return True
        if self._local_class(name, last) is not None:
            return True
        # A class held in a variable or attribute (`self._jobClass(sock, addr)`, `handler_class`,
        # `conn_cls`): constructing it hands the socket over too (flup, hold-out corpus 5).
        if last and last.lower().endswith(("class", "_cls")) and not last.lower().startswith("sub"):
            return True
        # `Base.__init__(self, sock)` / `super().__init__(sock)`: the base class stores it.
        if last == "__init__" or method == "__init__":
            return True
        return False

    # ------------------------------------------------------------------ narrowing
    def narrow(self, st: State, test: cst.BaseExpression) -> tuple[Optional[State], Optional[State]]:
        t, f = st.copy(), st.copy()
        self._narrow_into(test, t, f)
        return t, f

    def _edge(self, st: State, name: str, kind: str) -> None:
        """On this edge ``name`` is known ``kind`` ("truthy", "falsy", "none", "notnone"):
        drop every obligation whose path facts contradict it, then record the fact."""
        drop = []
        for key, ob in st.obs.items():
            if kind in ("falsy", "none") and name in ob.must:
                drop.append(key)
                continue

            def consistent(v: Variant) -> bool:
                if kind == "truthy":
                    return name not in v[1]
                if kind in ("falsy", "none"):
                    return name not in v[0]
                if kind == "notnone":
                    return name not in v[2]
                return True

            if not ob.keep_variants(consistent):
                drop.append(key)
        for key in drop:
            del st.obs[key]
        if kind in ("truthy", "notnone"):
            # `if sock is None: sock = connect()`: a loop that checks for the socket it carried
            # over a `continue` means to reuse it; the `continue` did not lose it.
            self._used_after_continue(st, frozenset(k[0] for k, ob in st.obs.items() if name in ob.must))
        if kind in ("falsy", "none"):
            st.env[name] = frozenset()
        if kind != "notnone":
            self._set_fact(st, name, kind, rebinding=False)

    def _edge_atom(self, st: State, key: str, holds: bool) -> None:
        """On this edge the comparison ``key`` (``"name==CONST"``) holds or not. A name equal to
        one constant is unequal to every other, so a different ``name==OTHER`` known true
        contradicts ``holds`` too."""
        prefix = key[: key.index("==") + 2]

        def consistent(v: Variant) -> bool:
            if holds:
                return key not in v[1] and not any(x != key and x.startswith(prefix) for x in v[0])
            return key not in v[0]

        drop = [k for k, ob in st.obs.items() if not ob.keep_variants(consistent)]
        for k in drop:
            del st.obs[k]
        self.atoms_used = True
        self._set_fact(st, key, "truthy" if holds else "falsy")

    def _edge_eq(self, st: State, key: str, holds: bool) -> None:
        """``a == b`` between two names (``eq:a:b``) holds or not on this edge."""

        def consistent(v: Variant) -> bool:
            return key not in (v[1] if holds else v[0])

        drop = [k for k, ob in st.obs.items() if not ob.keep_variants(consistent)]
        for k in drop:
            del st.obs[k]
        self.atoms_used = True
        self._set_fact(st, key, "truthy" if holds else "falsy")

    _STR_PREDICATES = frozenset(
        {"startswith", "endswith", "isdigit", "isnumeric", "isdecimal", "isalpha", "isalnum", "isspace", "islower", "isupper"}
    )

    def _str_predicate(self, test: cst.BaseExpression) -> Optional[str]:
        """``name.startswith("3")`` with constant arguments: its fact key (``eq:name:...``)."""
        if not (
            isinstance(test, cst.Call)
            and isinstance(test.func, cst.Attribute)
            and isinstance(test.func.value, cst.Name)
            and test.func.attr.value in self._STR_PREDICATES
            and all(a.keyword is None and isinstance(a.value, (cst.SimpleString, cst.Tuple, cst.Integer)) for a in test.args)
        ):
            return None
        args = ",".join(cst.Module([]).code_for_node(a.value) for a in test.args)
        if ":" in args or "==" in args:
            return None
        return f"eq:{test.func.value.value}:{test.func.attr.value}({args})"

    def _literal_tuple(self, node: cst.BaseExpression) -> Optional[list[str]]:
        """The constants of ``(A, B)`` / ``[A, B]`` / ``{A, B}``, or of a name this function
        binds once to such a literal (thriftpy2's ``valid_family``)."""
        if isinstance(node, cst.Name):
            value = self._single_value(node.value)
            return self._literal_tuple(value) if isinstance(value, (cst.Tuple, cst.List, cst.Set)) else None
        if isinstance(node, (cst.Tuple, cst.List, cst.Set)):
            out = [_atom_const(e.value) for e in node.elements]
            return None if any(c is None for c in out) else out  # type: ignore[return-value]
        c = _atom_const(node)
        return None if c is None else [c]

    def _member_of_constants(self, comp: cst.ComparisonTarget) -> Optional[tuple[list[str], bool]]:
        """``in (A, B)`` / ``== A`` (and their negations) against constants: the constants,
        and whether the true edge is the one where the value is among them."""
        if isinstance(comp.operator, (cst.In, cst.NotIn)):
            consts = self._literal_tuple(comp.comparator)
            positive = isinstance(comp.operator, cst.In)
        elif isinstance(comp.operator, (cst.Equal, cst.Is, cst.NotEqual, cst.IsNot)):
            c = _atom_const(comp.comparator)
            consts = None if c is None else [c]
            positive = isinstance(comp.operator, (cst.Equal, cst.Is))
        else:
            return None
        return (consts, positive) if consts else None

    def _narrow_family(self, test: cst.Comparison, t: State, f: State) -> None:
        """``if sock.family in (AF_INET, AF_INET6):``: a socket created with a constant family
        (``socket.socket(AF_UNIX, ...)``) takes only the edge its family agrees with, so the
        path that needs the other family does not carry it (thriftpy2, hold-out corpus 3)."""
        comp = test.comparisons[0]
        if not (isinstance(test.left, cst.Attribute) and test.left.attr.value == "family" and isinstance(test.left.value, cst.Name)):
            return
        member = self._member_of_constants(comp)
        if member is None:
            return
        consts, positive = member
        fams = {_FAMILIES.get(c.rsplit(".", 1)[-1]) for c in consts}
        if None in fams:
            return  # a family socklint does not tell apart (AF_PACKET ...): no fact
        name = test.left.value.value
        for edge, inside in ((t, positive), (f, not positive)):
            for k in [k for k, ob in edge.obs.items() if name in ob.must]:
                res = self.facts.resources.get(k[0])
                if res is not None and res.family is not None and (res.family in fams) != inside:
                    del edge.obs[k]

    def _narrow_errno(self, test: cst.Comparison, t: State, f: State) -> None:
        """``if e.errno in (EAGAIN, EWOULDBLOCK):`` in a handler: an OSError raised by a
        configuration call (``setsockopt``, ``bind``, ``fcntl``...) never carries an errno
        of I/O (would-block, interrupted, timed out, reset...), so its path does not take the
        edge where the errno is one of those (pysyncobj's accept handler, hold-out corpus 8;
        cheroot's ``prevent_socket_inheritance``)."""
        if not self.exc_facts:
            return
        left, comp = test.left, test.comparisons[0]
        is_errno = isinstance(left, cst.Attribute) and left.attr.value == "errno"
        if not is_errno and isinstance(left, cst.Subscript) and isinstance(left.value, cst.Attribute):
            idx = left.slice[0].slice if len(left.slice) == 1 else None
            is_errno = (
                left.value.attr.value == "args"
                and isinstance(idx, cst.Index)
                and isinstance(idx.value, cst.Integer)
                and idx.value.value == "0"
            )
        if not is_errno:
            return
        member = self._member_of_constants(comp)
        if member is None or not all(c.rsplit(".", 1)[-1] in model.IO_ONLY_ERRNOS for c in member[0]):
            return
        inside = t if member[1] else f
        drop = [k for k, ob in inside.obs.items() if not ob.keep_variants(lambda v: _EXC_CFG not in v[0])]
        for k in drop:
            del inside.obs[k]

    def _narrow_into(self, test: cst.BaseExpression, t: State, f: State) -> None:
        if isinstance(test, cst.Comparison) and len(test.comparisons) == 1:
            self._narrow_family(test, t, f)
            self._narrow_errno(test, t, f)
        if isinstance(test, cst.NamedExpr) and isinstance(test.target, cst.Name):
            test = test.target  # `if s := make():` tests the name just bound
        elif isinstance(test, cst.Comparison) and isinstance(test.left, cst.NamedExpr) and isinstance(test.left.target, cst.Name):
            test = test.with_changes(left=test.left.target)
        if isinstance(test, cst.Name):
            self._edge(t, test.value, "truthy")
            self._edge(f, test.value, "falsy")
        elif (key := self._str_predicate(test)) is not None:
            # `if not status.startswith("3"):` ... `if status.startswith("3"):`: a string
            # predicate on an unchanged name gives the same answer twice (offpunk's gemini
            # client, hold-out corpus 15). Rebinding the name forgets it, like `eq:a:b`.
            self._edge_eq(t, key, True)
            self._edge_eq(f, key, False)
        elif isinstance(test, cst.Attribute) and (dotted := _name_of(test)) is not None:
            # `if self.ciphers:` ... `if not self.ciphers:`: attributes narrow like names
            # (until this function assigns them; calls are assumed not to change them).
            self._edge(t, dotted, "truthy")
            self._edge(f, dotted, "falsy")
        elif isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
            self._narrow_into(test.expression, f, t)
        elif (
            isinstance(test, cst.Comparison)
            and len(test.comparisons) == 1
            and isinstance(test.left, (cst.Name, cst.Attribute))
            and isinstance(test.comparisons[0].operator, (cst.Equal, cst.Is, cst.NotEqual, cst.IsNot))
            and (const := _atom_const(test.comparisons[0].comparator)) is not None
            and (left := _name_of(test.left)) is not None
        ):
            # `if fid == PIPE_FILE_DESCRIPTOR:` ... `if fid == PIPE_FILE_DESCRIPTOR:` again: the
            # comparison is a path fact of its own, like a flag (see _edge_atom).
            positive = isinstance(test.comparisons[0].operator, (cst.Equal, cst.Is))
            key = f"{left}=={const}"
            self._edge_atom(t if positive else f, key, True)
            self._edge_atom(f if positive else t, key, False)
        elif (
            isinstance(test, cst.Comparison)
            and len(test.comparisons) == 1
            and isinstance(test.left, cst.Name)
            and isinstance(test.comparisons[0].operator, (cst.In, cst.NotIn))
        ):
            # `if sock not in sockets: sock.close()`: a socket this function still owns was
            # never put in a container (`sockets.append(sock)` hands it over), so on the edge
            # where it is "in" one, it is not an open obligation (pywemo, hold-out corpus 4).
            inside = t if isinstance(test.comparisons[0].operator, cst.In) else f
            name = test.left.value
            for k in [k for k, ob in inside.obs.items() if name in ob.must]:
                del inside.obs[k]
        elif isinstance(test, cst.Comparison) and len(test.comparisons) == 1 and isinstance(test.left, cst.Name):
            comp = test.comparisons[0]
            if _is_none(comp.comparator):
                # `x is None` is a fact of its own too (`x==None`), so that `x is not None`
                # known on a path contradicts a later `x is None` (portpicker, hold-out 2).
                key = f"{test.left.value}==None"
                if isinstance(comp.operator, (cst.Is, cst.Equal)):
                    self._edge(t, test.left.value, "none")
                    self._edge(f, test.left.value, "notnone")
                    self._edge_atom(t, key, True)
                    self._edge_atom(f, key, False)
                elif isinstance(comp.operator, (cst.IsNot, cst.NotEqual)):
                    self._edge(t, test.left.value, "notnone")
                    self._edge(f, test.left.value, "none")
                    self._edge_atom(t, key, False)
                    self._edge_atom(f, key, True)
            elif (
                isinstance(comp.operator, (cst.Equal, cst.NotEqual))
                and isinstance(comp.comparator, (cst.Name, cst.Attribute))
                and (right := _name_of(comp.comparator)) is not None
                and right not in ("True", "False")
            ):
                # `family == return_family`: two names, neither a constant.
                a, b = sorted((test.left.value, right))
                key = f"eq:{a}:{b}"
                positive = isinstance(comp.operator, cst.Equal)
                self._edge_eq(t if positive else f, key, True)
                self._edge_eq(f if positive else t, key, False)
        elif isinstance(test, cst.BooleanOperation) and _bool_ops(test) > 4:
            # A long chain: narrowing each split would cost 3^n; keep the sure edge only.
            if isinstance(test.operator, cst.And):
                self._narrow_into(test.left, t, State())
                self._narrow_into(test.right, t, State())
            else:
                self._narrow_into(test.left, State(), f)
                self._narrow_into(test.right, State(), f)
        elif isinstance(test, cst.BooleanOperation):
            # Each edge is the join of the ways to reach it, so facts of each operand survive
            # in the obligation's variants: the false edge of `a and b` is "a false" or "a true
            # and b false".
            if isinstance(test.operator, cst.And):
                self._narrow_into(test.left, t, State())
                self._narrow_into(test.right, t, State())
                other = f.copy()
                self._narrow_into(test.left, State(), f)
                self._narrow_into(test.left, other, State())
                self._narrow_into(test.right, State(), other)
                _replace_state(f, _merged(f, other))
            else:
                other = t.copy()
                self._narrow_into(test.left, t, State())
                self._narrow_into(test.left, State(), other)
                self._narrow_into(test.right, other, State())
                _replace_state(t, _merged(t, other))
                self._narrow_into(test.left, State(), f)
                self._narrow_into(test.right, State(), f)

    # ------------------------------------------------------------------ compound statements
    def exec_if(self, node: cst.If, st: State) -> Optional[State]:
        self.ev(node.test, st)
        if raises_on_python3(node.test):
            self.raise_point(st, node.test, frozenset(), _OTHER)
            return None
        self.narrow_end = self._use_table()[1].get(id(node.test)) if self._has_facts(st) else None
        t, f = self.narrow(st, node.test)
        self.narrow_end = None
        on_py3 = python3_constant(node.test)
        if on_py3 is not None:
            # `if sys.version_info[0] < 3:` / `if six.PY2:`: the branch for Python 2 never runs.
            t, f = (t, None) if on_py3 else (None, f)
        if t is not None:
            self._step(t, node, "`if {code}` is true")
        self.guards.append(node.test)
        out1 = self.exec_block(self._body(node), t)
        self.guards.pop()
        if node.orelse is None:
            if f is not None:
                self._step(f, node, "`if {code}` is false")
            out2 = f
        elif isinstance(node.orelse, cst.If):
            if f is not None:
                self._step(f, node, "`if {code}` is false")
            # Events in elif/else branches carry the test too (Event.guards: enclosing tests).
            self.guards.append(node.test)
            out2 = self.exec_if(node.orelse, f) if f is not None else None
            self.guards.pop()
        else:
            if f is not None:
                self._step(f, node, "`if {code}` is false")
            self.guards.append(node.test)
            out2 = self.exec_block(self._body(node.orelse), f)
            self.guards.pop()
        if out1 is not None and out2 is not None and not _same_facts(out1, out2):
            # Only where the branches join with different facts can dead ones add variants.
            self._forget_dead(out1, node)
            self._forget_dead(out2, node)
        return join(out1, out2)

    def _use_table(self) -> tuple[dict[str, int], dict[int, int]]:
        if self._uses is None:
            self._uses = _use_positions(self.body)
        return self._uses

    def _dead_after(self, key: str, pos: int) -> bool:
        """No name the fact ``key`` is about occurs after position ``pos``."""
        bases = _fact_bases(key)
        last = self._use_table()[0]
        return bases is not None and all(last.get(b, 0) <= pos for b in bases)

    @staticmethod
    def _has_facts(st: State) -> bool:
        return any(ob.alts or ob.truthy or ob.falsy or ob.nones for ob in st.obs.values())

    def _forget_dead(self, st: Optional[State], node: cst.If) -> None:
        """Drop the path facts about names this function never mentions after ``node``: no
        later test can consult them, and keeping them apart only multiplies an obligation's
        variants until MAX_VARIANTS intersects away the facts a later test does need
        (`if self.cookie:` and `if self.read_response:` crowding out
        `self.protocol == ILO_LOCAL` in hpilo's `_communicate`, hold-out corpus 9)."""
        if st is None:
            return
        keys = st.truthy | st.falsy | st.nones
        for ob in st.obs.values():
            for v in ob.variants():
                keys = keys | v[0] | v[1] | v[2]
        if not keys:
            return
        end = self._use_table()[1].get(id(node))
        if end is None:
            return
        dead = frozenset(k for k in keys if self._dead_after(k, end))
        if not dead:
            return
        st.truthy, st.falsy, st.nones = st.truthy - dead, st.falsy - dead, st.nones - dead
        for ob in st.obs.values():
            vs = [(t - dead, f - dead, n - dead, w) for t, f, n, w in ob.variants()]
            ob.set_variants(_normal_variants(vs) if len(vs) > 1 else vs)

    def _loop(
        self,
        node: Union[cst.For, cst.While],
        entry: State,
        before_body: Callable[[State], tuple[Optional[State], Optional[State]]],
        runs_once: bool = False,
    ) -> Optional[State]:
        head: State = entry
        frame = LoopFrame()
        exit_state: Optional[State] = None
        body_out: Optional[State] = None
        for _ in range(6):
            frame.breaks, frame.continues = [], []
            cur = head.copy()
            into, out = before_body(cur)
            exit_state = out
            self.frames.append(frame)
            self.regions.append((id(node), "loop"))
            try:
                body_out = self.exec_block(self._body(node), into)
            finally:
                self.frames.pop()
                self.regions.pop()
            new_head = join_all([entry, body_out, *frame.continues])
            assert new_head is not None
            if new_head.same(head):
                break
            head = new_head
        if runs_once:
            # `for m in (A, B):` runs its body at least once: the loop is left after an
            # iteration, never straight from the entry (thespian's get_free_admin_port, hold-out 8).
            exit_state = join_all([body_out, *frame.continues])
        if node.orelse is not None:
            exit_state = self.exec_block(self._body(node.orelse), exit_state)
        return join_all([exit_state, *frame.breaks])

    def exec_while(self, node: cst.While, st: State) -> Optional[State]:
        infinite = _const_true(node.test)
        self._recv_loop_check(node, st)

        def before(cur: State) -> tuple[Optional[State], Optional[State]]:
            self.ev(node.test, cur)
            t, f = self.narrow(cur, node.test)
            return t, (None if infinite else f)

        return self._loop(node, st, before)

    def exec_for(self, node: cst.For, st: State) -> Optional[State]:
        it = self.ev(node.iter, st)
        if it.reach:
            # Iterating over a collection of sockets: we do not follow elements.
            self._dispose(st, it.reach, node, "escape")

        def before(cur: State) -> tuple[Optional[State], Optional[State]]:
            exit_state = cur.copy()
            body = cur
            for n in self._target_names(node.target):
                self._rebind(body, n, EMPTY, node)
            if node.asynchronous is not None:
                self.raise_point(body, node, frozenset(), _ANY)
            return body, exit_state

        return self._loop(node, st, before, runs_once=_nonempty_iterable(node.iter) or self._addrinfo_list(node.iter))

    def _addrinfo_list(self, node: cst.BaseExpression) -> bool:
        """``socket.getaddrinfo(...)``, directly or through a name bound only to it: it raises
        ``gaierror`` rather than return an empty list, so a loop over it runs at least once
        (offpunk's gopher client, hold-out corpus 15)."""
        if isinstance(node, cst.Name):
            value = self._single_value(node.value)
            if value is None:
                return False
            node = value
        if not isinstance(node, cst.Call):
            return False
        name = _name_of(node.func)
        return name is not None and self.ctx.imports.qualify(name) in ("socket.getaddrinfo", "_socket.getaddrinfo")

    def exec_try(self, node: Union[cst.Try, cst.TryStar], st: State) -> Optional[State]:
        fin: Optional[FinallyFrame] = FinallyFrame() if node.finalbody is not None else None
        if fin is not None:
            self.frames.append(fin)
        tf = TryFrame()
        self.frames.append(tf)
        catches_os = any(self._match(h, _OS) == "yes" for h in node.handlers)
        self.regions.append((id(node), "try-os" if catches_os else "try"))
        try:
            body_out = self.exec_block(self._body(node), st)
        finally:
            self.frames.pop()
            self.regions.pop()
        outs: list[Optional[State]] = []
        if node.orelse is not None:
            self.regions.append((id(node), "else"))
            try:
                outs.append(self.exec_block(self._body(node.orelse), body_out))
            finally:
                self.regions.pop()
        else:
            outs.append(body_out)
        remaining = list(tf.exc)
        for h in node.handlers:
            incoming: list[State] = []
            rest: list[tuple[State, str]] = []
            caught: list[str] = []
            for exc_state, cls in remaining:
                m = self._match(h, cls)
                if m != "no":
                    incoming.append(exc_state)
                    caught.append(cls)
                if m != "yes":
                    rest.append((exc_state, cls))
            remaining = rest
            if not incoming:
                continue
            hs = join_all(incoming)
            assert hs is not None
            self._unkey(hs, ("call", "raise", "assert"))
            self._step(hs, h, "caught by `except{code}`")
            if h.name is not None:
                for n in self._target_names(h.name.name):
                    self._rebind(hs, n, EMPTY, h)
            else:
                self._forget_exc_origin(hs)  # no name: its errno is never looked at
            self.handler_depth += 1
            self.caught_cls.append(caught[0] if len(set(caught)) == 1 else _ANY)
            self.regions.append((id(node), "except"))
            try:
                h_out = self.exec_block(self._body(h), hs)
                self._forget_exc_origin(h_out)
                outs.append(h_out)
            finally:
                self.handler_depth -= 1
                self.caught_cls.pop()
                self.regions.pop()
        for exc_state, cls in remaining:
            self.jump("raise", exc_state, cls)
        if fin is not None:
            self.frames.pop()
        normal = join_all(outs)
        if node.finalbody is None or fin is None:
            return normal
        self.regions.append((id(node), "finally"))
        try:
            return self._run_finally(node.finalbody, normal, fin)
        finally:
            self.regions.pop()

    def _run_finally(self, finalbody: cst.Finally, normal: Optional[State], fin: FinallyFrame) -> Optional[State]:
        groups: dict[tuple[str, str, int], tuple[str, str, Optional[LoopFrame], list[State]]] = {}
        for kind, s, cls, target in fin.pending:
            k = (kind, cls if kind == "raise" else "", id(target) if target is not None else 0)
            if k not in groups:
                groups[k] = (kind, cls, target, [])
            groups[k][3].append(s)
        result: Optional[State] = None
        if normal is not None:
            result = self.exec_block(self._body(finalbody), normal)
        for kind, cls, target, states in groups.values():
            joined = join_all(states)
            if joined is None:
                continue
            out = self.exec_block(self._body(finalbody), joined)
            if out is not None:
                self.jump(kind, out, cls, target)
        return result

    def _match(self, h: Union[cst.ExceptHandler, cst.ExceptStarHandler], cls: str) -> str:
        if h.type is None:
            return "yes"
        exprs: list[cst.BaseExpression] = []
        exprs = [e.value for e in h.type.elements] if isinstance(h.type, cst.Tuple) else [h.type]
        builtins_: list[type[BaseException]] = []
        names: list[str] = []
        unknown = False
        for e in exprs:
            n = _name_of(e)
            if not n:
                unknown = True
                continue
            q = self.ctx.imports.qualify(n)
            names.append(q)
            b = model.builtin_exception(q)
            if b is None:
                unknown = True
            else:
                builtins_.append(b)
        if any(b in (BaseException, Exception) for b in builtins_):
            return "yes"
        if cls == _OS:
            if any(issubclass(OSError, b) or issubclass(b, OSError) for b in builtins_):
                return "yes"
            return "yes" if unknown else "no"
        if cls == _OSCFG:
            if any(issubclass(OSError, b) for b in builtins_):
                return "yes"
            return "yes" if unknown else "no"
        if cls == _NONOS:
            if builtins_ and not unknown and all(issubclass(b, OSError) for b in builtins_):
                # `except OSError:` around exabgp's `md5(sock, ...)`, which turns every OSError
                # into MD5Error: this handler cannot see it (hold-out corpus 15).
                return "no"
            return "maybe"
        if cls in (_ANY, _OTHER):
            if builtins_ and not unknown and all(issubclass(b, ImportError) for b in builtins_):
                # `except ImportError:` is there for an `import` in the `try` (pg8000's `import
                # ssl`), not for what calls raise (evaluation hold-out corpus).
                return "no"
            if builtins_ and not unknown and all(not issubclass(b, Exception) for b in builtins_):
                # `except KeyboardInterrupt:` / `SystemExit` / `GeneratorExit`: not what a
                # call raises on its own.
                return "no"
            if cls == _OTHER and all(not issubclass(b, Exception) or issubclass(b, OSError) for b in builtins_):
                # `except socket.gaierror:` / `except OSError:` / `except ACCEPT_EXCEPTIONS:` (an
                # unknown name is taken for socket errors) around code that also calls `log()`
                # or `event.wait()`: a call that touches no socket is not taken to raise them. Like SKL106 (off by default), a handler only such a call could
                # reach is too weak a witness; the leak it would show stays an SKL106 exit.
                return "no"
            return "maybe"
        raised = model.builtin_exception(cls)
        if raised is not None:
            if any(issubclass(raised, b) for b in builtins_):
                return "yes"
            return "maybe" if unknown else "no"
        if cls in names:
            return "yes"
        return "maybe" if unknown else "no"

    def exec_with(self, node: cst.With, st: State) -> Optional[State]:
        expecting = any(
            isinstance(item.item, cst.Call) and (_name_of(item.item.func) or "").rsplit(".", 1)[-1] in model.EXPECT_RAISES
            for item in node.items
        )
        if expecting:
            self.expect_raise += 1
            try:
                return self._exec_with(node, st)
            finally:
                self.expect_raise -= 1
        return self._exec_with(node, st)

    def _exec_with(self, node: cst.With, st: State) -> Optional[State]:
        suppress_classes: list[str] = []
        for item in node.items:
            if isinstance(item.item, cst.Call):
                self.cm_calls.add(id(item.item))
            v = self.ev(item.item, st)
            managed = v.rids
            if isinstance(item.item, cst.Call):
                n = _name_of(item.item.func)
                if n and (self.ctx.imports.qualify(n) in model.SUPPRESS or n in model.SUPPRESS):
                    suppress_classes.extend(self._names_of_args(item.item))
                elif n and n.rsplit(".", 1)[-1] in model.EXPECT_RAISES:
                    # `with self.assertRaises(TypeError): proactor.connect(sock, None)`: the
                    # body is there to raise and the test goes on after the block. Another
                    # exception would fail the test, a path not worth a finding.
                    suppress_classes.append("BaseException")
            if managed:
                for rid in managed:
                    res = self.facts.resources.get(rid)
                    if res is not None and res.node is item.item:
                        res.managed = True
                self._dispose(st, managed, node, "close")
                self._event("close", "__exit__", node, managed, _name_of(item.item))
            if node.asynchronous is not None:
                self.raise_point(st, node, frozenset(), _ANY)
            if item.asname is not None:
                tgt = item.asname.name
                if isinstance(tgt, cst.Name):
                    st.env[tgt.value] = managed
                    if not managed:
                        self._rebind(st, tgt.value, EMPTY, node)
                    else:
                        for rid in managed:
                            res = self.facts.resources.get(rid)
                            if res is not None and res.name is None:
                                res.name = tgt.value
                else:
                    self._assign(st, tgt, Val(managed, managed), node)
        if suppress_classes:
            tf = TryFrame()
            self.frames.append(tf)
            self.regions.append((id(node), "suppress"))
            try:
                out = self.exec_block(self._body(node), st)
            finally:
                self.frames.pop()
                self.regions.pop()
            outs = [out]
            for exc_state, cls in tf.exc:
                if self._suppressed(cls, suppress_classes):
                    self._unkey(exc_state, ("call", "raise", "assert"))
                    outs.append(exc_state)
                else:
                    self.jump("raise", exc_state, cls)
            return join_all(outs)
        return self.exec_block(self._body(node), st)

    def _names_of_args(self, call: cst.Call) -> list[str]:
        out = []
        for a in call.args:
            n = _name_of(a.value)
            out.append(self.ctx.imports.qualify(n) if n else "?")
        return out

    def _suppressed(self, cls: str, names: list[str]) -> bool:
        for n in names:
            b = model.builtin_exception(n)
            if b in (BaseException, Exception):
                return True
            if cls == _OS and b is not None and (issubclass(OSError, b) or issubclass(b, OSError)):
                return True
            if cls == _OSCFG and b is not None and issubclass(OSError, b):
                return True
            if cls == n:
                return True
        return False

    def exec_match(self, node: cst.Match, st: State) -> Optional[State]:
        self.ev(node.subject, st)
        outs: list[Optional[State]] = []
        irrefutable = False
        for case in node.cases:
            cs = st.copy()
            if case.guard is not None:
                self.ev(case.guard, cs)
            pat = case.pattern
            if isinstance(pat, cst.MatchAs) and pat.pattern is None and case.guard is None:
                irrefutable = True
            for n in _walk(pat):
                if isinstance(n, cst.MatchAs) and n.name is not None:
                    self._rebind(cs, n.name.value, EMPTY, case)
            outs.append(self.exec_block(self._body(case), cs))
        if not irrefutable:
            outs.append(st)
        return join_all(outs)

    # ------------------------------------------------------------------ SKL105 facts
    _BUFFER_SINKS = frozenset({"append", "extend", "write", "join", "feed"})

    def _recv_loop_check(self, node: cst.While, st: State) -> None:
        """A ``while`` loop that reads a stream socket must look at what ``recv`` returned:
        ``b''`` (or 0 from ``recv_into``) is the peer's FIN, and nothing else will end it.
        Reported only when the result provably goes nowhere but a buffer: appended, added
        with ``+``/``+=``, or assigned to names never tested, returned or passed on."""
        parent: dict[int, cst.CSTNode] = {}
        recvs: list[cst.Call] = []
        stack: list[cst.CSTNode] = [node.body]
        while stack:
            n = stack.pop()
            self._tick()
            if isinstance(n, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
                return
            for c in n.children:
                parent[id(c)] = n
                stack.append(c)
            if (
                isinstance(n, cst.Call)
                and isinstance(n.func, cst.Attribute)
                and n.func.attr.value in ("recv", "recv_into")
                and n.args  # socket.recv(bufsize); multiprocessing's Connection.recv() takes none
                and not any(a.keyword is not None for a in n.args)  # socket.recv takes no keywords
                and not (isinstance(n.func.value, cst.Name) and n.func.value.value in ("self", "cls"))
                and not any(c is n for _, c in self.facts.recv_loops)  # nested loops: report once
            ):
                if self._all_dgram(self.ev_peek(n.func.value, st)):
                    continue  # an empty datagram is a valid datagram
                recvs.append(n)
        if not recvs or self._counted_loop(node):
            return
        tested: set[str] = set()
        used: set[str] = set()
        for t in _walk(node.test):
            if isinstance(t, cst.Name):
                tested.add(t.value)
            if isinstance(t, cst.Call) and isinstance(t.func, cst.Attribute) and t.func.attr.value in ("recv", "recv_into"):
                return  # `while data := s.recv(n):` / `while s.recv_into(buf):`
        for n in _walk(node.body):
            if isinstance(n, (cst.If, cst.While, cst.Assert, cst.IfExp)):
                for t in _walk(n.test):
                    if isinstance(t, cst.Name):
                        tested.add(t.value)
            elif isinstance(n, (cst.Return, cst.Yield, cst.Raise)):
                for t in _walk(n):
                    if isinstance(t, cst.Name):
                        used.add(t.value)
            elif isinstance(n, cst.Call):
                f = n.func
                if (
                    isinstance(f, cst.Attribute)
                    and f.attr.value in self._BUFFER_SINKS | {"recv", "recv_into"}
                    and not (isinstance(f.value, cst.Name) and f.value.value == "self")
                ):
                    continue
                for a in n.args:
                    for t in _walk(a.value):
                        if isinstance(t, cst.Name):
                            used.add(t.value)
        for call in recvs:
            if self._leaves_loop_after(call, parent):
                continue  # `x = s.recv(n); break`: the loop cannot spin on this read
            p = parent.get(id(call))
            # Climb through harmless wrappers: `chunk + s.recv(n)`, `(s.recv(n))`.
            while isinstance(p, (cst.BinaryOperation,)):
                p = parent.get(id(p))
            if isinstance(p, cst.Arg):
                outer = parent.get(id(p))
                if (
                    isinstance(outer, cst.Call)
                    and isinstance(outer.func, cst.Attribute)
                    and outer.func.attr.value in self._BUFFER_SINKS
                    # `self.feed(data)`: the object's own parser, which sees b'' as end of
                    # stream (geventhttpclient's response, hold-out corpus 2); a buffer is
                    # `self.buf.append(data)` or `parser.feed(data)`.
                    and not (isinstance(outer.func.value, cst.Name) and outer.func.value.value == "self")
                ):
                    self.facts.recv_loops.append((node, call))
                    return
                continue  # handed to a function that may check it
            if isinstance(p, cst.AugAssign):
                self.facts.recv_loops.append((node, call))
                return
            if isinstance(p, (cst.Assign, cst.AnnAssign)):
                targets = [t.target for t in p.targets] if isinstance(p, cst.Assign) else [p.target]
                names = [nm for t in targets for nm in self._target_names(t)]
                if names and not any(nm in tested or nm in used for nm in names):
                    self.facts.recv_loops.append((node, call))
                    return
            # Anything else (a test, a return, a comparison) looks at the data.

    @staticmethod
    def _counted_loop(node: cst.While) -> bool:
        """``while count:`` whose body always steps ``count`` by a constant (``count -= 1``):
        at most so many passes, whatever ``recv`` returns (pocsuite3's ``read_results``,
        hold-out corpus 14). ``remaining -= len(data)`` is no bound: it stalls on ``b''``."""
        names = {t.value for t in _walk(node.test) if isinstance(t, cst.Name)}
        body = node.body.body if isinstance(node.body, cst.IndentedBlock) else ()
        for stmt in body:
            if not isinstance(stmt, cst.SimpleStatementLine):
                continue
            for small in stmt.body:
                if (
                    isinstance(small, cst.AugAssign)
                    and isinstance(small.target, cst.Name)
                    and small.target.value in names
                    and isinstance(small.operator, (cst.AddAssign, cst.SubtractAssign))
                    and isinstance(small.value, cst.Integer)
                    and small.value.value not in ("0", "00")
                ):
                    return True
        return False

    @staticmethod
    def _leaves_loop_after(call: cst.CSTNode, parent: dict[int, cst.CSTNode]) -> bool:
        """The statement holding ``call`` is followed, in its block, by a plain break/return."""
        stmt: Optional[cst.CSTNode] = call
        while stmt is not None and not isinstance(stmt, cst.SimpleStatementLine):
            stmt = parent.get(id(stmt))
        block = parent.get(id(stmt)) if stmt is not None else None
        if stmt is None or not isinstance(block, cst.IndentedBlock):
            return False
        after = False
        for sibling in block.body:
            if sibling is stmt:
                after = True
                continue
            if after and isinstance(sibling, cst.SimpleStatementLine):
                if any(isinstance(small, (cst.Break, cst.Return, cst.Raise)) for small in sibling.body):
                    return True
        # `try: data = s.recv(n)` / `except OSError: retry` / `else: break`: a read that
        # returns, b'' included, leaves the loop (pyClamd's retry loop, hold-out corpus 9).
        holder = parent.get(id(block))
        if isinstance(holder, cst.Try) and holder.body is block and holder.orelse is not None:
            body = holder.orelse.body
            if isinstance(body, cst.IndentedBlock):
                for sibling in body.body:
                    if isinstance(sibling, cst.SimpleStatementLine) and any(
                        isinstance(small, (cst.Break, cst.Return, cst.Raise)) for small in sibling.body
                    ):
                        return True
        return False

    def ev_peek(self, e: cst.BaseExpression, st: State) -> frozenset[int]:
        if isinstance(e, cst.Name):
            return st.env.get(e.value, frozenset())
        return frozenset()
