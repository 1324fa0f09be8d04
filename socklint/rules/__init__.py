"""The rules, listed explicitly (no import-time discovery). Each is a query over facts."""

from __future__ import annotations

from socklint.rules.base import ModuleRule, ModuleRuleContext, Rule, RuleContext
from socklint.rules.lifecycle import check_leaks
from socklint.rules.options import check_module_options, check_options
from socklint.rules.recv_loops import check_recv_loops
from socklint.rules.shutdown import check_closing, check_module_closing

ALL_RULES: tuple[Rule, ...] = (check_leaks, check_recv_loops, check_options, check_closing)
# Whole-module rules: run once per file on the stdlib ast.
MODULE_RULES: tuple[ModuleRule, ...] = (check_module_options, check_module_closing)

__all__ = ["ALL_RULES", "MODULE_RULES", "ModuleRule", "ModuleRuleContext", "Rule", "RuleContext"]
