"""What a rule sees: one function's facts plus module context. Rules never walk the CST."""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Callable, Optional

import libcst as cst

from socklint.analysis.facts import Finding, FunctionFacts, Resource
from socklint.analysis.scan import ImportTable
from socklint.config import Settings
from socklint.diagnostics import Severity


@dataclass
class RuleContext:
    facts: FunctionFacts
    imports: ImportTable
    settings: Settings
    module_tree: ast.Module
    code_for: Callable[[cst.CSTNode], str]
    path: str = ""  # the file being checked (rules use it to recognise test suites)

    def describe(self, res: Resource) -> str:
        if res.name:
            return f"`{res.name}`"
        return f"the socket from `{res.callee}`"


Rule = Callable[[RuleContext], Iterable[Finding]]


@dataclass
class ModuleRuleContext:
    """What a whole-module rule sees: the file's stdlib ``ast`` and its imports. For facts that
    live outside functions (class attributes such as ``allow_reuse_address = True``) and for
    single-call checks (a keyword argument) that need no flow analysis."""

    tree: ast.Module
    imports: ImportTable
    settings: Settings
    path: str = ""
    # The module's text, for cheap "can this rule find anything here at all" tests.
    source: str = ""


@dataclass(frozen=True)
class ModuleFinding:
    code: str
    node: ast.AST  # any node with lineno / col_offset
    message: str
    severity: Optional[Severity] = None


ModuleRule = Callable[[ModuleRuleContext], Iterable[ModuleFinding]]
