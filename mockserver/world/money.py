"""Exact money arithmetic: integer minor units, decimal strings, half-up rounding."""

from fractions import Fraction


def round_half_up(value: Fraction | int) -> int:
    """The nearest integer, halves away from zero; in integer arithmetic on the exact ratio."""
    numerator, denominator = value.numerator, value.denominator  # denominator > 0
    if numerator >= 0:
        return (2 * numerator + denominator) // (2 * denominator)
    return -((denominator - 2 * numerator) // (2 * denominator))


def line_total(quantity: str, unit_price: str) -> int:
    """A pinned line's total in minor units, from a quantity and a unit price in major units."""
    return round_half_up(Fraction(quantity) * Fraction(unit_price) * 100)


def decimal_text(value: Fraction) -> str:
    """Exact decimal text of a fraction whose denominator has only the factors 2 and 5."""
    sign = "-" if value < 0 else ""
    value = abs(value)
    whole, rest = divmod(value.numerator, value.denominator)
    if rest == 0:
        return f"{sign}{whole}"
    digits = []
    remainder = Fraction(rest, value.denominator)
    while remainder and len(digits) < 30:
        remainder *= 10
        digit = int(remainder)
        digits.append(str(digit))
        remainder -= digit
    return f"{sign}{whole}.{''.join(digits)}"
