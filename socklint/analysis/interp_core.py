"""The interpreter's core: its bookkeeping (resources, exits, events, leaks, the step budget)
and how jumps (return, raise, break, continue, a call that raises) travel through the frames.

The transfer functions live in mixins over this class (``statements``, ``calls``, ``assign``,
``narrowing``, ``recv_loops``); ``flow.FunctionAnalyzer`` puts them together. Methods one part
calls on another are declared here, so each part type-checks on its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Optional, Union

import libcst as cst

from socklint.analysis.context import ModuleContext
from socklint.analysis.cstutil import FunctionBindings, raise_note
from socklint.analysis.facts import (
    FAIL_CANCEL,
    FAIL_CONFIG,
    FAIL_NONE,
    FAIL_PROTOCOL,
    OWNING_METHODS,
    Event,
    FunctionFacts,
    Leak,
    Step,
)
from socklint.analysis.frames import (
    EXC_ANY,
    EXC_CANCEL,
    EXC_OSCFG,
    EXC_OTHER,
    Exit,
    FinallyFrame,
    Frame,
    LoopFrame,
    TryFrame,
    failure_of_class,
)
from socklint.analysis.lattice import BudgetExceeded, Key, Obligation, State, Val
from socklint.analysis.raises import RaiseOracle
from socklint.heuristics import enabled_ids


@dataclass
class Assignment:
    """The assignment being interpreted: the names it binds, and the call whose result it binds
    (`sock = adapter.wrap(sock)`), with the sockets that call took over by rebinding their name
    (set by ``ev_call``, read by ``ev`` for an awaited call)."""

    targets: frozenset[str] = frozenset()
    call: Optional[cst.Call] = None
    moved: frozenset[int] = frozenset()


NO_ASSIGNMENT = Assignment()

# Methods whose caller gets the object only if they return: a socket stored on `self` before
# one of them raises is out of everybody's reach (`with` never calls `__exit__` when
# `__enter__` raised).


def factory_names(func: object, cur_class: Optional[str]) -> frozenset[str]:
    if cur_class is None or not isinstance(func, cst.FunctionDef):
        return frozenset()
    kinds = {d.decorator.value for d in func.decorators if isinstance(d.decorator, cst.Name)}
    if "classmethod" in kinds:
        params = [*func.params.posonly_params, *func.params.params]
        return frozenset({cur_class} | ({params[0].name.value} if params else set()))
    if "staticmethod" in kinds:
        return frozenset({cur_class})
    return frozenset()


def self_param(func: object, cur_class: Optional[str]) -> Optional[str]:
    """The name of ``self`` when ``func`` is a plain method of a class (not a static or class
    method)."""
    if cur_class is None or not isinstance(func, cst.FunctionDef):
        return None
    for d in func.decorators:
        if isinstance(d.decorator, cst.Name) and d.decorator.value in ("staticmethod", "classmethod"):
            return None
    params = [*func.params.posonly_params, *func.params.params]
    return params[0].name.value if params else None


def owner_self_name(func: object, cur_class: Optional[str]) -> Optional[str]:
    """The name of ``self`` when ``func`` is an owning method of a class (see OWNING_METHODS)."""
    if not isinstance(func, cst.FunctionDef) or func.name.value not in OWNING_METHODS:
        return None
    return self_param(func, cur_class)


def _path_failure(kind: str, failure: Optional[str], witness: Optional[Step]) -> str:
    """What the path ``witness`` to an exit of ``kind`` needs to fail: the exit's own failure
    (a raising call; a `raise` of the code outside a handler), else the failure being handled
    or unwound on the path (a handler's `return`, a re-raise), else a `raise` of the code
    (FAIL_PROTOCOL) or nothing (FAIL_NONE: the socket leaks on a path with no exception)."""
    if failure is not None:
        return failure
    last = witness.last if witness is not None else None
    if last is not None:
        return last
    return FAIL_PROTOCOL if kind == "raise" else FAIL_NONE


class InterpreterCore:
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
        self.leak_keys: set[tuple[int, str, int, bool]] = set()
        # Free names of the nested functions and classes defined so far: binding one later
        # hands the value to the closure (`def on_connect(r, w): server.close()` before
        # `server = await asyncio.start_server(on_connect, ...)`).
        self.closure_names: set[str] = set()
        self.order = 0
        self.handler_depth = 0
        self.guards: list[cst.BaseExpression] = []
        self.regions: list[tuple[int, str]] = []  # see Event.regions
        self.assignment = NO_ASSIGNMENT
        # Nodes the SKL105 rule reads per `while` body, counted once per loop (recv_loops.py).
        self._loop_costs: dict[int, int] = {}
        self.atoms_used = False  # some `name==CONST` path fact exists (see _edge_atom)
        self.pair_partner: dict[int, int] = {}  # the other end of a socketpair()
        self.bindings = FunctionBindings(func)
        # The named heuristics that apply (socklint/heuristics.py): a guess asks before it matches.
        self.guesses = enabled_ids(ctx.settings)
        self.raises = RaiseOracle(ctx, self.bindings)
        # Where names are last used and `if` statements end (_use_positions), walked once and
        # only when an `if` leaves path facts behind (_forget_dead).
        self._uses: Optional[tuple[dict[str, int], dict[int, int]]] = None
        # While an `if` test narrows: where the test ends. A name mentioned nowhere after it
        # gets no path fact, since no later test can consult one (_set_fact).
        self.narrow_end: Optional[int] = None
        self.exc_facts = False  # some path records that a configuration call raised (_EXC_CFG)
        self.stmt_node: Optional[cst.CSTNode] = None
        self.caught_cls: list[str] = []
        self.expect_raise = 0
        # Inside `with trio.CancelScope(shield=True):` (a `shields` context manager): no
        # cancellation from outside arrives at the awaits of the body.
        self.shielded = 0
        # `with self.assertRaises(E):` items: building the context manager fails nothing.
        self.cm_calls: set[int] = set()
        self.callable_params: frozenset[str] = frozenset(outer_params)
        self.cur_class = cur_class
        # In `__init__` / `__enter__` / `__aenter__`: the name of `self`. A socket stored on it
        # stays this method's to close until the method returns (SKL111); elsewhere a store on
        # an attribute hands the socket to the object.
        self.owner_self = owner_self_name(func, cur_class)
        self.facts.owner_method = func.name.value if self.owner_self is not None and isinstance(func, cst.FunctionDef) else None
        # In a classmethod or staticmethod of a class: the names that build an instance of it
        # (`cls`, the class's own name), for factories that build one and then fail (SKL111).
        self.factory_names = factory_names(func, cur_class)
        self.self_name = self_param(func, cur_class)

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

    def _exit(
        self, kind: str, node: cst.CSTNode, touched: frozenset[int] = frozenset(), cls: str = EXC_ANY, failure: Optional[str] = None
    ) -> int:
        self.exits.append(Exit(kind, node, touched, cls, failure))
        return len(self.exits) - 1

    def _rekey(self, st: State, ei: int, only_normal: bool = True) -> None:
        """Attach every obligation on the normal path to jump ``ei``."""
        new: dict[Key, Obligation] = {}
        for (rid, cur), ob in st.obs.items():
            key: Key = (rid, ei) if cur is None or not only_normal else (rid, cur)
            if key in new:
                new[key].join(ob)
            else:
                new[key] = ob
        st.obs = new

    def _unkey(self, st: State, kinds: tuple[str, ...]) -> None:
        """Bring obligations riding on jumps of ``kinds`` back to the normal path."""
        new: dict[Key, Obligation] = {}
        for (rid, cur), ob in st.obs.items():
            key: Key = (rid, None) if cur is not None and self.exits[cur].kind in kinds else (rid, cur)
            if key in new:
                new[key].join(ob)
            else:
                new[key] = ob
        st.obs = new

    def _used_after_continue(self, st: State, rids: frozenset[int]) -> None:
        """A socket carried over a ``continue`` and used again in the next iteration
        (``if sock is None: sock = connect()`` ... ``sock.sendall(line)``) was not lost at the
        ``continue``: it is back on the normal path, and a later ``sock = None`` is where it
        is lost."""
        carried = [k for k in st.obs if k[0] in rids and k[1] is not None and self.exits[k[1]].kind == "continue"]
        for rid, ei in carried:
            ob = st.obs.pop((rid, ei))
            if (rid, None) in st.obs:
                st.obs[(rid, None)].join(ob)
            else:
                st.obs[(rid, None)] = ob

    def _step(self, st: State, node: cst.CSTNode, note: str, failure: Optional[str] = None) -> None:
        for ob in st.obs.values():
            ob.witness = Step(node, note, ob.witness, failure)
            if ob.alts:
                ob.alts = tuple((t, f, n, Step(node, note, w, failure)) for t, f, n, w in ob.alts)

    def _record_leak(
        self, rid: int, ei: Optional[int], ob: Obligation, kind: str, node: cst.CSTNode, touching: bool = True,
        failure: Optional[str] = None, held_by: Optional[str] = None
    ) -> None:
        res = self.facts.resources.get(rid)
        if res is None or not res.reportable:
            return
        if res.origin == "attribute" and kind not in ("rebind", "delete"):
            return  # the object still holds it: only losing the attribute loses the socket
        if held_by is None:
            held_by = self._held_by(ob)
        # A cancellation at an `await` is kept apart from an ordinary failure there: the rule
        # reports it only where no ordinary failure leaks the socket (SKL108).
        k = (rid, kind, id(node), failure == FAIL_CANCEL)
        if k in self.leak_keys:
            return
        self.leak_keys.add(k)
        # The realistic witness: of the paths kept apart on the obligation, the first whose
        # failure is not only a configuration call (a `connect()` refused beats a
        # `setsockopt()` that needs EBADF or ENOMEM).
        witness, why = ob.witness, _path_failure(kind, failure, ob.witness)
        if why == FAIL_CONFIG:
            for _, _, _, w in ob.alts:
                other = _path_failure(kind, failure, w)
                if other != FAIL_CONFIG:
                    witness, why = w, other
                    break
        self.facts.leaks.append(Leak(rid, kind, node, witness, touching, why, held_by))

    def _held_by(self, ob: Obligation) -> Optional[str]:
        """The attribute of ``self`` that may hold the socket, in an owning method."""
        if self.owner_self is None:
            return None
        prefix = self.owner_self + "."
        held = sorted(n for n in ob.may if n.startswith(prefix))
        return held[0] if held else None

    def _at_function_exit(self, st: State) -> None:
        for (rid, ei), ob in st.obs.items():
            if ei is None:
                continue
            ex = self.exits[ei]
            if ex.kind == "assert":
                continue
            if ex.kind in ("return", "end") and self._held_by(ob) is not None:
                # `__init__` returned: the object, and the socket on it, are the caller's.
                continue
            touching = rid in ex.touched if ex.kind == "call" else True
            self._record_leak(rid, ei, ob, ex.kind, ex.node, touching, ex.failure)

    def _event(self, kind: str, method: str, node: cst.CSTNode, rids: frozenset[int], receiver: Optional[str]) -> None:
        k = (kind, id(node))
        if k in self.event_keys:
            return
        self.event_keys.add(k)
        # An attribute followed for SKL104 (`self.sock` in use) is not a socket of this
        # function: its events keep relating by receiver text, as before it was followed.
        rids = frozenset(r for r in rids if r not in self.facts.resources or self.facts.resources[r].origin != "attribute")
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
    def jump(self, kind: str, st: State, cls: str = EXC_ANY, target: Optional[LoopFrame] = None, start: Optional[int] = None) -> None:
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

    def raise_point(self, st: State, node: cst.CSTNode, touched: frozenset[int], cls: str, failure: Optional[str] = None) -> None:
        """The call ``node`` may raise here, with the state as it is now. ``failure`` says when
        it fails (facts.FAIL_*) if its exception class does not (a socket method's row)."""
        if cls == EXC_ANY and not self._real_sockets(touched):
            cls = EXC_OTHER
        if cls == EXC_CANCEL and self.shielded:
            return
        failure = failure or failure_of_class(cls)
        if cls != EXC_CANCEL and isinstance(node, cst.Call):
            self.facts.raising_calls.add(id(node))
        if not st.obs and not any(isinstance(f, (TryFrame, FinallyFrame)) for f in self.frames):
            return
        if not any(isinstance(f, (TryFrame, FinallyFrame)) for f in self.frames):
            # Fast path: nothing can intercept, so the exception leaves the function.
            note = raise_note(node)
            for (rid, cur), ob in st.obs.items():
                if cur is not None and self.exits[cur].kind != "continue":
                    continue
                w = Step(node, note, ob.witness, failure)
                self._record_leak(rid, None, Obligation(rid, ob.must, ob.may, w), "call", node, rid in touched, failure)
            return
        exc = st.copy()
        ei = self._exit("call", node, touched, cls, failure)
        note = raise_note(node)
        self._step(exc, node, note, failure)
        self._exc_origin(exc, cls == EXC_OSCFG)
        self._rekey(exc, ei)
        self.jump("raise", exc, cls)

    def _innermost_loop(self) -> Optional[LoopFrame]:
        for f in reversed(self.frames):
            if isinstance(f, LoopFrame):
                return f
        return None

    def _body(self, node: cst.CSTNode) -> Sequence[cst.CSTNode]:
        b = getattr(node, "body", None)
        if isinstance(b, (cst.IndentedBlock, cst.SimpleStatementSuite)):
            return b.body
        if isinstance(b, Sequence):
            return b
        return ()

    def _is_self_name(self, name: str) -> bool:
        """``name`` is the method's ``self``: the first parameter of a plain method of a class."""
        return self.self_name is not None and name == self.self_name

    def ev_peek(self, e: cst.BaseExpression, st: State) -> frozenset[int]:
        if isinstance(e, cst.Name):
            return st.env.get(e.value, frozenset())
        return frozenset()

    def _all_dgram(self, rids: frozenset[int]) -> bool:
        """Every tracked socket among ``rids`` is a datagram socket (and there is one)."""
        res = [self.facts.resources[r] for r in rids if r in self.facts.resources]
        return bool(res) and all(r.sock_type == "dgram" for r in res)

    # ------------------------------------------------------------------ provided by the mixins
    def ev(self, e: cst.BaseExpression, st: State) -> Val:
        raise NotImplementedError

    def exec_block(self, stmts: Sequence[cst.CSTNode], st: Optional[State]) -> Optional[State]:
        raise NotImplementedError

    def _awaited_value(self, st: State, v: Val) -> Val:
        raise NotImplementedError

    def _real_sockets(self, rids: frozenset[int]) -> frozenset[int]:
        raise NotImplementedError

    def _exc_origin(self, exc: State, config: bool) -> None:
        raise NotImplementedError

    def _capture(self, st: State, node: cst.CSTNode, scope: cst.CSTNode) -> None:
        raise NotImplementedError

    def _rebind(self, st: State, name: str, val: Val, node: cst.CSTNode, deleted: bool = False) -> None:
        raise NotImplementedError

    def _assign(self, st: State, target: cst.BaseExpression, val: Val, stmt: cst.CSTNode) -> None:
        raise NotImplementedError

    def _assign_atom(self, st: State, target: cst.BaseExpression, value: cst.BaseExpression) -> None:
        raise NotImplementedError

    def _create(self, st: State, node: cst.CSTNode, origin: str, callee: str, args: Optional[cst.Call] = None) -> int:
        raise NotImplementedError

    def _hold_on_self(self, st: State, dotted: str, real: frozenset[int], val: Val, stmt: cst.CSTNode) -> None:
        raise NotImplementedError

    def _finalizer_closes(self, attr: str) -> bool:
        raise NotImplementedError

    def narrow(self, st: State, test: cst.BaseExpression) -> tuple[Optional[State], Optional[State]]:
        raise NotImplementedError

    def _set_fact(self, st: State, name: str, kind: Optional[str], rebinding: bool = True) -> None:
        raise NotImplementedError

    def _forget_exc_origin(self, st: Optional[State]) -> None:
        raise NotImplementedError

    def _forget_dead(self, st: Optional[State], node: cst.If) -> None:
        raise NotImplementedError

    def _use_table(self) -> tuple[dict[str, int], dict[int, int]]:
        raise NotImplementedError

    def _has_facts(self, st: State) -> bool:
        raise NotImplementedError

    def _recv_loop_check(self, node: cst.While, st: State) -> None:
        raise NotImplementedError
