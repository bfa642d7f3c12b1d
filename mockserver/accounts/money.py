"""Exact money: USD amounts held as integers of 10^-10 USD.

Costs arrive as JSON numbers (the ``usage.cost`` a call returned, a spending
limit). Each is read through its shortest decimal form (``repr`` of the float,
so ``0.1`` is one tenth, not its binary neighbour) and rounded half-even to
10^-10 USD, the finest step any per-token price needs. Sums of integers are
exact; an amount is written back to JSON as the nearest float, which prints as
the exact decimal for every amount under 100,000 USD (at most 15 significant
digits). So the totals of a usage report equal, digit for digit, the sum of
the costs the calls returned.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Context, Decimal, InvalidOperation

SCALE = 10**10  # units per USD
_EXACT = Context(prec=28)  # passed explicitly: the thread's decimal context plays no part
Units = int


def from_usd(value: object) -> Units:
    """The amount ``value`` (a JSON number or a Decimal) in units; ValueError when it is not a finite number."""
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        raise ValueError(f"not an amount of money: {value!r}")
    if isinstance(value, int):
        return value * SCALE
    try:
        amount = value if isinstance(value, Decimal) else Decimal(repr(value))
    except InvalidOperation:
        raise ValueError(f"not an amount of money: {value!r}") from None
    if not amount.is_finite():
        raise ValueError(f"not a finite amount of money: {value!r}")
    digits = len(amount.as_tuple().digits)
    context = _EXACT if digits <= 16 else Context(prec=digits + 12)  # enough digits that scaling is exact
    return int(amount.scaleb(10, context).to_integral_value(ROUND_HALF_EVEN, context))


def divide_half_even(numerator: int, denominator: int) -> Units:
    """``numerator / denominator`` rounded half-even to an integer, exactly (integers only, no floats)."""
    quotient, remainder = divmod(numerator, denominator)
    twice = 2 * remainder
    if twice > denominator or (twice == denominator and quotient % 2):
        quotient += 1
    return quotient


def to_usd(units: Units) -> float:
    """The JSON number for ``units``: the float nearest to the exact amount (correctly rounded)."""
    return units / SCALE


def to_decimal(units: Units) -> Decimal:
    """The exact amount, for tests and messages."""
    return Decimal(units).scaleb(-10)


def describe(units: Units) -> str:
    """``$5.00``, ``$0.0000012``: at least cents, never hiding a non-zero digit."""
    amount = to_decimal(units).normalize()
    if amount == amount.quantize(Decimal("0.01")):
        return f"${amount:.2f}"
    return f"${amount:f}"
