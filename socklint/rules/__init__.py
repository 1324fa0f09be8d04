"""The rules, listed explicitly (no import-time discovery). Each is a query over facts.

Each entry declares the codes its check can emit, so that the engine skips a rule whose codes
are all disabled for the file. ``tests/test_rule_pushdown.py`` checks the declarations against
what the checks emit on the fixtures.
"""

from __future__ import annotations

from socklint.rules.base import (
    FunctionCheck,
    ModuleCheck,
    ModuleRule,
    ModuleRuleContext,
    Rule,
    RuleContext,
)
from socklint.rules.lifecycle import check_attribute_stores, check_leaks
from socklint.rules.options import check_module_options, check_options
from socklint.rules.recv_loops import check_recv_loops
from socklint.rules.shutdown import check_closing, check_module_closing

ALL_RULES: tuple[Rule, ...] = (
    # SKL106 and SKL107 are opt-in siblings of SKL101/SKL102: a leak when an unrelated call
    # raises, and one that only a failing configuration call can cause. SKL111: a socket on an
    # object whose constructor (or `__enter__`) raised.
    Rule(("SKL101", "SKL102", "SKL103", "SKL104", "SKL106", "SKL107", "SKL108", "SKL111"), check_leaks),
    Rule(("SKL112",), check_attribute_stores),
    Rule(("SKL105",), check_recv_loops),
    Rule(("SKL201", "SKL202", "SKL203", "SKL211", "SKL213", "SKL214", "SKL215", "SKL216"), check_options),
    Rule(("SKL301", "SKL303", "SKL304"), check_closing),
)
# Whole-module rules: run once per file on the stdlib ast.
MODULE_RULES: tuple[ModuleRule, ...] = (
    ModuleRule(("SKL211", "SKL212", "SKL213", "SKL214", "SKL216"), check_module_options),
    ModuleRule(("SKL301", "SKL302"), check_module_closing),
)

__all__ = [
    "ALL_RULES",
    "MODULE_RULES",
    "FunctionCheck",
    "ModuleCheck",
    "ModuleRule",
    "ModuleRuleContext",
    "Rule",
    "RuleContext",
]
