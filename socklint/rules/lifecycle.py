"""SKL1xx: a socket's descriptor outlives every reference to it."""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from socklint.analysis.facts import FAIL_CONFIG, Finding, Leak, Resource
from socklint.rules.base import RuleContext

MAX_TRACE = 24


def _trace(ctx: RuleContext, res: Resource, leak: Leak, final_note: str) -> tuple[tuple[cst.CSTNode, str], ...]:
    steps = leak.witness.to_list(MAX_TRACE) if leak.witness is not None else []
    out: list[tuple[cst.CSTNode, str]] = []
    for node, note in steps:
        if note == "created":
            note = f"{ctx.describe(res)} created by `{res.callee}`"
            if res.defined_at is not None:
                # A helper or socket class of another module of the project.
                note += f", which returns a new socket ({res.defined_at})"
        out.append((node, note))
    if leak.kind != "call":  # a raising call is already the witness's last step
        out.append((leak.node, final_note))
    return tuple(out)


_EXIT_WORD = {"return": "`return`", "raise": "`raise`"}


def check_leaks(ctx: RuleContext) -> Iterator[Finding]:
    """Leak findings, one per exit and name: the same name created in several branches
    (`if tls: sock = wrap(...)` / `else: sock = socket.socket()`) is one socket at run time, so
    its findings at one exit merge into one that lists every creation line (Pyro5's four
    `sock = ...` branches gave four identical findings on one line, hold-out corpus)."""
    merged: dict[tuple[str, int, str], Finding] = {}
    for f in _leak_findings(ctx):
        if _CREATED not in f.message:
            yield f
            continue
        node = f.node
        if isinstance(node, cst.SimpleStatementLine) and node.body:
            node = node.body[0]  # a rebinding is recorded on the line or on its statement
        key = (f.code, id(node), f.message)
        first = merged.get(key)
        if first is None:
            merged[key] = f
        elif not any(r is f.refs[0] for r in first.refs):
            first.refs = first.refs + f.refs
    for f in merged.values():
        if len(f.refs) > 1:
            lines = ", ".join(f"{{{i}}}" for i in range(len(f.refs) - 1)) + f" or {{{len(f.refs) - 1}}}"
            f.message = f.message.replace(_CREATED, f"(created at line {lines})")
            f.sort_refs = True
        yield f


_CREATED = "(created at line {0})"


def _leak_findings(ctx: RuleContext) -> Iterator[Finding]:
    facts = ctx.facts
    by_rid: dict[int, list[Leak]] = {}
    for leak in facts.leaks:
        by_rid.setdefault(leak.rid, []).append(leak)
    for rid, leaks in by_rid.items():
        res = facts.resources[rid]
        if not res.reportable:
            continue
        who = ctx.describe(res)
        if rid not in facts.disposed and res.lent is not None:
            # Never closed here on any path, yet passed to a call we cannot see
            # (`self._close_on_teardown(sock)`, `register(conn)`): this function does not act
            # as the owner, so the call most likely became it. Borrowing stays the default for
            # sockets the function closes on some path (docs/design/analysis.md).
            continue
        if rid not in facts.disposed and any(l.kind != "call" or l.touching for l in leaks):
            # Never closed, never handed off, on any path: one finding at the creation.
            # Prefer the normal path as the witness: it shows the socket simply never closed.
            order = {"end": 0, "return": 1, "drop": 2, "rebind": 3, "delete": 3, "continue": 4, "raise": 5, "call": 6}
            first = min((l for l in leaks if l.kind != "call" or l.touching), key=lambda l: order.get(l.kind, 9))
            yield Finding(
                "SKL103",
                res.node,
                f"{who} is never closed and never handed off (it leaks a file descriptor until garbage collection)",
                (),
                _trace(ctx, res, first, _final_note(first, who)),
                failure=first.failure,
            )
            continue
        # One finding per socket for the calls that can raise and leak it (those that use it,
        # SKL102; the others, SKL106), at the realistic witness: the first that fails in normal
        # operation (a refused `connect()`, a reset `recv()`), not a configuration call before
        # it that needs EBADF or ENOMEM to fail. A socket only configuration calls can leak is
        # SKL107 (off by default).
        witness_call = {t: _realistic([l for l in leaks if l.kind == "call" and l.touching == t]) for t in (True, False)}
        for leak in leaks:
            if leak.kind in ("return", "raise", "end", "continue"):
                if leak.kind == "end":
                    where = f"when `{facts.name}` ends"
                elif leak.kind == "continue":
                    where = "at this `continue` (the next iteration loses it)"
                else:
                    where = f"at this {_EXIT_WORD[leak.kind]}"
                yield Finding(
                    _unless_configuration("SKL101", leak),
                    leak.node,
                    f"{who} (created at line {{0}}) is still open {where}",
                    (res.node,),
                    _trace(ctx, res, leak, _final_note(leak, who)),
                    failure=leak.failure,
                )
            elif leak.kind == "call":
                if leak is not witness_call[leak.touching]:
                    continue
                callee = _callee(ctx, leak.node)
                code = _unless_configuration("SKL102", leak) if leak.touching else "SKL106"
                yield Finding(
                    code,
                    leak.node,
                    f"{who} (created at line {{0}}) is left open if `{callee}` raises here; close it in `finally` or use `with`",
                    (res.node,),
                    _trace(ctx, res, leak, _final_note(leak, who)),
                    failure=leak.failure,
                )
            elif leak.kind in ("rebind", "delete"):
                verb = "deleted" if leak.kind == "delete" else "rebound"
                yield Finding(
                    _unless_configuration("SKL104", leak),
                    leak.node,
                    f"{who} (created at line {{0}}) is still open when its name is {verb} here",
                    (res.node,),
                    _trace(ctx, res, leak, f"{who} {verb} while open"),
                    failure=leak.failure,
                )
            elif leak.kind == "drop":
                yield Finding(
                    "SKL103",
                    res.node,
                    f"{who} is never closed and never handed off (it leaks a file descriptor until garbage collection)",
                    (),
                    _trace(ctx, res, leak, "the last reference is dropped here"),
                    failure=leak.failure,
                )


def _realistic(calls: list[Leak]) -> Leak | None:
    """The first raising call that fails in normal operation, else the first of them."""
    return next((l for l in calls if l.failure != FAIL_CONFIG), calls[0] if calls else None)


def _unless_configuration(code: str, leak: Leak) -> str:
    """SKL107 for a leak that only a configuration call failing can cause (off by default)."""
    return "SKL107" if leak.failure == FAIL_CONFIG else code


def _callee(ctx: RuleContext, node: cst.CSTNode) -> str:
    if isinstance(node, cst.Call):
        f = node.func
        if isinstance(f, cst.Attribute):
            return f"{ctx.code_for(f)}()" if len(ctx.code_for(f)) <= 40 else f"{f.attr.value}()"
        return f"{ctx.code_for(f)}()"
    if isinstance(node, cst.Await):
        return f"await {_callee(ctx, node.expression)}" if isinstance(node.expression, cst.Call) else "await"
    return ctx.code_for(node)


def _final_note(leak: Leak, who: str) -> str:
    return {
        "return": f"returns here with {who} open",
        "raise": f"raises here with {who} open",
        "end": f"the function ends with {who} open",
        "continue": f"continues with {who} open; the next iteration rebinds it",
        "call": f"if this call raises, {who} is never closed",
        "drop": "the last reference is dropped here",
        "rebind": f"{who} rebound while open",
        "delete": f"{who} deleted while open",
    }.get(leak.kind, "leaves here")
