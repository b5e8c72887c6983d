"""The solve's time budget: estimates scale with the work and with the learnt speed."""

from __future__ import annotations

import pytest

from fivelink_matcher.domain.budget import (
    FINISH_MARGIN_S,
    LP_BUILD_S_PER_PAIR,
    SPEED_PRIOR,
    Budget,
)


def test_estimates_start_cautious_and_grow_with_the_work() -> None:
    b = Budget()
    assert b.speed == SPEED_PRIOR > 1.0
    assert b.lp_s(20_000) == pytest.approx(2 * b.lp_s(10_000))
    assert b.cp_build_s(20_000) == pytest.approx(2 * b.cp_build_s(10_000))
    assert b.finish_s(2_000, 0.0) > b.finish_s(1_000, 0.0) > FINISH_MARGIN_S
    # The final flow repeats a measured one, with a margin.
    assert b.finish_s(1_000, 0.2) - b.finish_s(1_000, 0.0) > 0.2


def test_speed_is_learnt_from_the_lp_build() -> None:
    b = Budget()
    before = b.cp_build_s(10_000)
    b.learn_lp_build(50_000, 3 * LP_BUILD_S_PER_PAIR * 50_000)  # a machine 3x slower
    assert b.speed == pytest.approx(3.0)
    assert b.cp_build_s(10_000) == pytest.approx(before * 3.0 / SPEED_PRIOR)
    b.learn_lp_build(50_000, 0.5 * LP_BUILD_S_PER_PAIR * 50_000)  # and 2x faster
    assert b.speed == pytest.approx(0.5)


def test_a_tiny_model_teaches_nothing() -> None:
    b = Budget()
    b.learn_lp_build(10, 1.0)  # overheads, not the machine
    assert b.speed == SPEED_PRIOR


def test_a_share_of_the_limit_is_kept_free() -> None:
    assert Budget(limit_s=5.0).finish_s(1_000, 0.0) > Budget(limit_s=1.0).finish_s(1_000, 0.0)
