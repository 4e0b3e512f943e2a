from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jishi.core.money import allocate, apply_rate, format_yuan, prorate, split_by_rates

amounts = st.integers(min_value=-(10**12), max_value=10**12)
weights = st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=30).filter(any)


@given(amounts, weights)
def test_allocate_never_loses_or_invents_a_fen(total: int, ws: list[int]) -> None:
    parts = allocate(total, ws)
    assert sum(parts) == total
    assert len(parts) == len(ws)


@given(st.integers(min_value=0, max_value=10**12), weights)
def test_allocate_parts_are_floor_or_ceiling_of_exact_share(total: int, ws: list[int]) -> None:
    parts = allocate(total, ws)
    s = sum(ws)
    for part, w in zip(parts, ws, strict=True):
        exact_floor = total * w // s
        assert part in (exact_floor, exact_floor + 1)
        if w == 0:
            assert part == 0


@given(st.integers(min_value=0, max_value=10**10), st.lists(st.integers(0, 10_000), min_size=1, max_size=3))
def test_split_by_rates_sums_to_rounded_total(amount: int, rates: list[int]) -> None:
    parts = split_by_rates(amount, rates)
    assert sum(parts) == apply_rate(amount, sum(rates))


def test_allocate_is_deterministic_on_ties() -> None:
    assert allocate(100, [1, 1, 1]) == [34, 33, 33]
    assert allocate(-100, [1, 1, 1]) == [-34, -33, -33]


def test_distribution_rates_on_199_yuan() -> None:
    assert [apply_rate(19900, bp) for bp in (1000, 500, 200)] == [1990, 995, 398]


@pytest.mark.parametrize("ws", [[], [0, 0]])
def test_allocate_refuses_nonzero_over_nothing(ws: list[int]) -> None:
    with pytest.raises(ValueError):
        allocate(5, ws)


def test_allocate_refuses_negative_weights() -> None:
    with pytest.raises(ValueError):
        allocate(5, [1, -1])


def test_prorate_and_format() -> None:
    assert prorate(1990, 9950, 19900) == 995
    assert format_yuan(19900) == "¥199.00"
    assert format_yuan(-5) == "-¥0.05"
