"""How one solve spends its time limit: what building a model and finishing will cost.

The costs that are not the solvers' own (building the LP and CP-SAT models in Python, the
explanations at the end) grow with the number of pairs and lines. Each is a per-item cost
measured on the project's 2-core build machine, times a `speed` factor: how much slower this
solve's machine is, learnt from the first model it builds (before that, a cautious prior).
"""

from __future__ import annotations

from dataclasses import dataclass

#: Seconds per pair to build the LP model (GLOP), measured at 64,000 pairs.
LP_BUILD_S_PER_PAIR = 4.5e-6
#: Seconds per pair for GLOP to solve the LP (dual simplex), measured at 50,000-64,000 pairs:
#: 0.32-0.40 s. An LP that would not finish in time is not started.
GLOP_S_PER_PAIR = 6.5e-6
#: Seconds per pair to build the CP-SAT model and set its hint, measured at 29,000 pairs.
CP_BUILD_S_PER_PAIR = 8.0e-6
#: Seconds per line for the explanations, the unmet reasons and the score at the end
#: (measured at 2,000 lines: 0.10-0.12 s, pairs read for the first time included).
FINISH_S_PER_LINE = 7.0e-5
#: The final flow against the first one it repeats (fewer lines, but a different load).
FINAL_FLOW_MARGIN = 1.25
#: A fixed margin: CP-SAT stopping after its limit (up to 0.03 s measured with 2 workers),
#: merging and the solution object.
FINISH_MARGIN_S = 0.05
#: A share of the time limit kept free, for what the estimates miss (load changes while a
#: solve runs): the limit is a promise, the solvers' own limits are not.
LIMIT_MARGIN = 0.02
#: Speed factor before anything was measured: assume a machine a quarter slower.
SPEED_PRIOR = 1.25
#: The least time worth handing to CP-SAT's search once its model is built.
MIN_SEARCH_S = 0.05


@dataclass(slots=True)
class Budget:
    """Estimates for one solve; `learn_lp_build` updates the speed factor."""

    limit_s: float = 0.0  # the solve's time limit
    speed: float = SPEED_PRIOR

    def lp_s(self, pairs: int) -> float:
        """Building the LP model and solving it."""
        return (LP_BUILD_S_PER_PAIR + GLOP_S_PER_PAIR) * pairs * self.speed

    def cp_build_s(self, pairs: int) -> float:
        return CP_BUILD_S_PER_PAIR * pairs * self.speed

    def finish_s(self, lines: int, final_flow_s: float) -> float:
        """The final flow (as long as a measured one) and the explanations."""
        explain = FINISH_S_PER_LINE * lines * self.speed
        margin = FINISH_MARGIN_S + LIMIT_MARGIN * self.limit_s
        return margin + FINAL_FLOW_MARGIN * final_flow_s + explain

    def learn_lp_build(self, pairs: int, seconds: float) -> None:
        """Take the speed factor from how long the LP model took to build."""
        if pairs > 1000:  # too few pairs time the overheads, not the machine
            self.speed = max(0.25, seconds / (LP_BUILD_S_PER_PAIR * pairs))
