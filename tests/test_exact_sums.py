"""Exact sums against Fraction sums built one value at a time, and math.fsum for the rounding."""

import math
import pickle
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from blindspot import exact_sums as es_module
from blindspot.exact_sums import SCALE, SQUARE_SCALE, ExactSums, exact_square_sums, exact_sums

SMALLEST_SUBNORMAL = 5e-324
SMALLEST_NORMAL = 2.2250738585072014e-308
EDGES = [0.0, -0.0, SMALLEST_SUBNORMAL, -SMALLEST_SUBNORMAL, SMALLEST_NORMAL, -SMALLEST_NORMAL,
         SMALLEST_NORMAL - SMALLEST_SUBNORMAL, 1.7976931348623157e308, -1.7976931348623157e308, 1.0,
         -1.0, 1.0 - 2.0 ** -53, 2.0 ** 53 + 2.0, 1e-300, -1e300]


def scaled(mantissa: float, exponent: int) -> float:
    return math.ldexp(mantissa, exponent)


# Any finite double (hypothesis favours edges: zeros, subnormals, the largest), and doubles of a
# random mantissa at any exponent, so huge and tiny values mix in one sum.
ANY = st.floats(allow_nan=False, allow_infinity=False)
MIXED = st.one_of(ANY, st.sampled_from(EDGES),
                  st.builds(scaled, st.floats(-1, 1, allow_nan=False), st.integers(-1074, 1023)))
# fsum raises on an intermediate overflow: at most 64 values below 1e300 never reach it
BOUNDED = st.one_of(st.floats(-1e300, 1e300), st.sampled_from(EDGES[:7]),
                    st.builds(scaled, st.floats(-1, 1, allow_nan=False), st.integers(-1074, 996)))
# squares must stay finite doubles
SQUARABLE = st.one_of(st.floats(-1e154, 1e154), st.sampled_from(EDGES[:7]),
                      st.builds(scaled, st.floats(-1, 1, allow_nan=False), st.integers(-1074, 511)))


def fraction_sum(values) -> Fraction:
    """The oracle: the exact sum, one value at a time in pure Python."""
    total = Fraction(0)
    for v in values:
        total += Fraction(float(v))
    return total


@settings(max_examples=300)
@given(st.lists(MIXED, max_size=80))
def test_the_sum_is_the_fraction_sum(values):
    sums = exact_sums(np.array(values, dtype=np.float64))
    want = fraction_sum(values)
    assert sums.scale == SCALE and len(sums.units) == 1
    assert sums.fraction(0) == want
    assert Fraction(sums.units[0], 2 ** 1074) == want


@settings(max_examples=300)
@given(st.lists(BOUNDED, max_size=64))
def test_floats_is_the_correctly_rounded_sum_as_fsum(values):
    got = exact_sums(np.array(values, dtype=np.float64)).floats()
    want = math.fsum(values)
    assert got.shape == (1,) and got.dtype == np.float64
    # bit for bit; an exact zero is +0.0 in both
    assert got[0].tobytes() == np.float64(want).tobytes()
    assert got[0] == float(fraction_sum(values))


@settings(max_examples=200)
@given(st.lists(MIXED, min_size=1, max_size=60), st.lists(st.integers(0, 60), max_size=6), st.randoms())
def test_any_split_merged_in_any_order_is_the_whole(values, cuts, random):
    x = np.array(values, dtype=np.float64)
    bounds = sorted({0, len(x), *(c % (len(x) + 1) for c in cuts)})
    parts = [exact_sums(x[a:b]) for a, b in zip(bounds, bounds[1:])]
    random.shuffle(parts)
    merged = ExactSums.zeros(1)
    for part in parts:
        merged = merged + part
    assert merged == exact_sums(x)


@settings(max_examples=200)
@given(st.lists(MIXED, max_size=60), st.randoms())
def test_a_permutation_gives_the_same_sum_bit_for_bit(values, random):
    shuffled = list(values)
    random.shuffle(shuffled)
    a, b = exact_sums(np.array(values, dtype=np.float64)), exact_sums(np.array(shuffled, dtype=np.float64))
    assert a == b and a.floats().tobytes() == b.floats().tobytes()


@settings(max_examples=300)
@given(st.lists(SQUARABLE, max_size=60))
def test_square_sums_are_the_exact_squares(values):
    sums = exact_square_sums(np.array(values, dtype=np.float64))
    assert sums.scale == SQUARE_SCALE
    assert sums.fraction(0) == sum((Fraction(v) ** 2 for v in values), Fraction(0))


def test_squares_of_subnormals_are_exact_where_rounded_squares_vanish():
    x = np.array([SMALLEST_SUBNORMAL, 3e-200, -SMALLEST_NORMAL])
    assert (x * x)[:2].tolist() == [0.0, 0.0]
    assert exact_square_sums(x).fraction(0) == sum(Fraction(v) ** 2 for v in x.tolist())


@settings(max_examples=100)
@given(st.lists(st.tuples(MIXED, MIXED, SQUARABLE), max_size=40))
def test_each_column_is_summed_on_its_own(rows):
    x = np.array(rows, dtype=np.float64).reshape(len(rows), 3)
    sums = exact_sums(x)
    assert sums == ExactSums(tuple(exact_sums(x[:, j]).units[0] for j in range(3)))
    assert [sums.fraction(j) for j in range(3)] == [fraction_sum(x[:, j]) for j in range(3)]
    assert exact_square_sums(x[:, 2:]).fraction(0) == sum((Fraction(float(v)) ** 2 for v in x[:, 2]), Fraction(0))


@pytest.mark.parametrize("cells", [1, 2, 3, 7])
def test_chunks_add_up_to_the_whole(monkeypatch, cells):
    x = np.array(EDGES * 3, dtype=np.float64).reshape(-1, 3)
    whole, whole_squares = exact_sums(x), exact_square_sums(np.clip(x, -1e150, 1e150))
    monkeypatch.setattr(es_module, "_CHUNK_CELLS", cells)
    assert exact_sums(x) == whole
    assert exact_square_sums(np.clip(x, -1e150, 1e150)) == whole_squares


def test_a_full_chunk_of_largest_mantissas_stays_exact():
    # every limb at its largest: the bound on a bin's float64 total is met, not exceeded
    n = (1 << 20) + 3
    top = 1.0 - 2.0 ** -53  # mantissa 2**53 - 1
    x = np.full(n, top)
    x[::2] = -np.nextafter(2.0, 0)  # also 53 one bits, negative
    negatives = (n + 1) // 2
    want = (n - negatives) * Fraction(top) - negatives * Fraction(float(np.nextafter(2.0, 0)))
    assert exact_sums(x).fraction(0) == want
    assert exact_square_sums(x).fraction(0) == (n - negatives) * Fraction(top) ** 2 + negatives * Fraction(
        float(np.nextafter(2.0, 0))) ** 2


def test_empty_input_sums_to_zero():
    assert exact_sums([]) == ExactSums.zeros(1) == ExactSums((0,))
    assert exact_sums(np.empty((0, 4))) == ExactSums.zeros(4)
    assert exact_square_sums(np.empty((0, 2))) == ExactSums.zeros(2, SQUARE_SCALE)
    assert exact_sums(np.empty((5, 0))) == ExactSums.zeros(0)
    assert exact_sums([]).floats().tobytes() == np.zeros(1).tobytes()


def test_non_finite_values_are_refused_and_counted():
    with pytest.raises(ValueError, match=r"exact_sums: 2 of 4 values are not finite \(NaN or infinite\)"):
        exact_sums([1.0, np.nan, np.inf, 2.0])
    with pytest.raises(ValueError, match=r"exact_square_sums: 1 of 6 values are not finite"):
        exact_square_sums(np.array([[1.0, 2.0], [-np.inf, 0.0], [3.0, 4.0]]))
    with pytest.raises(ValueError, match=r"1 of 2 values have a square beyond the largest double"):
        exact_square_sums([1e155, 1e154])
    with pytest.raises(ValueError, match=r"shape \(n,\) or \(n, m\)"):
        exact_sums(np.zeros((2, 2, 2)))


def test_merging_different_widths_is_refused_and_scales_meet_exactly():
    with pytest.raises(ValueError, match="cannot merge sums of 2 columns with sums of 3"):
        ExactSums.zeros(2) + ExactSums.zeros(3)
    x = [0.1, SMALLEST_SUBNORMAL, -7.5]
    mixed = exact_sums(x) + exact_square_sums(x)
    assert mixed.scale == SQUARE_SCALE
    assert mixed.fraction(0) == fraction_sum(x) + sum(Fraction(v) ** 2 for v in x)
    with pytest.raises(ValueError, match="not whole multiples"):
        exact_square_sums(x).scale_to(SCALE)


def test_a_sum_beyond_the_largest_double_rounds_to_infinity():
    big = 1.7976931348623157e308
    sums = exact_sums(np.array([[big, -big], [big, -big]]))
    assert sums.fraction(0) == 2 * Fraction(big)
    assert sums.floats().tolist() == [math.inf, -math.inf]


def test_pickling_round_trips():
    sums = exact_sums(np.array([[1e300, SMALLEST_SUBNORMAL], [-0.5, 3.0]]))
    again = pickle.loads(pickle.dumps(sums))
    assert again == sums and again.floats().tobytes() == sums.floats().tobytes()
    assert len(pickle.dumps(sums)) < 1000
