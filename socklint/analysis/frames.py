"""Where jumps go: the frames of enclosing loops, ``try`` bodies and ``finally`` blocks, the
exits a path can take, and the classes of exception a raise point is known to raise."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Union

import libcst as cst

from socklint.analysis.facts import FAIL_ANY, FAIL_CANCEL, FAIL_CONFIG, FAIL_IO
from socklint.analysis.lattice import State


@dataclass
class Exit:
    kind: str  # return | raise | call | end | continue | assert
    node: cst.CSTNode
    touched: frozenset[int] = frozenset()
    cls: str = "any"
    # What fails here (facts.FAIL_*): the raising call's kind; FAIL_PROTOCOL for a `raise` of
    # the code outside a handler; None for a re-raise (the handled failure stays the witness's).
    failure: Optional[str] = None


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

EXC_OS = "os"  # OSError or any subclass (I/O: connect, recv, send, accept...)
EXC_OSCFG = "oscfg"  # plain OSError from configuration calls (setblocking, setsockopt...)
EXC_ANY = "any"  # anything, from a call that uses a socket
EXC_OTHER = "other"  # anything, from a call that touches no socket
EXC_NONOS = "non-os"
# asyncio.CancelledError at an `await`: a BaseException since Python 3.8, so `except Exception:`
# does not see it; `finally`, `except BaseException:`, a bare `except:` and `except
# asyncio.CancelledError:` do.
EXC_CANCEL = "cancel"  # anything but an OSError (a helper that keeps its OSErrors in: Summaries.non_os)


def failure_of_class(cls: str) -> str:
    """What a raise point of exception class ``cls`` needs to fail, when nothing more precise
    is known (a socket method's row says more: model.Model.fails)."""
    if cls == EXC_CANCEL:
        return FAIL_CANCEL
    return FAIL_IO if cls == EXC_OS else FAIL_CONFIG if cls == EXC_OSCFG else FAIL_ANY
