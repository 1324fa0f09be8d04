"""Narrowing and path facts: what an ``if`` / ``while`` / ``assert`` test tells on each edge,
and which facts stay alive.

A path fact is a string key in an obligation's truthy / falsy / none sets: a name (``sock``),
a dotted name (``self.sock``), a comparison with a constant (``x==CONST``), a comparison of
two names or a string predicate (``eq:a:b``, ``eq:x:startswith('3')``), or the engine's own
``exc:config`` (the exception being handled came from a configuration call).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Optional, Union

import libcst as cst

from socklint.analysis.cstutil import atom_const, dotted, is_none
from socklint.analysis.facts import cst_name as _name_of
from socklint.analysis.interp_core import InterpreterCore
from socklint.analysis.lattice import (
    Facts,
    Obligation,
    State,
    Variant,
    merged,
    normal_variants,
    replace_state,
)


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
        if isinstance(node, (cst.Name, cst.Attribute)) and (name := dotted(node)) is not None:
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


def bool_ops(test: cst.BaseExpression) -> int:
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


_FAMILIES = {"AF_INET": "inet", "AF_INET6": "inet6", "AF_UNIX": "unix"}
# Path fact: the exception being handled was raised by a configuration call.
_EXC_CFG = "exc:config"


class NarrowingMixin(InterpreterCore):

    # ------------------------------------------------------------------ narrowing
    @property
    def _by_case(self) -> bool:
        return "constant-by-case" in self.guesses

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

    def _closed_test(self, test: cst.BaseExpression) -> Optional[str]:
        """The name ``test`` asks "closed?" about: ``x.is_closing()``, ``x._closed``."""
        if isinstance(test, cst.Call) and not test.args and isinstance(test.func, cst.Attribute):
            names, test = self.ctx.model.CLOSED_TEST_CALLS, test.func
        elif isinstance(test, cst.Attribute):
            names = self.ctx.model.CLOSED_TEST_ATTRIBUTES
        else:
            return None
        return _name_of(test.value) if test.attr.value in names else None

    def _drop_held(self, st: State, name: str, unless: frozenset[int] = frozenset()) -> None:
        """On this edge nothing ``name`` surely holds is open (it is closed, or the edge cannot
        be taken with it): drop those obligations, except for the sockets in ``unless``."""
        for k in [k for k, ob in st.obs.items() if name in ob.must and ob.rid not in unless]:
            del st.obs[k]

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
            value = self.bindings.single_value(node.value)
            return self._literal_tuple(value) if isinstance(value, (cst.Tuple, cst.List, cst.Set)) else None
        if isinstance(node, (cst.Tuple, cst.List, cst.Set)):
            out = [atom_const(e.value, self._by_case) for e in node.elements]
            return None if any(c is None for c in out) else out  # type: ignore[return-value]
        c = atom_const(node, self._by_case)
        return None if c is None else [c]

    def _member_of_constants(self, comp: cst.ComparisonTarget) -> Optional[tuple[list[str], bool]]:
        """``in (A, B)`` / ``== A`` (and their negations) against constants: the constants,
        and whether the true edge is the one where the value is among them."""
        if isinstance(comp.operator, (cst.In, cst.NotIn)):
            consts = self._literal_tuple(comp.comparator)
            positive = isinstance(comp.operator, cst.In)
        elif isinstance(comp.operator, (cst.Equal, cst.Is, cst.NotEqual, cst.IsNot)):
            c = atom_const(comp.comparator, self._by_case)
            consts = None if c is None else [c]
            positive = isinstance(comp.operator, (cst.Equal, cst.Is))
        else:
            return None
        return (consts, positive) if consts else None

    def _narrow_family(self, test: cst.Comparison, t: State, f: State) -> None:
        """``if sock.family in (AF_INET, AF_INET6):``: a socket created with a constant family
        (``socket.socket(AF_UNIX, ...)``) takes only the edge its family agrees with, so the
        path that needs the other family does not carry it."""
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
        edge where the errno is one of those."""
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
        if member is None or not all(c.rsplit(".", 1)[-1] in self.ctx.model.IO_ONLY_ERRNOS for c in member[0]):
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
            # predicate on an unchanged name gives the same answer twice. Rebinding
            # the name forgets it, like `eq:a:b`.
            self._edge_eq(t, key, True)
            self._edge_eq(f, key, False)
        elif (closed_owner := self._closed_test(test)) is not None:
            # `if not writer.is_closing(): writer.close()`: where the object says it is closed
            # or closing, its close() has run (model rows `closed-tests`).
            self._drop_held(t, closed_owner)
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
            and isinstance(test.left, cst.Attribute)
            and is_none(test.comparisons[0].comparator)
            and isinstance(test.comparisons[0].operator, (cst.Is, cst.Equal, cst.IsNot, cst.NotEqual))
            and (held := _name_of(test.left)) is not None
            and bool(t.env.get(held))
        ):
            # `if self.sock is not None: self.sock.close()` where `self.sock` is followed as a
            # name of a socket (in `__init__`, or in use in this method): narrowed like a name.
            key = f"{held}==None"
            is_none_edge, not_none_edge = (t, f) if isinstance(test.comparisons[0].operator, (cst.Is, cst.Equal)) else (f, t)
            self._edge(is_none_edge, held, "none")
            self._edge(not_none_edge, held, "notnone")
            self._edge_atom(is_none_edge, key, True)
            self._edge_atom(not_none_edge, key, False)
        elif (
            isinstance(test, cst.Comparison)
            and len(test.comparisons) == 1
            and isinstance(test.left, (cst.Name, cst.Attribute))
            and isinstance(test.comparisons[0].operator, (cst.Equal, cst.Is, cst.NotEqual, cst.IsNot))
            and (const := atom_const(test.comparisons[0].comparator, self._by_case)) is not None
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
            # where it is "in" one, it is not an open obligation.
            inside = t if isinstance(test.comparisons[0].operator, cst.In) else f
            name = test.left.value
            self._drop_held(inside, name)
        elif (
            isinstance(test, cst.Comparison)
            and len(test.comparisons) == 1
            and isinstance(test.comparisons[0].operator, (cst.Is, cst.IsNot))
            and (left := _name_of(test.left)) is not None
            and not is_none(test.comparisons[0].comparator)
            and (right := _name_of(test.comparisons[0].comparator)) is not None
        ):
            # `if candidate is not self._socket: candidate.close()`: a socket this function made
            # reaches an attribute only through a store it followed or a hand-off that ended
            # its obligation, so on the edge where the two are the same object an open socket
            # held by the local name and never stored in the attribute cannot be there. (Not
            # between two local names: `for s in select(...)[0]: if s is server:` gets the
            # same object back from a call that only borrowed it.)
            same = t if isinstance(test.comparisons[0].operator, cst.Is) else f
            if "." not in left and "." in right:
                self._drop_held(same, left, unless=same.env.get(right, frozenset()))
            elif "." in left and "." not in right:
                self._drop_held(same, right, unless=same.env.get(left, frozenset()))
        elif isinstance(test, cst.Comparison) and len(test.comparisons) == 1 and isinstance(test.left, cst.Name):
            comp = test.comparisons[0]
            if is_none(comp.comparator):
                # `x is None` is a fact of its own too (`x==None`), so that `x is not None`
                # known on a path contradicts a later `x is None`.
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
        elif isinstance(test, cst.BooleanOperation):
            self._narrow_bool(test, t, f)


    def _narrow_bool(self, test: cst.BooleanOperation, t: State, f: State) -> None:
        if bool_ops(test) > 4:
            # A long chain: narrowing each split would cost 3^n; keep the sure edge only.
            if isinstance(test.operator, cst.And):
                self._narrow_into(test.left, t, State())
                self._narrow_into(test.right, t, State())
            else:
                self._narrow_into(test.left, State(), f)
                self._narrow_into(test.right, State(), f)
        else:
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
                replace_state(f, merged(f, other))
            else:
                other = t.copy()
                self._narrow_into(test.left, t, State())
                self._narrow_into(test.left, State(), other)
                self._narrow_into(test.right, other, State())
                replace_state(t, merged(t, other))
                self._narrow_into(test.left, State(), f)
                self._narrow_into(test.right, State(), f)

    def _use_table(self) -> tuple[dict[str, int], dict[int, int]]:
        if self._uses is None:
            self._uses = _use_positions(self.body)
        return self._uses

    def _dead_after(self, key: str, pos: int) -> bool:
        """No name the fact ``key`` is about occurs after position ``pos``."""
        bases = _fact_bases(key)
        last = self._use_table()[0]
        return bases is not None and all(last.get(b, 0) <= pos for b in bases)

    def _has_facts(self, st: State) -> bool:
        return any(ob.alts or ob.truthy or ob.falsy or ob.nones for ob in st.obs.values())

    def _forget_dead(self, st: Optional[State], node: cst.If) -> None:
        """Drop the path facts about names this function never mentions after ``node``: no
        later test can consult them, and keeping them apart only multiplies an obligation's
        variants until MAX_VARIANTS intersects away the facts a later test does need."""
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
            ob.set_variants(normal_variants(vs) if len(vs) > 1 else vs)

    def _set_fact(self, st: State, name: str, kind: Optional[str], rebinding: bool = True) -> None:
        """``name`` now holds a value known to be None / falsy / truthy (or unknown)."""
        if kind is not None and self.narrow_end is not None and self._dead_after(name, self.narrow_end):
            kind = None  # only this test mentions it: the fact could never be consulted
        one = frozenset({name})
        holders: list[Union[State, Obligation]] = [st, *st.obs.values()]
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
            if isinstance(holder, Obligation) and holder.alts:
                holder.alts = tuple((*update(t, f, n), w) for t, f, n, w in holder.alts)
                # Forgetting a fact can make two variants the same.
                holder.set_variants(normal_variants(holder.variants()))

    def _assign_atom(self, st: State, target: cst.BaseExpression, value: cst.BaseExpression) -> None:
        """`fid = PIPE_FILE_DESCRIPTOR`: from here on, `fid == PIPE_FILE_DESCRIPTOR` holds."""
        if isinstance(target, (cst.Name, cst.Attribute)) and (const := atom_const(value, self._by_case)) is not None:
            name = _name_of(target)
            if name is not None and not self.module_level and name not in self.global_names:
                self.atoms_used = True
                self._set_fact(st, f"{name}=={const}", "truthy")

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
