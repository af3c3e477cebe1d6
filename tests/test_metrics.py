import math

import pytest

from humaneval_x.metrics import mean_pass_at_k, pass_at_k


def comb_pass_at_k(n, c, k):
    return 1 - math.comb(n - c, k) / math.comb(n, k)


@pytest.mark.parametrize("n,c,k,expected", [
    (1, 1, 1, 1.0),
    (1, 0, 1, 0.0),
    (10, 3, 1, 0.3),            # pass@1 = c/n
    (5, 2, 2, 1 - 3 / 10),      # 1 - C(3,2)/C(5,2) = 0.7
    (4, 1, 2, 0.5),             # 1 - C(3,2)/C(4,2) = 1 - 3/6
    (200, 0, 100, 0.0),
    (200, 101, 100, 1.0),       # n - c < k
    (20, 1, 10, 0.5),           # 1 - C(19,10)/C(20,10) = 10/20
])
def test_hand_computed(n, c, k, expected):
    assert pass_at_k(n, c, k) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("n,c,k", [(200, 13, 1), (200, 13, 10), (200, 13, 100), (200, 150, 10), (7, 3, 5)])
def test_matches_binomial_formula(n, c, k):
    assert pass_at_k(n, c, k) == pytest.approx(comb_pass_at_k(n, c, k), rel=1e-9)


def test_k_larger_than_n_is_refused():
    with pytest.raises(ValueError):
        pass_at_k(5, 1, 10)
    with pytest.raises(ValueError):
        pass_at_k(5, 6, 1)


def test_mean_reports_only_k_le_n():
    out = mean_pass_at_k([(10, 5), (10, 0)], ks=(1, 10, 100))
    assert set(out) == {"pass@1", "pass@10"}
    assert out["pass@1"] == pytest.approx(0.25)
    assert out["pass@10"] == pytest.approx(0.5)
    assert mean_pass_at_k([], ks=(1,)) == {}
