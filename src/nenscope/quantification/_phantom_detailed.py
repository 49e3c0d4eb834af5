"""The ``detailed`` phantom anatomy: structures a real body shows on PET (issue 10; pure data).

Used by :func:`nenscope.quantification.phantom_model.build_phantom_model` with
``anatomy="detailed"``. Each entry is inserted after a region of the basic anatomy, so the
paint order (later regions win) is explicit:

* **myocardial ring** (FDG): the left ventricle as an ellipsoidal shell about 11 mm thick
  (``myocardium`` minus ``lv_cavity``, which holds blood-pool activity); the rest of the
  ``heart`` ellipsoid is blood pool (right heart, atria), so an axial slice shows a ring;
* **brain cortex** (FDG): the ``brain`` ellipsoid at grey-matter uptake with lower-uptake
  ``white_matter`` inside, a shell about 10 mm thick;
* **urinary tract**: renal pelves (urine activity) in the medial kidneys, and ureters (tubes of
  4.5 mm radius on the psoas, lower activity: urine passes in boluses) from the pelves into
  the bladder: one connected structure;
* **bowel loops**: one meandering tube of 10 mm radius in the lower abdomen (three transverse
  loops 22 mm apart), mild uptake;
* **skeletal muscle**: the psoas muscles (tubes of 15 mm radius from the upper lumbar spine
  to the pelvis) and the thigh muscles, mild uptake;
* **uncinate process**: a 16 mm focus at the inferior pancreatic head (SSTR uptake above the
  pancreas, below the spleen).

HU: urine 5-10, bowel 15 (fluid and wall), muscle 50, myocardium 45, blood 40, grey matter 35,
white matter 28 (unenhanced CT). Uptakes are illustrative values inside the ranges reported for
normal biodistribution (module docstring of :mod:`nenscope.quantification.phantom_model`), not
measurements.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["DETAILED_INSERTIONS", "DETAILED_UPTAKE", "DETAILED_UPTAKE_OVERRIDES"]

DETAILED_UPTAKE: Mapping[str, tuple[float, float, float]] = {
    # ga68-dotatate, fdg, cu64-dotatate (SUV g/mL)
    "cortex": (0.2, 10.0, 0.3),
    "white_matter": (0.2, 3.0, 0.3),
    "myocardium": (1.8, 6.0, 1.8),
    "urine": (25.0, 20.0, 6.0),
    # Urine passes the ureters in boluses (peristalsis): lower mean activity than the pelves.
    "ureter": (12.0, 8.0, 3.0),
    "bowel": (3.0, 3.0, 3.0),
    "muscle": (0.7, 1.5, 0.8),
    "uncinate": (9.0, 1.5, 10.0),
}
"""Uptake of the structures the detailed anatomy adds."""

DETAILED_UPTAKE_OVERRIDES: Mapping[str, str] = {
    "heart": "blood",  # the heart outside the left-ventricular wall is blood pool
    "brain": "cortex",  # the brain ellipsoid is the cortex shell over the white matter
}
"""Basic regions whose uptake key changes in the detailed anatomy."""

Entry = tuple[
    str,  # name
    str,  # "organ" or "tissue"
    str,  # "ellipsoid", "cylinder" or "tube"
    tuple[float, float, float],  # centre (x, y, z) mm; unused for a tube
    tuple[float, float, float],  # semi-axes (x, y, z) mm; a tube: (r, r, r)
    float,  # HU
    str,  # uptake key
    tuple[tuple[float, float, float], ...],  # tube path (x, y, z) mm; () otherwise
]


def _mirror(
    path: tuple[tuple[float, float, float], ...],
) -> tuple[tuple[float, float, float], ...]:
    return tuple((-x, y, z) for x, y, z in path)


_URETER_RIGHT = ((-55.0, 48.0, -48.0), (-46.0, 42.0, -80.0), (-40.0, 38.0, -120.0),
                 (-33.0, 25.0, -160.0), (-22.0, -5.0, -185.0))  # fmt: skip
"""Right renal pelvis → bladder (its end lies inside the bladder: joined)."""

_PSOAS_RIGHT = ((-40.0, 65.0, -20.0), (-47.0, 57.0, -90.0), (-60.0, 42.0, -165.0))
"""Right psoas: beside the lumbar spine, running lateral and anterior into the pelvis."""

_BOWEL = ((-75.0, -45.0, -90.0), (75.0, -45.0, -90.0), (80.0, -50.0, -112.0),
          (-70.0, -50.0, -112.0), (-75.0, -45.0, -134.0), (70.0, -45.0, -134.0))  # fmt: skip
"""Small-bowel loops: three transverse passes joined at their ends."""

_NONE: tuple[tuple[float, float, float], ...] = ()
_R_URETER, _R_BOWEL, _R_PSOAS = (4.5,) * 3, (10.0,) * 3, (15.0,) * 3
_O, _E, _C, _T = "organ", "ellipsoid", "cylinder", "tube"

DETAILED_INSERTIONS: Mapping[str, tuple[Entry, ...]] = {
    "brain": (("white_matter", _O, _E, (0, 5, 500), (55, 75, 78), 28, "white_matter", _NONE),),
    "heart": (
        ("myocardium", _O, _E, (35, -30, 165), (35, 32, 42), 45, "myocardium", _NONE),
        ("lv_cavity", _O, _E, (35, -30, 165), (24, 21, 31), 40, "blood", _NONE),
    ),
    "spine": (
        ("psoas_right", _O, _T, (0, 0, 0), _R_PSOAS, 50, "muscle", _PSOAS_RIGHT),
        ("psoas_left", _O, _T, (0, 0, 0), _R_PSOAS, 50, "muscle", _mirror(_PSOAS_RIGHT)),
    ),
    "kidney_left": (
        ("ureter_right", _O, _T, (0, 0, 0), _R_URETER, 10, "ureter", _URETER_RIGHT),
        ("ureter_left", _O, _T, (0, 0, 0), _R_URETER, 10, "ureter", _mirror(_URETER_RIGHT)),
        ("renal_pelvis_right", _O, _E, (-57, 50, -40), (9, 8, 16), 5, "urine", _NONE),
        ("renal_pelvis_left", _O, _E, (57, 50, -40), (9, 8, 16), 5, "urine", _NONE),
    ),
    "pancreas": (
        ("uncinate_process", _O, _E, (-20, 18, -20), (8, 8, 8), 40, "uncinate", _NONE),
        ("bowel", _O, _T, (0, 0, 0), _R_BOWEL, 15, "bowel", _BOWEL),
    ),
    "femoral_head_left": (
        ("thigh_muscle_right", _O, _C, (-90, 0, -252), (35, 35, 14), 50, "muscle", _NONE),
        ("thigh_muscle_left", _O, _C, (90, 0, -252), (35, 35, 14), 50, "muscle", _NONE),
    ),
}
"""Detailed structures by the basic region they are painted after."""
