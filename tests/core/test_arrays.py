"""``core.arrays.distinct`` is ``numpy.unique`` (without NaN) and does not import numpy.ma."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from nenscope.core.arrays import distinct


@pytest.mark.parametrize("case", range(20))
def test_distinct_is_numpy_unique(case: int) -> None:
    rng = np.random.default_rng(case)
    shape = tuple(int(n) for n in rng.integers(0, 6, size=int(rng.integers(1, 4))))
    ints = rng.integers(-3, 4, size=shape)
    floats = np.round(rng.normal(size=shape), 1)
    for values in (ints, floats, ints.astype(np.uint8), floats.astype(np.float32)):
        got, expected = distinct(values), np.unique(values)
        assert got.dtype == expected.dtype
        np.testing.assert_array_equal(got, expected)


def test_distinct_does_not_import_numpy_ma() -> None:
    code = (
        "import sys, numpy as np\n"
        "from nenscope.core.arrays import distinct\n"
        "assert distinct(np.array([2, 1, 2])).tolist() == [1, 2]\n"
        "print('numpy.ma' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
