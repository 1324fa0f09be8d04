"""What a rule sees: one function's facts plus module context. Rules never walk the CST."""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Callable

import libcst as cst

from socklint.analysis.facts import Finding, FunctionFacts, Resource
from socklint.analysis.scan import ImportTable
from socklint.config import Settings


@dataclass
class RuleContext:
    facts: FunctionFacts
    imports: ImportTable
    settings: Settings
    module_tree: ast.Module
    code_for: Callable[[cst.CSTNode], str]

    def describe(self, res: Resource) -> str:
        if res.name:
            return f"`{res.name}`"
        return f"the socket from `{res.callee}`"


Rule = Callable[[RuleContext], Iterable[Finding]]
