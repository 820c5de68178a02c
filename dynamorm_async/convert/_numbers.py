"""DynamoDB numbers: 38 significant digits, exponents -130..125, no NaN or infinity.

Numbers travel as strings. Encoding checks the limits here, so a number DynamoDB
would reject, or worse round, never leaves the process; decoding keeps the exact
value (an ``int`` field gets an ``int``, a ``Decimal`` field every digit).
"""

from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation

from dynamorm_async.errors import ConversionError

__all__ = [
    "decode_decimal",
    "decode_float",
    "decode_int",
    "encode_decimal",
    "encode_float",
    "encode_int",
]

MAX_DIGITS = 38
# DynamoDB's range: 1E-130 <= |n| <= 9.9999999999999999999999999999999999999E+125.
MIN_ADJUSTED_EXP = -130
MAX_ADJUSTED_EXP = 125
# Below this every int has at most 38 digits: the common case skips the digit count.
_FAST_INT_LIMIT = 10**MAX_DIGITS


def encode_int(value: object) -> str:
    """The wire string of an ``int``, checked against DynamoDB's limits."""
    if type(value) is not int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConversionError(
                f"expected an int, got {type(value).__name__} {value!r}", value=value
            )
        value = int(value)
    if -_FAST_INT_LIMIT < value < _FAST_INT_LIMIT:
        return str(value)
    return _checked(Decimal(value), value)


def encode_float(value: object) -> str:
    """The wire string of a ``float``: the shortest text that reads back as the same float."""
    if not isinstance(value, float):
        if isinstance(value, int) and not isinstance(value, bool):
            return encode_int(value)
        raise ConversionError(
            f"expected a float, got {type(value).__name__} {value!r}", value=value
        )
    if not math.isfinite(value):
        raise ConversionError(
            f"DynamoDB numbers cannot be NaN or infinite, got {value!r}", value=value
        )
    if value == 0.0:
        return "0"
    # repr() is the shortest round-tripping form (at most 17 digits, within the limit);
    # without an exponent it is already what str(Decimal(...)) would give.
    text = repr(value)
    if "e" not in text:
        return text
    return _checked(Decimal(text), value)


def encode_decimal(value: object) -> str:
    """The wire string of a ``Decimal``, refusing anything DynamoDB would round or reject."""
    if not isinstance(value, Decimal):
        if isinstance(value, int) and not isinstance(value, bool):
            return encode_int(value)
        raise ConversionError(
            f"expected a Decimal, got {type(value).__name__} {value!r}", value=value
        )
    if not value.is_finite():
        raise ConversionError(
            f"DynamoDB numbers cannot be NaN or infinite, got {value!r}", value=value
        )
    return _checked(value, value)


def _checked(number: Decimal, original: object) -> str:
    if not number:
        return "0"
    text = str(number)
    if len(text) <= MAX_DIGITS and MIN_ADJUSTED_EXP <= number.adjusted() <= MAX_ADJUSTED_EXP:
        return text  # fewer characters than the limit of digits: within it
    # DynamoDB trims leading and trailing zeros; what is left must fit in 38 digits.
    # (Decimal.normalize() would round to the context's precision: count by hand.)
    digits = number.as_tuple().digits
    # Most numbers fit even with their zeros: count those only when it matters.
    significant = len(digits) if len(digits) <= MAX_DIGITS else _significant(digits)
    if significant > MAX_DIGITS:
        raise ConversionError(
            f"{original!r} has {significant} significant digits; DynamoDB keeps at most "
            f"{MAX_DIGITS} and would lose precision",
            value=original,
        )
    adjusted = number.adjusted()
    if not MIN_ADJUSTED_EXP <= adjusted <= MAX_ADJUSTED_EXP:
        raise ConversionError(
            f"{original!r} is out of DynamoDB's number range (1E-130 to 9.99E+125 in magnitude)",
            value=original,
        )
    return str(number)


def _significant(digits: tuple[int, ...]) -> int:
    """The count of `digits` without leading and trailing zeros."""
    significant = len(digits)
    for digit in reversed(digits):
        if digit:
            break
        significant -= 1
    for digit in digits:
        if digit:
            break
        significant -= 1
    return significant


def decode_int(text: str) -> int:
    """An ``int`` from a wire number; a fractional number is an error, not a truncation."""
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ConversionError(f"{text!r} is not a number", value=text) from None
    if not number.is_finite() or number != number.to_integral_value():
        raise ConversionError(f"{text!r} is not an integer", value=text)
    return int(number)


def decode_float(text: str) -> float:
    """A ``float`` from a wire number."""
    try:
        number = float(text)
    except (TypeError, ValueError):
        raise ConversionError(f"{text!r} is not a number", value=text) from None
    if not math.isfinite(number):
        raise ConversionError(f"{text!r} is not a finite number", value=text)
    return number


def decode_decimal(text: str) -> Decimal:
    """A ``Decimal`` from a wire number, every digit kept."""
    try:
        number = Decimal(text)
    except (InvalidOperation, TypeError, ValueError):
        raise ConversionError(f"{text!r} is not a number", value=text) from None
    if not number.is_finite():
        raise ConversionError(f"{text!r} is not a finite number", value=text)
    return number
