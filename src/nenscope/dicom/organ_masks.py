"""Organ masks from outside (``--organs DIR``): TotalSegmentator output or any label map.

Accepted layouts:

* a **TotalSegmentator output folder** with one NIfTI file per structure, named as
  TotalSegmentator names them (``liver.nii.gz``, ``kidney_left.nii.gz``,
  ``urinary_bladder.nii.gz``, ``brain.nii.gz``, ``heart.nii.gz`` ...);
* a **multi-label NIfTI** (TotalSegmentator ``--ml``, e.g. ``segmentations.nii.gz``) whose
  label ids follow TotalSegmentator v2's ``total`` task (:data:`TOTALSEGMENTATOR_TOTAL`),
  or any label map with a **name table** beside it: ``<stem>.json`` / ``labels.json``
  (``{"1": "liver", ...}``) or ``<stem>.txt`` / ``labels.txt`` (lines ``1 liver``).

Masks are resampled onto the PET grid by nearest neighbour (TotalSegmentator works on the CT)
and renamed to nenscope's organ names (:data:`ORGAN_NAMES`): the lung lobes become ``lungs``,
the bowel segments ``bowel``, ``urinary_bladder`` becomes ``bladder``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import numpy.typing as npt

from nenscope.core import DicomImportError, GeometryError, ImageVolume, Unit
from nenscope.segmentation.resample import resample_to

__all__ = ["ORGAN_NAMES", "TOTALSEGMENTATOR_TOTAL", "read_organ_masks"]

TOTALSEGMENTATOR_TOTAL: Mapping[int, str] = {
    1: "spleen",
    2: "kidney_right",
    3: "kidney_left",
    4: "gallbladder",
    5: "liver",
    6: "stomach",
    7: "pancreas",
    8: "adrenal_gland_right",
    9: "adrenal_gland_left",
    10: "lung_upper_lobe_left",
    11: "lung_lower_lobe_left",
    12: "lung_upper_lobe_right",
    13: "lung_middle_lobe_right",
    14: "lung_lower_lobe_right",
    15: "esophagus",
    16: "trachea",
    17: "thyroid_gland",
    18: "small_bowel",
    19: "duodenum",
    20: "colon",
    21: "urinary_bladder",
    22: "prostate",
    25: "sacrum",
    51: "heart",
    52: "aorta",
    90: "brain",
    91: "skull",
}
"""Label ids of TotalSegmentator v2's ``total`` task used here (``map_to_binary.class_map``)."""

ORGAN_NAMES: Mapping[str, str] = {
    "spleen": "spleen",
    "kidney_right": "kidney_right",
    "kidney_left": "kidney_left",
    "gallbladder": "gallbladder",
    "liver": "liver",
    "stomach": "bowel",
    "pancreas": "pancreas",
    "adrenal_gland_right": "adrenal_right",
    "adrenal_gland_left": "adrenal_left",
    "lung_upper_lobe_left": "lungs",
    "lung_lower_lobe_left": "lungs",
    "lung_upper_lobe_right": "lungs",
    "lung_middle_lobe_right": "lungs",
    "lung_lower_lobe_right": "lungs",
    "lung_left": "lungs",
    "lung_right": "lungs",
    "esophagus": "esophagus",
    "thyroid_gland": "thyroid",
    "small_bowel": "bowel",
    "duodenum": "bowel",
    "colon": "bowel",
    "urinary_bladder": "bladder",
    "heart": "heart",
    "heart_myocardium": "heart",
    "brain": "brain",
    "aorta": "aorta",
}
"""TotalSegmentator structure → nenscope organ name (structures not listed are not read)."""

_NIFTI = re.compile(r"^(?P<stem>.+?)\.nii(\.gz)?$")


def _stem(path: Path) -> str | None:
    match = _NIFTI.match(path.name)
    return None if match is None else match.group("stem")


def read_organ_masks(
    path: Path, reference: ImageVolume, *, names: Mapping[int, str] | None = None
) -> dict[str, npt.NDArray[np.bool_]]:
    """Read organ masks and put them on ``reference``'s grid (module docstring for layouts).

    Parameters
    ----------
    path
        TotalSegmentator output folder, or a label-map NIfTI file.
    reference
        The PET (SUV) grid.
    names
        Label id → structure name for a label map; default: a name table beside the file,
        else TotalSegmentator v2 ``total``.

    Returns
    -------
    dict
        nenscope organ name → bool mask (z, y, x) on the reference grid; only non-empty masks.

    Raises
    ------
    DicomImportError
        If the path holds no NIfTI file with a known structure name or label.
    """
    path = Path(path)
    if not path.exists():
        raise DicomImportError(f"--organs {path}: no such file or folder.")
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if _stem(p) is not None)
        per_organ = [p for p in files if _stem(p) in ORGAN_NAMES]
        if per_organ:
            return _per_organ_files(per_organ, reference)
        if len(files) == 1:
            return _label_map(files[0], reference, names)
        raise DicomImportError(
            f"--organs {path}: no NIfTI file named as a TotalSegmentator structure "
            f"(e.g. liver.nii.gz, kidney_left.nii.gz) and not a single label-map file; found "
            f"{[p.name for p in files][:10]}. Give TotalSegmentator's output folder or a label "
            "map with a name table (labels.json)."
        )
    return _label_map(path, reference, names)


def _onto(image: ImageVolume, reference: ImageVolume, what: Path) -> npt.NDArray[np.int64]:
    on_grid = resample_to(image, reference, order=0, cval=0.0)
    values = np.asarray(on_grid.array)
    if not np.all(np.isfinite(values)):
        raise DicomImportError(f"{what}: non-finite values in an organ mask.")
    return np.rint(values).astype(np.int64)


def _per_organ_files(
    files: list[Path], reference: ImageVolume
) -> dict[str, npt.NDArray[np.bool_]]:
    from nenscope.dicom.nifti import read_nifti  # nibabel: only when masks are given

    out: dict[str, npt.NDArray[np.bool_]] = {}
    for file in files:
        stem = _stem(file)
        assert stem is not None
        mask = _onto(read_nifti(file, unit=Unit.LABEL), reference, file) > 0
        if not mask.any():
            continue
        name = ORGAN_NAMES[stem]
        out[name] = out[name] | mask if name in out else mask
    return out


def _name_table(path: Path) -> dict[int, str] | None:
    stem = _stem(path) or path.stem
    for candidate in (
        path.with_name(f"{stem}.json"),
        path.with_name("labels.json"),
        path.with_name(f"{stem}.txt"),
        path.with_name("labels.txt"),
    ):
        if not candidate.is_file():
            continue
        text = candidate.read_text(encoding="utf-8")
        try:
            if candidate.suffix == ".json":
                return {int(k): str(v) for k, v in json.loads(text).items()}
            table = {}
            for line in text.splitlines():
                if line.strip() and not line.lstrip().startswith("#"):
                    number, name = line.split(maxsplit=1)
                    table[int(number)] = name.strip()
            return table
        except (ValueError, AttributeError) as err:
            raise DicomImportError(
                f"{candidate}: name table not readable ({err}); expected JSON "
                '{"1": "liver", ...} or lines "1 liver".'
            ) from err
    return None


def _label_map(
    path: Path, reference: ImageVolume, names: Mapping[int, str] | None
) -> dict[str, npt.NDArray[np.bool_]]:
    from nenscope.dicom.nifti import read_nifti  # nibabel: only when masks are given

    table = names or _name_table(path) or TOTALSEGMENTATOR_TOTAL
    image = read_nifti(path, unit=Unit.LABEL)
    raw = np.asarray(image.array)
    if not np.array_equal(raw, np.round(raw)):
        raise DicomImportError(f"{path}: a label map holds integers; found fractional values.")
    values = _onto(image, reference, path)
    out: dict[str, npt.NDArray[np.bool_]] = {}
    for label in (int(v) for v in np.unique(values) if v != 0):
        structure = table.get(label)
        if structure is None or structure not in ORGAN_NAMES:
            continue
        name = ORGAN_NAMES[structure]
        mask = values == label
        out[name] = out[name] | mask if name in out else mask
    if not out:
        raise GeometryError(
            f"{path}: no known organ label on the PET grid (labels "
            f"{sorted(int(v) for v in np.unique(raw) if v != 0)[:20]}); check the name table "
            "and that the label map lies in the PET's frame of reference."
        )
    return out
