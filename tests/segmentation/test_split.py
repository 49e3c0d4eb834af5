"""Splitting a thresholded component at its peaks (segmentation/_peaks.py, lesions.py).

A node joined at threshold to a hotter organ must be split from it, not dropped with it
(issue 10); a lobulated tumour must stay one lesion with the contour it had before.
"""

from __future__ import annotations

import numpy as np
import pytest

from nenscope.core import ImageVolume, Unit
from nenscope.segmentation import DetectionSettings, threshold_lesions
from nenscope.segmentation.lesions import reunite_split
from tests.factories import blur, grid, sphere_mask


def _image(spheres: list[tuple[tuple[float, float, float], float, float]]) -> ImageVolume:
    """A 4 mm grid at SUV 0.5 with uniform spheres (centre, radius, SUV), 7 mm FWHM blur."""
    base = grid((40, 40, 40), (4.0, 4.0, 4.0), fill=0.5)
    values = np.asarray(base.array).copy()
    for centre, radius, suv in spheres:
        values[sphere_mask(base, centre, radius)] = suv
    return blur(ImageVolume(array=values, affine=base.affine, unit=Unit.SUV_BW), 7.0)


# An "organ" (radius 20 mm, SUV 40) and a node (radius 8 mm, SUV 15) 6 mm apart: one
# component at SUV 2.5 after the blur.
ORGAN = ((60.0, 80.0, 80.0), 20.0, 40.0)
NODE = ((94.0, 80.0, 80.0), 8.0, 15.0)


def test_node_joined_to_an_organ_is_split_off() -> None:
    suv = _image([ORGAN, NODE])
    whole = threshold_lesions(suv)
    # Without splitting: one component, contoured around the organ's peak; the node is lost.
    assert whole.n_lesions == 1
    assert whole.groups == ()
    split = threshold_lesions(suv, split=True)
    assert split.n_lesions == 2
    (group,) = split.groups
    organ_label, node_label = (label for label, _ in group.members)
    node_peak = suv.lps_to_index(np.array([NODE[0]]))[0].round().astype(int)
    assert split.labels[tuple(node_peak)] == node_label
    # The organ is identified (dropped as physiological): the node stays, with its own contour.
    labels, kept = reunite_split(split, [node_label], organs={organ_label})
    assert kept == [node_label]
    assert labels[tuple(node_peak)] == node_label
    # Dropped for a shape or uptake rule instead (not an organ): the node goes with it.
    _, kept = reunite_split(split, [node_label], organs=set())
    assert kept == []
    # Both kept (a hot tumour beside a node): the hottest part has the contour it had whole,
    # and the node, outside that contour, stays a lesion of its own.
    labels, kept = reunite_split(split, [organ_label, node_label])
    assert kept == [organ_label, node_label]
    np.testing.assert_array_equal(labels == organ_label, whole.labels == 1)
    assert labels[tuple(node_peak)] == node_label


def test_lobulated_tumour_stays_one_lesion() -> None:
    # Two overlapping lobes of one tumour (SUV 10 and 9, centres 20 mm apart, radius 12 mm):
    # kept whole, it is one lesion with the contour it had without splitting.
    suv = _image([((70.0, 80.0, 80.0), 12.0, 10.0), ((90.0, 80.0, 80.0), 12.0, 9.0)])
    split = threshold_lesions(suv, split=True)
    whole = threshold_lesions(suv)
    labels, kept = reunite_split(split, list(range(1, split.n_lesions + 1)))
    assert len(kept) == whole.n_lesions == 1
    np.testing.assert_array_equal(labels > 0, whole.labels > 0)


def test_two_lesions_joined_at_threshold_are_both_kept() -> None:
    # Two spheres 4 mm apart (SUV 10 and 9): joined at SUV 2.5 after the blur. Without
    # splitting the cooler one was lost inside the hotter one's component.
    suv = _image([((70.0, 80.0, 80.0), 12.0, 10.0), ((98.0, 80.0, 80.0), 12.0, 9.0)])
    assert threshold_lesions(suv).n_lesions == 1
    split = threshold_lesions(suv, split=True)
    _, kept = reunite_split(split, list(range(1, split.n_lesions + 1)))
    assert len(kept) == 2


def test_split_can_be_switched_off() -> None:
    suv = _image([ORGAN, NODE])
    off = threshold_lesions(suv, settings=DetectionSettings(split_prominence=0.0), split=True)
    assert off.n_lesions == 1
    with pytest.raises(ValueError, match="split_prominence"):
        DetectionSettings(split_prominence=1.0)
