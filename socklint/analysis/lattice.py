"""The abstract state of the flow analysis: obligations (open, owned sockets) with their
path facts and witnesses, the state at a program point, abstract values, and joins."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from socklint.analysis.model import TupleFactory

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Callable, Optional

import libcst as cst

from socklint.analysis.facts import Step

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


def normal_variants(vs: list[Variant]) -> list[Variant]:
    """Drop variants that repeat or are more specific than another; past MAX_VARIANTS,
    intersect the two that differ least, until few enough are left (the witness of the
    earlier one stays). Merging the closest pair loses the fewest facts: with a protocol
    flag, a mode flag and a read loop's `data` facts, the read loop's variants fold together
    while the two flags stay apart."""
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


def _config_only(v: Variant) -> bool:
    return v[3] is not None and v[3].needs_configuration_failure()


def _add_variant(out: list[Variant], v: Variant) -> None:
    """Add ``v`` unless a variant with fewer facts is there; drop those it has fewer facts than.
    A path that needs only a configuration call to fail does not push out one that does not
    (that one is the realistic witness, rules/lifecycle.py), nor keep it out."""
    f = (v[0], v[1], v[2])
    if any(_subsumes((o[0], o[1], o[2]), f) and (_config_only(v) or not _config_only(o)) for o in out):
        return
    out[:] = [o for o in out if not (_subsumes(f, (o[0], o[1], o[2])) and (_config_only(o) or not _config_only(v)))]
    out.append(v)


class Obligation:
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

    def copy(self) -> Obligation:
        return Obligation(self.rid, self.must, self.may, self.witness, self.truthy, self.falsy, self.nones, self.alts)

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

    def join(self, o: Obligation) -> None:
        """Merge another path's view of the same obligation into this one."""
        self.must &= o.must
        self.may |= o.may
        if not self.alts and not o.alts and (self.truthy, self.falsy, self.nones) == (o.truthy, o.falsy, o.nones):
            if self.witness is not None and self.witness.needs_configuration_failure() and o.witness is not None and not o.witness.needs_configuration_failure():
                self.witness = o.witness  # the same facts: the path that fails in normal operation
            return
        self.set_variants(normal_variants(self.variants() + o.variants()))

    def facts_key(self) -> list[Facts]:
        return [(v[0], v[1], v[2]) for v in self.variants()]

    def same(self, o: Obligation) -> bool:
        return (self.must, self.may) == (o.must, o.may) and self.facts_key() == o.facts_key()


class State:
    __slots__ = ("derived", "env", "fake_net", "falsy", "nones", "obs", "readers", "socket_patched", "truthy")

    def __init__(self) -> None:
        self.obs: dict[Key, Obligation] = {}
        self.env: dict[str, frozenset[int]] = {}
        # Names bound to values that reach a socket without being it (a coroutine or wrapper
        # made from it): handing such a name off hands the socket off.
        self.derived: dict[str, frozenset[int]] = {}
        # Names that may hold a reader made from a socket (``f = sock.makefile("rb")``): its
        # reads return b"" at end of stream like ``recv()`` (for SKL105's loop entries).
        self.readers: frozenset[str] = frozenset()
        self.truthy: frozenset[str] = frozenset()
        self.falsy: frozenset[str] = frozenset()
        self.nones: frozenset[str] = frozenset()
        # Test doubles switched on along some path here: a custom socket factory installed
        # (model.FAKE_FACTORY_INSTALLERS), or the socket module patched
        # (model.SOCKET_MODULE_PATCHERS), so its factories make fakes.
        self.fake_net = False
        self.socket_patched = False

    def copy(self) -> State:
        out = State()
        out.obs = {k: o.copy() for k, o in self.obs.items()}
        out.env = dict(self.env)
        out.derived = dict(self.derived)
        out.readers = self.readers
        out.truthy, out.falsy, out.nones = self.truthy, self.falsy, self.nones
        out.fake_net, out.socket_patched = self.fake_net, self.socket_patched
        return out

    def same(self, other: State) -> bool:
        if self.obs.keys() != other.obs.keys() or self.env != other.env or self.derived != other.derived:
            return False
        if self.readers != other.readers:
            return False
        if (self.truthy, self.falsy, self.nones) != (other.truthy, other.falsy, other.nones):
            return False
        if (self.fake_net, self.socket_patched) != (other.fake_net, other.socket_patched):
            return False
        return all(o.same(other.obs[k]) for k, o in self.obs.items())


def _merge_into(out: State, b: State) -> None:
    """Join ``b`` into ``out`` in place (``out`` must be a private copy)."""
    for k, o in b.obs.items():
        mine = out.obs.get(k)
        if mine is None:
            out.obs[k] = o.copy()
        else:
            mine.join(o)
    for name, rids in b.env.items():
        cur = out.env.get(name)
        out.env[name] = rids if cur is None else cur | rids
    for name, rids in b.derived.items():
        cur = out.derived.get(name)
        out.derived[name] = rids if cur is None else cur | rids
    out.readers |= b.readers
    out.truthy &= b.truthy
    out.falsy &= b.falsy
    out.nones &= b.nones
    out.fake_net |= b.fake_net
    out.socket_patched |= b.socket_patched


def join(a: Optional[State], b: Optional[State]) -> Optional[State]:
    if a is None:
        return b.copy() if b is not None else None
    if b is None:
        return a.copy()
    out = a.copy()
    _merge_into(out, b)
    return out


def merged(a: State, b: State) -> State:
    out = a.copy()
    _merge_into(out, b)
    return out


def replace_state(dst: State, src: State) -> None:
    """Make ``dst`` (a state narrowed in place by the caller) equal to ``src``."""
    dst.obs, dst.env, dst.derived, dst.readers = src.obs, src.env, src.derived, src.readers
    dst.truthy, dst.falsy, dst.nones = src.truthy, src.falsy, src.nones
    dst.fake_net, dst.socket_patched = src.fake_net, src.socket_patched


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
    # `asyncio.open_connection(...)`, `loop.sock_accept(s)`: a pair holding a new resource, made
    # when the awaited pair is unpacked or indexed (model.TupleFactory); the flag says the
    # coroutine was awaited (unpacking the coroutine itself makes nothing).
    tuple_source: Optional[tuple[cst.Call, TupleFactory, bool]] = None
    const: Optional[str] = None  # "none" | "falsy" | "truthy" for literal constants
    reader: bool = False  # a reader made from the socket (`sock.makefile("rb")`)

    @staticmethod
    def of(rids: frozenset[int]) -> Val:
        return Val(rids, rids)


EMPTY = Val()


def same_facts(a: State, b: State) -> bool:
    """Both states know the same path facts, overall and for every obligation they share."""
    if (a.truthy, a.falsy, a.nones) != (b.truthy, b.falsy, b.nones):
        return False
    for k, ob in a.obs.items():
        other = b.obs.get(k)
        if other is not None and ob.facts_key() != other.facts_key():
            return False
    return True
