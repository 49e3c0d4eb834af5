"""FFT helpers on ``numpy.fft`` (issue 9 item 6: ``scipy.fft`` costs ~0.05 s to import).

NumPy 2's ``numpy.fft`` is the same pocketfft library and keeps single precision, so only
the padded sizes (:func:`next_fast_len`) are needed from SciPy's API.
"""

from __future__ import annotations

from functools import cache

from nenscope.core.errors import InvalidArgumentError

__all__ = ["next_fast_len"]


@cache
def next_fast_len(n: int) -> int:
    """Smallest 5-smooth number (``2^a 3^b 5^c``) >= ``n``: a fast real-FFT length.

    The same as ``scipy.fft.next_fast_len(n, real=True)``.

    Examples
    --------
    >>> [next_fast_len(n) for n in (1, 7, 11, 97, 121)]
    [1, 8, 12, 100, 125]
    """
    if n < 1:
        raise InvalidArgumentError(f"next_fast_len: n must be a positive integer, got {n}")
    best = 1 << max(n - 1, 0).bit_length()  # the next power of two is 5-smooth
    p5 = 1
    while p5 < best:
        p35 = p5
        while p35 < best:
            # Smallest power of two that lifts p35 to >= n.
            quotient = -(-n // p35)
            candidate = p35 * (1 << (quotient - 1).bit_length())
            best = min(best, candidate)
            p35 *= 3
        p5 *= 5
    return best
