"""What the interpreter knows about the module around the function it analyses."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import libcst as cst

from socklint.analysis.model import BUILTIN, Model
from socklint.analysis.scan import ImportTable, Summaries
from socklint.config import Settings


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
    # The library model: the built-in rows plus the user's (model.effective_model).
    model: Model = BUILTIN
