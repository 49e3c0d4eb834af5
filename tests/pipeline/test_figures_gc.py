"""The report's figures are drawn with the cycle collector paused, and it is restored after.

Issue 10 item 6: matplotlib's many small objects made full collections walk the whole
analysis's objects while the figures were drawn.
"""

from __future__ import annotations

import gc
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from nenscope.core.geometry import ImageVolume
from nenscope.core.units import Unit
from nenscope.pipeline import outputs


def _suv() -> ImageVolume:
    return ImageVolume(
        array=np.zeros((4, 5, 6), dtype=np.float32),
        affine=np.eye(4),
        unit=Unit.SUV_BW,
        frame_of_reference_uid="1.2.3",
    )


def test_figures_drawn_with_the_collector_paused_and_restored(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[bool] = []

    def mip(*args: Any, **kwargs: Any) -> bytes:
        seen.append(gc.isenabled())
        return b"png"

    monkeypatch.setattr(outputs, "render_mip_png", mip)
    report: Any = SimpleNamespace(target_ids=(), lesions=[])
    assert gc.isenabled()
    figures = outputs.draw_figures(report, _suv(), None, None, title="t")
    assert figures.mip_png == b"png"
    assert seen == [False]
    assert gc.isenabled()

    def failing(*args: Any, **kwargs: Any) -> bytes:
        raise RuntimeError("drawing failed")

    monkeypatch.setattr(outputs, "render_mip_png", failing)
    with pytest.raises(RuntimeError, match="drawing failed"):
        outputs.draw_figures(report, _suv(), None, None, title="t")
    assert gc.isenabled()
