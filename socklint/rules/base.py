"""What a rule sees: one function's facts plus module context, and the codes it can emit.

Rules do not re-run the flow analysis. Some still read syntax: the option and closing rules
evaluate arguments through ``Evaluator.for_function``, which walks the function's CST for its
local bindings, and the whole-module rules walk the stdlib ``ast``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Optional

import libcst as cst

from socklint.analysis.facts import Finding, FunctionFacts, Resource
from socklint.analysis.scan import ImportTable
from socklint.config import Settings
from socklint.diagnostics import Severity

if TYPE_CHECKING:
    from socklint.rules._support import ModuleFacts


@dataclass
class RuleContext:
    facts: FunctionFacts
    imports: ImportTable
    settings: Settings
    _module_tree: ast.Module
    code_for: Callable[[cst.CSTNode], str]
    path: str = ""  # the file being checked (rules use it to recognise test suites)
    # Set once a rule reads the module tree (for module facts beyond this function): the
    # engine's per-function result cache then keys the findings on those facts too.
    read_module_tree: bool = field(default=False, init=False)
    # The file's module facts (rules._support.ModuleFacts), built by the engine on first use
    # and shared by every rule of the file.
    file_facts: Optional[Callable[[], ModuleFacts]] = None

    @property
    def module_tree(self) -> ast.Module:
        self.read_module_tree = True
        return self._module_tree

    def describe(self, res: Resource) -> str:
        if res.name:
            return f"`{res.name}`"
        return f"the socket from `{res.callee}`"


FunctionCheck = Callable[[RuleContext], Iterable[Finding]]


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
    file_facts: Optional[Callable[[], ModuleFacts]] = None  # as in RuleContext


@dataclass(frozen=True)
class ModuleFinding:
    code: str
    node: ast.AST  # any node with lineno / col_offset
    message: str
    severity: Optional[Severity] = None


ModuleCheck = Callable[[ModuleRuleContext], Iterable[ModuleFinding]]


@dataclass(frozen=True)
class Rule:
    """A per-function rule and every code it can emit: the engine runs it only for a file in
    which at least one of them is enabled (a finding of a disabled code would be dropped)."""

    codes: tuple[str, ...]
    check: FunctionCheck


@dataclass(frozen=True)
class ModuleRule:
    """A whole-module rule and every code it can emit (see :class:`Rule`)."""

    codes: tuple[str, ...]
    check: ModuleCheck
