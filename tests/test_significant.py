"""Every float a result holds goes through `significant`: 12 significant digits, no -0.0."""

from __future__ import annotations

import json
import math

from hypothesis import given
from hypothesis import strategies as st

from brandlens.engine.result import significant

finite = st.floats(allow_nan=False, allow_infinity=False)


def test_hand_worked_values():
    # 0.1 + 0.2 is 0.30000000000000004 in binary floating point; 12 digits give 0.3
    assert significant(0.1 + 0.2) == 0.3
    # 2/3 = 0.6666666666666666…: the 12th digit rounds up
    assert significant(2 / 3) == 0.666666666667
    # a 15-digit whole number keeps its first 12 digits: …345 rounds down to …000
    assert significant(123456789012345.0) == 123456789012000.0
    # the 13th digit decides by the binary value, not the decimal text: 0.1234567890125 is
    # stored as 0.12345678901249999…, so it rounds down
    assert significant(0.1234567890125) == 0.123456789012


def test_negative_zero_is_written_as_zero():
    assert json.dumps(significant(-0.0)) == "0.0"
    assert math.copysign(1.0, significant(-0.0)) == 1.0
    # a value too small to survive is not zero: 12 digits of 1e-300 are 1e-300
    assert significant(-1e-300) == -1e-300


@given(finite)
def test_rounding_is_idempotent_and_close(x):
    y = significant(x)
    assert significant(y) == y
    assert abs(y - x) <= abs(x) * 5e-12
    assert not (y == 0 and math.copysign(1.0, y) < 0)


@given(finite)
def test_at_most_twelve_significant_digits(x):
    mantissa = repr(significant(x)).split("e")[0].replace("-", "").replace(".", "").lstrip("0")
    assert len(mantissa.rstrip("0")) <= 12
