"""Post-test probability (knowledge/bayes.py)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nenscope.core.errors import ScenarioError
from nenscope.knowledge.bayes import compute_post_test_probability


@pytest.mark.parametrize(
    ("p", "lr", "expected"),
    [(0.3, 1.0, 0.3), (0.5, 3.0, 0.75), (0.0, 9.0, 0.0), (1.0, 0.1, 1.0), (0.3, 5.1, 2.19 / 3.19)],
    ids=["lr1", "odds1x3", "zero", "one", "clinical-facts-example"],
)
def test_post_test_by_hand(p: float, lr: float, expected: float) -> None:
    # By hand: odds 1 x 3 = 3 -> 0.75.
    # clinical-facts §4: 0.3 -> odds 0.4286 x 5.1 = 2.186 -> 0.686 (text rounds to 2.19).
    np.testing.assert_allclose(
        compute_post_test_probability(p, lr), expected, rtol=2e-3 if lr == 5.1 else 1e-12
    )


@given(p=st.floats(0.01, 0.99), lr=st.floats(0.01, 100))
def test_positive_lr_above_one_raises_probability(p: float, lr: float) -> None:
    post = compute_post_test_probability(p, lr)
    assert 0.0 <= post <= 1.0
    if lr > 1.0:
        assert post >= p
    if lr < 1.0:
        assert post <= p


@pytest.mark.parametrize(("p", "lr"), [(1.2, 2.0), (0.5, -1.0), (0.5, float("inf"))])
def test_invalid_inputs_refused(p: float, lr: float) -> None:
    with pytest.raises(ScenarioError):
        compute_post_test_probability(p, lr)
