from __future__ import annotations

from enum import StrEnum

import pytest

from nenscope.core import OptionError, parse_option


class _Norm(StrEnum):
    BW = "bw"
    LBM = "lbm"
    BSA = "bsa"


def test_parse_option_suggests_closest() -> None:
    with pytest.raises(OptionError, match=r"Did you mean 'bw'\? Valid: bsa, bw, lbm\."):
        parse_option("bw2", _Norm, what="SUV normalisation")


def test_parse_option_case_insensitive() -> None:
    assert parse_option("LBM", _Norm) is _Norm.LBM
