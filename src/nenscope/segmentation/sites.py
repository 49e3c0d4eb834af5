"""Site of a lesion (organ or body region) from the anatomy found on the images (pure).

:func:`lesion_site` names where a lesion lies, first by the organ masks that hold most of its
voxels (external organ masks, e.g. ``--organs``, then the anatomy's liver, spleen, lungs,
bone, brain, mediastinum), then by its position between the landmarks of
:class:`~nenscope.segmentation.anatomy.Anatomy`: head and neck (cervical nodal stations),
thorax (chest wall / axilla), abdomen (retroperitoneum / para-aortic where posterior and
within 40 mm of the midline, else peritoneum / mesentery), pelvis, and the limbs (below the
bladder, or a slice whose body falls apart into separate parts). The liver lobe is split at
the midline (an approximation of Cantlie's line, which lies a little right of it); the
pancreas is split into head, body and tail by thirds of its left-right extent when a
pancreas mask is given. A field of view too short to locate organs gives no site.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt
from scipy import ndimage

from nenscope.core import ImageVolume
from nenscope.segmentation.anatomy import Anatomy
from nenscope.segmentation.organs import lps_axes

__all__ = ["MAJORITY", "SITE_CODES", "lesion_site", "site_code"]

LIMB_BELOW_BLADDER_MM = 50.0
"""Lesions centred this far below the bladder's centre lie in the thighs (pelvic floor)."""

UPPER_LIMB_LATERAL_MM = 120.0
"""An arm lies at least this far from the midline (raised arms beside the head included)."""

NECK_ABOVE_DOME_MM = 180.0
"""Without lungs found: the neck starts this far above the liver dome (the lung apex)."""

MAJORITY = 0.5
"""An organ mask names the site when it holds at least this fraction of the lesion."""

_MASK_SITES: tuple[tuple[str, str], ...] = (
    ("brain", "brain"),
    ("bone", "bone"),
    ("lungs", "lung"),
    ("myocardium", "heart"),
    ("mediastinum", "mediastinum / hilum (mediastinal and hilar nodal stations)"),
)


def _side(x: float, midline: float) -> str:
    return "left" if x > midline else "right"


def lesion_site(
    suv: ImageVolume,
    region: npt.NDArray[np.bool_],
    anatomy: Anatomy | None,
    *,
    organs: Mapping[str, npt.NDArray[np.bool_]] | None = None,
) -> str | None:
    """Name the organ or body region a lesion lies in.

    Parameters
    ----------
    suv
        The SUV image (grid of ``region`` and the masks).
    region
        Bool mask of the lesion.
    anatomy
        Result of :func:`~nenscope.segmentation.anatomy.locate_anatomy`, or None.
    organs
        Organ masks by name (external masks; ``liver``, ``spleen``, ``pancreas`` ...).

    Returns
    -------
    str or None
        The site, or None when the lesion is empty or nothing is known.
    """
    if not region.any():
        return None
    x, y, z = (np.broadcast_to(a, suv.shape)[region] for a in lps_axes(suv))
    cx, cy, cz = float(x.mean()), float(y.mean()), float(z.mean())
    midline = 0.0 if anatomy is None else anatomy.midline_x_mm
    total = float(region.sum())
    for name, mask in (organs or {}).items():
        if float(np.count_nonzero(mask & region)) < MAJORITY * total:
            continue
        return _organ_site(suv, name, mask, cx, midline)
    if anatomy is None or anatomy.short:
        return None
    for name, label in _MASK_SITES:
        found = anatomy.mask(name)
        if found is not None and float(np.count_nonzero(found & region)) >= MAJORITY * total:
            if name == "lungs":
                return f"lung, {_side(cx, midline)}"
            return label
    return _region_site(suv, anatomy, cx, cy, cz, midline)


def _organ_site(
    suv: ImageVolume, name: str, mask: npt.NDArray[np.bool_], cx: float, midline: float
) -> str:
    if name == "liver":
        # Left lobe left of the midline (falciform ligament), right lobe right of it.
        return f"liver, {_side(cx, midline)} lobe"
    if name == "pancreas":
        xs = np.broadcast_to(lps_axes(suv)[0], suv.shape)[mask]
        lo, hi = float(xs.min()), float(xs.max())
        third = (hi - lo) / 3.0
        # LPS: the head lies on the patient's right (smaller x), the tail on the left.
        part = "head" if cx < lo + third else "body" if cx < lo + 2 * third else "tail"
        return f"pancreas, {part}"
    return name.replace("_", " ")


def _region_site(  # noqa: C901 - one branch per body region
    suv: ImageVolume, anatomy: Anatomy, cx: float, cy: float, cz: float, midline: float
) -> str:
    marks = anatomy.landmarks_z_mm
    side = _side(cx, midline)
    if "bladder" in marks and cz < marks["bladder"] - LIMB_BELOW_BLADDER_MM:
        return f"{side} lower limb (soft tissue)"
    dome = marks.get("diaphragm")
    lateral = abs(cx - midline)
    if _in_limb(suv, anatomy, cx, cz) and (
        (dome is not None and cz < dome) or lateral > UPPER_LIMB_LATERAL_MM
    ):
        limb = "lower limb" if dome is not None and cz < dome else "upper limb"
        return f"{side} {limb} (soft tissue)"
    if "neck" in marks and cz > marks["neck"]:
        return "head and neck"
    apex = marks.get("lung_apex")
    if apex is None and dome is not None:
        apex = dome + NECK_ABOVE_DOME_MM
    if apex is not None and cz > apex:
        return f"neck / supraclavicular, {side} (cervical nodal stations)"
    if dome is not None and cz >= dome:
        if abs(cx - midline) > 80.0:
            return f"chest wall / axilla, {side}"
        return "thorax"
    if dome is not None and cz >= dome - 300.0:
        if abs(cx - midline) < 40.0 and cy > anatomy.body_y_centre_mm - 20.0:
            return "retroperitoneum (para-aortic nodal stations)"
        return f"abdomen, {side} (peritoneum / mesentery / bowel)"
    if dome is not None:
        return f"pelvis, {side}"
    return f"{side} side of the body"


def _in_limb(suv: ImageVolume, anatomy: Anatomy, cx: float, cz: float) -> bool:
    """Whether the lesion's slice holds the body in separate parts and it is in a lateral one."""
    k = round(float(np.linalg.solve(suv.affine, [cx, 0.0, cz, 1.0])[0]))
    k = min(max(k, 0), suv.shape[0] - 1)
    labels, n = ndimage.label(anatomy.body[k])
    if n < 2:
        return False
    sizes = np.bincount(labels.ravel())
    sizes[0] = 0
    big = np.flatnonzero(sizes >= 0.15 * sizes.max())
    if big.size < 2:
        return False
    # The largest part on the midline is the trunk unless the parts are alike (two thighs).
    xs = np.broadcast_to(lps_axes(suv)[0][0], labels.shape)
    centres = [float(xs[labels == b].mean()) for b in big]
    crosses = [
        b for b, c in zip(big, centres, strict=True) if abs(c - anatomy.midline_x_mm) < 40.0
    ]
    if not crosses:
        return True  # two legs: every part is a limb
    trunk = max(crosses, key=lambda b: sizes[b])
    trunk_x = xs[labels == trunk]
    return not (float(trunk_x.min()) <= cx <= float(trunk_x.max()))


SITE_CODES: tuple[tuple[str, str, str], ...] = (
    ("liver", "10200004", "Liver structure"),
    ("pancreas", "15776009", "Pancreatic structure"),
    ("spleen", "78961009", "Splenic structure"),
    ("kidney", "64033007", "Kidney structure"),
    ("lung", "39607008", "Lung structure"),
    ("bone", "272673000", "Bone structure"),
    ("brain", "12738006", "Brain structure"),
    ("heart", "80891009", "Heart structure"),
    ("mediastinum", "72410000", "Mediastinal structure"),
    ("retroperitoneum", "82849001", "Retroperitoneal structure"),
    ("head and neck", "774007", "Structure of head and/or neck"),
    ("neck", "45048000", "Neck structure"),
    ("chest wall", "78904004", "Chest wall structure"),
    ("thorax", "51185008", "Thoracic structure"),
    ("abdomen", "113345001", "Abdominal structure"),
    ("pelvis", "12921003", "Pelvic structure"),
    ("lower limb", "61685007", "Lower limb structure"),
    ("upper limb", "53120007", "Upper limb structure"),
)
"""Site keyword → SNOMED CT anatomic location (value, meaning), first match wins."""


def site_code(site: str | None) -> tuple[str, str] | None:
    """SNOMED CT code (value, meaning) of a site named by :func:`lesion_site`, or None.

    Examples
    --------
    >>> site_code("liver, right lobe")
    ('10200004', 'Liver structure')
    >>> site_code(None) is None
    True
    """
    if not site:
        return None
    text = site.lower()
    for keyword, value, meaning in SITE_CODES:
        if keyword in text:
            return value, meaning
    return None
