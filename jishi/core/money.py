"""Money in integer fen and the one helper that splits an amount without losing a fen."""

from __future__ import annotations

from collections.abc import Sequence

BP_DENOMINATOR = 10_000  # basis points: 10000 bp = 100%


def allocate(total: int, weights: Sequence[int]) -> list[int]:
    """Split ``total`` fen across ``weights`` so the parts sum exactly to ``total``.

    Largest-remainder method: each part is the floor or the ceiling of its exact share,
    and the leftover fen go to the largest fractional remainders (earliest first on ties),
    so the result is deterministic and never off by more than one fen per part.
    Negative totals split symmetrically (used when reversing).
    """
    if any(w < 0 for w in weights):
        raise ValueError("weights must not be negative")
    weight_sum = sum(weights)
    if not weights:
        if total:
            raise ValueError("cannot allocate a non-zero amount across no weights")
        return []
    if weight_sum == 0:
        if total:
            raise ValueError("cannot allocate a non-zero amount across zero weights")
        return [0] * len(weights)
    if total < 0:
        return [-part for part in allocate(-total, weights)]
    parts = [total * w // weight_sum for w in weights]
    remainders = [total * w % weight_sum for w in weights]
    leftover = total - sum(parts)
    order = sorted(range(len(weights)), key=lambda i: (-remainders[i], i))
    for i in order[:leftover]:
        parts[i] += 1
    return parts


def apply_rate(amount: int, rate_bp: int) -> int:
    """``amount`` × rate (in basis points), rounded half up to the fen."""
    if rate_bp < 0:
        raise ValueError("rate must not be negative")
    return (amount * rate_bp * 2 + BP_DENOMINATOR) // (2 * BP_DENOMINATOR)


def split_by_rates(amount: int, rates_bp: Sequence[int]) -> list[int]:
    """Parts of ``amount`` at each rate, with the rounding settled by ``allocate``.

    The parts sum to the rounded total of all rates, so no fen is invented across
    the split however many rates there are.
    """
    total = apply_rate(amount, sum(rates_bp))
    return allocate(total, list(rates_bp))


def prorate(amount: int, part: int, whole: int) -> int:
    """The share of ``amount`` that ``part`` of ``whole`` stands for (floor)."""
    if whole <= 0:
        raise ValueError("whole must be positive")
    if not 0 <= part <= whole:
        raise ValueError("part must lie within whole")
    return amount * part // whole


def format_yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}¥{fen // 100}.{fen % 100:02d}"
