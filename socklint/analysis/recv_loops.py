"""Loop entries for the SKL105 rule (``rules/recv_loops.py``): each ``while`` the interpreter
enters, with the sockets each name may hold there and the names holding a reader made from a
socket (``makefile()``)."""

from __future__ import annotations

import libcst as cst

from socklint.analysis.facts import LoopEntry
from socklint.analysis.interp_core import InterpreterCore
from socklint.analysis.lattice import State


class RecvLoopMixin(InterpreterCore):
    def _recv_loop_check(self, node: cst.While, st: State) -> None:
        # The rule reads the loop's body once per entry: charge the step budget for it here,
        # so a function's budget still bounds the whole analysis.
        cost = self._loop_costs.get(id(node))
        if cost is None:
            cost = self._loop_costs[id(node)] = _loop_cost(node)
        self._tick(cost)
        self.facts.loop_entries.append(LoopEntry(node, dict(st.env), st.readers))


def _loop_cost(node: cst.While) -> int:
    """How many nodes the rule visits in the loop's body (it stops at a nested scope)."""
    n = 0
    stack: list[cst.CSTNode] = [node.body]
    while stack:
        x = stack.pop()
        n += 1
        if isinstance(x, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
            return n
        stack.extend(x.children)
    return n
