"""The rules, listed explicitly (no import-time discovery). Each is a query over facts."""

from __future__ import annotations

from socklint.rules.base import Rule, RuleContext
from socklint.rules.lifecycle import check_leaks, check_recv_loops

ALL_RULES: tuple[Rule, ...] = (check_leaks, check_recv_loops)

__all__ = ["ALL_RULES", "Rule", "RuleContext"]
