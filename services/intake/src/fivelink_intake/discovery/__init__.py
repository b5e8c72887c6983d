"""Proactive discovery (主动发现): signals in, cases out — "policy finds the person".

Pure domain core, no I/O apart from reading a rules file. The HTTP endpoint
``POST /v1/signals:batch`` calls, in order:

- ``parse_batch(data: bytes, fmt="auto") -> BatchResult(records, errors)``
- ``load_rules(path: Path | None = None) -> RuleSet`` (None: the packaged v1 rules)
- ``evaluate(signals, rules, now, *, key, open_refs=frozenset()) -> list[DiscoveredCase]``
"""

from fivelink_intake.discovery.batch import BatchError, BatchResult, parse_batch
from fivelink_intake.discovery.engine import DiscoveredCase, RuleFiring, evaluate
from fivelink_intake.discovery.rules import RulesError, RuleSet, load_rules, parse_rules
from fivelink_intake.discovery.signals import Signal, SignalKind, Source

__all__ = [
    "BatchError",
    "BatchResult",
    "DiscoveredCase",
    "RuleFiring",
    "RuleSet",
    "RulesError",
    "Signal",
    "SignalKind",
    "Source",
    "evaluate",
    "load_rules",
    "parse_batch",
    "parse_rules",
]
