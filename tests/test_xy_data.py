"""XY pairing on time compared with a plain Python loop."""
import math
import random

import numpy as np
import pytest

from hsgui.plotting.xy_data import align, median_spacing


def loop_align(xt, xv, yt, yv, tol):
    pairs = []
    ys = sorted(zip(yt, yv), key=lambda p: p[0])
    for t, x in zip(xt, xv):
        best = None
        for ty, y in ys:
            if ty <= t:
                best = (ty, y)
        if best is None or t - best[0] > tol:
            continue
        if math.isnan(x) or math.isnan(best[1]):
            continue
        pairs.append((t, x, best[1]))
    return pairs


def as_pairs(r):
    return list(zip(r.t.tolist(), r.x.tolist(), r.y.tolist()))


def test_irregular_times_match_loop():
    rng = random.Random(15)
    xt = sorted(rng.uniform(0, 1000) for _ in range(300))
    yt = sorted(rng.uniform(0, 1000) for _ in range(200))
    xv = [rng.gauss(0, 1) for _ in xt]
    yv = [rng.gauss(0, 1) for _ in yt]
    tol = median_spacing(yt)
    r = align(xt, xv, yt, yv)
    expected = loop_align(xt, xv, yt, yv, tol)
    assert as_pairs(r) == expected
    assert r.paired == len(expected) and r.dropped == len(xt) - len(expected)
    assert 0 < r.dropped < len(xt)


def test_explicit_tolerance_matches_loop():
    xt, xv = [0, 5, 10, 15, 20], [1.0, 2.0, 3.0, 4.0, 5.0]
    yt, yv = [1, 9, 30], [10.0, 20.0, 30.0]
    r = align(xt, xv, yt, yv, tolerance=4)
    assert as_pairs(r) == loop_align(xt, xv, yt, yv, 4) == [(5, 2.0, 10.0), (10, 3.0, 20.0)]
    assert r.dropped == 3


def test_equal_timestamps_pair_one_to_one():
    t = [0, 10, 20, 30]
    r = align(t, [1, 2, 3, 4], t, [5, 6, 7, 8])
    assert as_pairs(r) == [(0, 1, 5), (10, 2, 6), (20, 3, 7), (30, 4, 8)]
    assert r.dropped == 0


def test_equal_timestamps_with_single_y_uses_exact_match():
    r = align([0, 10], [1.0, 2.0], [10], [7.0])
    assert as_pairs(r) == [(10, 2.0, 7.0)] and r.dropped == 1


@pytest.mark.parametrize("xs,ys", [(0, 5), (5, 0), (0, 0)])
def test_empty_inputs(xs, ys):
    r = align(range(xs), np.ones(xs), range(ys), np.ones(ys))
    assert r.paired == 0 and r.dropped == xs


def test_nan_values_are_dropped_and_counted():
    xt, yt = [0, 1, 2, 3], [0, 1, 2, 3]
    xv, yv = [1.0, float("nan"), 3.0, 4.0], [1.0, 2.0, float("nan"), 4.0]
    r = align(xt, xv, yt, yv)
    assert as_pairs(r) == loop_align(xt, xv, yt, yv, 1.0) == [(0, 1.0, 1.0), (3, 4.0, 4.0)]
    assert r.dropped == 2


def test_unsorted_y_is_sorted_first():
    r = align([5], [1.0], [6, 4, 0], [9.0, 8.0, 7.0], tolerance=2)
    assert as_pairs(r) == [(5, 1.0, 8.0)]


def test_bad_input_names_the_problem():
    with pytest.raises(ValueError, match="x_values"):
        align([0, 1], [1.0], [0], [1.0])
    with pytest.raises(ValueError, match="tolerance"):
        align([0], [1.0], [0], [1.0], tolerance=-1)
