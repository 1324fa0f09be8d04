"""SKL1xx: a socket's descriptor outlives every reference to it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Optional

import libcst as cst

from socklint.analysis.facts import FAIL_CANCEL, FAIL_CONFIG, Finding, Leak, Resource
from socklint.rules.base import RuleContext

MAX_TRACE = 24


def _trace(ctx: RuleContext, res: Resource, leak: Leak, final_note: str) -> tuple[tuple[cst.CSTNode, str], ...]:
    steps = leak.witness.to_list(MAX_TRACE) if leak.witness is not None else []
    out: list[tuple[cst.CSTNode, str]] = []
    for node, note in steps:
        if note == "created":
            if res.origin == "attribute":
                note = f"`{res.callee}` holds an open socket here"
            elif res.origin == "handler":
                note = f"{ctx.describe(res)} is the connection this handler owns (given by `{res.callee}`)"
            else:
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
    for rid, all_leaks in by_rid.items():
        res = facts.resources[rid]
        if not res.reportable:
            continue
        who = ctx.describe(res)
        # A leak only the cancellation of the task shows is SKL108's; an `await` where an
        # ordinary failure leaks the socket too reports that one (the same exit, deduplicated
        # in interp_core._record_leak).
        leaks = [l for l in all_leaks if l.failure != FAIL_CANCEL]
        ordinary = {id(l.node) for l in leaks}
        cancelled = [l for l in all_leaks if l.failure == FAIL_CANCEL and not _also_ordinary(l, ordinary, facts.raising_calls)]
        if res.origin == "handler":
            # asyncio closes the connection of a handler that raises (Python 3.11+, logging
            # "Unhandled exception in client_connected_cb") or is cancelled (3.13+): only the
            # exits without an exception leave it open.
            leaks = [l for l in leaks if l.kind not in ("call", "raise")]
            cancelled = []
        if cancelled and rid in facts.disposed and not any(_ordinary_exception_leak(l) for l in leaks):
            # Only where the function does clean up on the ordinary failures: a socket that an
            # ordinary exception leaks already has its SKL101/SKL102 (an early return is
            # another matter).
            yield _cancellation_finding(ctx, res, cancelled[0], who)
        if not leaks:
            continue
        if res.origin == "object":
            yield from _factory_findings(ctx, res, leaks)
            continue
        if res.origin == "attribute":
            yield from _attribute_findings(ctx, res, leaks)
            continue
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
        witness_call = {t: _realistic([l for l in leaks if l.kind == "call" and l.touching == t and l.held_by is None]) for t in (True, False)}
        seen_call: set[tuple[bool, bool]] = set()
        # The same realistic witness for a socket held by the object under construction.
        held_call = {t: _realistic([l for l in leaks if l.kind == "call" and l.touching == t and l.held_by is not None]) for t in (True, False)}
        for leak in leaks:
            if leak.held_by is not None:
                if leak.kind == "call" and leak is not held_call[leak.touching]:
                    continue
                f = _constructor_finding(ctx, res, leak, who, seen_call)
                if f is not None:
                    yield f
                continue
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


def _ordinary_exception_leak(leak: Leak) -> bool:
    """The leak is an exception path reported by default: a raising call that uses the socket
    (SKL102, not SKL106/SKL107), or a `raise` (SKL101)."""
    if leak.failure == FAIL_CONFIG:
        return False
    return (leak.kind == "call" and leak.touching) or leak.kind == "raise"


def _also_ordinary(leak: Leak, ordinary: set[int], raising_calls: set[int]) -> bool:
    """The cancellation leak's ``await`` also leaks the socket when it fails in the ordinary
    way: that finding (SKL101/SKL102, or SKL106 off by default) says it already. Where the
    awaited call is itself a raise point (``await reader.read()``), its failure is the ordinary
    one; the await's own raise point duplicates it."""
    node = leak.node
    if isinstance(node, cst.Await) and isinstance(node.expression, cst.Call) and id(node.expression) in raising_calls:
        return id(node.expression) in ordinary
    return id(node) in ordinary


def _cancellation_finding(ctx: RuleContext, res: Resource, leak: Leak, who: str) -> Finding:
    """SKL108: open where the task is cancelled at an ``await``, and only there: the cleanup
    is written for ``Exception`` (``except Exception: close(); raise``), which
    ``asyncio.CancelledError`` is not since Python 3.8."""
    await_node: cst.CSTNode = leak.node
    step = leak.witness
    while step is not None and leak.kind != "call":
        if step.failure == FAIL_CANCEL:
            await_node = step.node  # the latest `await` where the cancellation came in
            break
        step = step.prev
    where = "this `async with`" if isinstance(await_node, cst.With) else "this `async for`" if isinstance(await_node, cst.For) else "this `await`"
    final = f"the task is cancelled here; {who} is not closed on that path"
    # trio's and anyio's resources are cancelled by trio's `Cancelled` or the backend's class.
    exc = "the cancellation (trio's `Cancelled`, anyio's backend class)" if res.kind in ("stream", "listener") else "`CancelledError`"
    return Finding(
        "SKL108",
        await_node,
        f"{who} (created at line {{0}}) is left open if the task is cancelled at {where}: "
        f"{exc} is a BaseException, which `except Exception` does not catch; close it in `finally`",
        (res.node,),
        _trace(ctx, res, leak, final),
        failure=FAIL_CANCEL,
    )


def _realistic(calls: list[Leak]) -> Leak | None:
    """The first raising call that fails in normal operation, else the first of them."""
    return next((l for l in calls if l.failure != FAIL_CONFIG), calls[0] if calls else None)


def _unless_configuration(code: str, leak: Leak) -> str:
    """SKL107 for a leak that only a configuration call failing can cause (off by default)."""
    return "SKL107" if leak.failure == FAIL_CONFIG else code


def _constructor_finding(ctx: RuleContext, res: Resource, leak: Leak, who: str, seen_call: set[tuple[bool, bool]]) -> Optional[Finding]:
    """A socket stored on ``self`` in ``__init__`` / ``__enter__`` and still open where the
    method raises (SKL111), or where its attribute is rebound or deleted (SKL104)."""
    held = f"`{leak.held_by}`"
    # "`self.sock` (created at line 5)" or "`sock` (created at line 5), stored in `self._sock`,"
    stored = f"{who} (created at line {{0}})" + ("" if who == held else f", stored in {held},")
    method = ctx.facts.owner_method or "__init__"
    if leak.kind in ("rebind", "delete"):
        verb = "deleted" if leak.kind == "delete" else "rebound"
        return Finding(
            "SKL104",
            leak.node,
            f"{stored.rstrip(',')} is still open when {held} is {verb} here",
            (res.node,),
            _trace(ctx, res, leak, f"{held} {verb} while open"),
        )
    if method == "__enter__":
        lost = "`with` never calls `__exit__` when `__enter__` raises, so nothing can close it"
    elif method == "__aenter__":
        lost = "`async with` never calls `__aexit__` when `__aenter__` raises, so nothing can close it"
    else:
        lost = "the caller never gets the object, so nothing can close it"
    if leak.kind == "raise":
        return Finding(
            "SKL111",
            leak.node,
            f"{stored.rstrip(',')} is still open when `{method}` raises here: {lost}",
            (res.node,),
            _trace(ctx, res, leak, f"`{method}` raises here with {held} open"),
        )
    if leak.kind == "call":
        if (leak.touching, True) in seen_call:
            return None
        seen_call.add((leak.touching, True))
        callee = _callee(ctx, leak.node)
        # A call that uses neither the socket nor the object (`float(timeout)`) is SKL106's
        # weaker witness, as for a local socket.
        return Finding(
            _unless_configuration("SKL111", leak) if leak.touching else "SKL106",
            leak.node,
            f"{stored} is left open if `{callee}` raises here: {lost}; "
            f"close it in an `except` that re-raises",
            (res.node,),
            _trace(ctx, res, leak, _final_note(leak, held)),
        )
    return None


def _factory_findings(ctx: RuleContext, res: Resource, leaks: list[Leak]) -> Iterator[Finding]:
    """A classmethod factory built ``obj = cls(...)`` (whose ``__init__`` stores a socket it
    makes) and raises before handing the object on: SKL111 at the raise or the first raising
    call that uses the object. Other exits (a normal return that drops the object) are left
    alone: the factory's contract is the caller's to read."""
    what = f"the object built by `{res.callee}`" + (f" (`{res.name}`)" if res.name else "")
    method = ctx.facts.name
    seen = False
    for leak in leaks:
        if leak.kind == "raise":
            yield Finding(
                "SKL111",
                leak.node,
                f"{what} at line {{0}} holds a socket and is still open when `{method}` raises here: "
                f"the caller never gets it, so nothing can close it",
                (res.node,),
                _trace(ctx, res, leak, f"raises here with {what} open"),
            )
        elif leak.kind == "call" and leak.touching and not seen:
            seen = True
            yield Finding(
                "SKL111",
                leak.node,
                f"{what} at line {{0}} holds a socket and is left open if `{_callee(ctx, leak.node)}` raises here: "
                f"the caller never gets it, so nothing can close it; close it in an `except` that re-raises",
                (res.node,),
                _trace(ctx, res, leak, _final_note(leak, what)),
            )


def _attribute_findings(ctx: RuleContext, res: Resource, leaks: list[Leak]) -> Iterator[Finding]:
    """``self.sock`` was used as an open socket in this method and is rebound or cleared on a
    path where nothing closed it (SKL104). Not when it was passed to a call this module cannot
    see first: that call may have closed it or taken it over."""
    if res.lent is not None:
        return
    for leak in leaks:
        if leak.kind not in ("rebind", "delete"):
            continue
        verb = "deleted" if leak.kind == "delete" else "rebound"
        yield Finding(
            "SKL104",
            leak.node,
            f"`{res.callee}` still holds the socket used at line {{0}} when it is {verb} here: nothing closes that socket",
            (res.node,),
            _trace(ctx, res, leak, f"`{res.callee}` {verb} while its socket is open"),
        )


def check_attribute_stores(ctx: RuleContext) -> Iterator[Finding]:
    """SKL112: a class stores a socket it made in an attribute that the module never closes
    nor lets go of (``FunctionFacts.attr_stores``, decided with ``objects.ObjectSummary``).
    One finding per attribute and function, at the first store."""
    facts = ctx.facts
    seen: set[tuple[str, str]] = set()
    for cls, attr, rid, node in facts.attr_stores:
        if (cls, attr) in seen:
            continue
        if any(rid in e.rids and e.kind in ("close", "escape") and e.node is not node for e in facts.events):
            # Closed or handed on besides (`return s` after `self.s = s`): someone else has it.
            continue
        seen.add((cls, attr))
        res = facts.resources[rid]
        yield Finding(
            "SKL112",
            node,
            f"`self.{attr}` holds a socket made by `{res.callee}` (line {{0}}) that no method of `{cls}` "
            f"closes and nothing in this module lets go of: it stays open until garbage collection",
            (res.node,),
            ((res.node, f"socket created by `{res.callee}`"), (node, f"stored in `self.{attr}`; nothing closes it")),
        )


def _callee(ctx: RuleContext, node: cst.CSTNode) -> str:
    if isinstance(node, cst.Call):
        f = node.func
        if isinstance(f, cst.Attribute):
            return f"{ctx.code_for(f)}()" if len(ctx.code_for(f)) <= 40 else f"{f.attr.value}()"
        return f"{ctx.code_for(f)}()"
    if isinstance(node, cst.Await):
        return f"await {_callee(ctx, node.expression)}" if isinstance(node.expression, cst.Call) else "await"
    if isinstance(node, cst.With):
        # The statement's header, not its body: `async with lock`.
        return "async with " + ", ".join(ctx.code_for(item.item) for item in node.items)
    if isinstance(node, cst.For):
        return f"async for {ctx.code_for(node.target)} in {ctx.code_for(node.iter)}"
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
