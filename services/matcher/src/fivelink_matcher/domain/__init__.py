"""Pure domain core of the matcher: model, solvers, explanations, changes, escalation."""

from .changes import Changes, diff
from .escalation import due_escalations
from .model import (
    Assignment,
    Fixed,
    Line,
    Problem,
    Proposed,
    Resource,
    Solution,
    SolverConfig,
    Unmet,
    Weights,
)
from .solver import greedy, solve

__all__ = [
    "Assignment",
    "Changes",
    "Fixed",
    "Line",
    "Problem",
    "Proposed",
    "Resource",
    "Solution",
    "SolverConfig",
    "Unmet",
    "Weights",
    "diff",
    "due_escalations",
    "greedy",
    "solve",
]
