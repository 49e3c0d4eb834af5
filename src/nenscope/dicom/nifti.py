"""NIfTI-1/2 images in and out; the only place where RAS meets LPS (STYLE 3.3).

A NIfTI affine maps voxel indices ``(i, j, k)`` of ``data[i, j, k]`` to RAS+ mm; nenscope maps
``(z, y, x)`` indices to LPS mm. The conversion is done once, here:

``array = data.transpose(2, 1, 0)`` and ``A_lps = F · A_ras · P`` with ``F = diag(-1, -1, 1, 1)``
(RAS → LPS) and ``P`` the permutation ``(z, y, x, 1) → (x, y, z, 1)``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from nenscope.core.diagnostics import warn
from nenscope.core.errors import DicomImportError, GeometryError, WorkbenchWarning
from nenscope.core.geometry import ImageVolume
from nenscope.core.units import Unit
from nenscope.dicom._nibabel_import import load_nibabel
from nenscope.dicom._nifti1_plain import read_plain_nifti1

__all__ = ["lps_to_ras_affine", "ras_to_lps_affine", "read_nifti", "write_nifti"]

_FLIP = np.diag([-1.0, -1.0, 1.0, 1.0])
"""RAS ↔ LPS: negate x and y (its own inverse)."""

_PERMUTE = np.array(
    [[0.0, 0.0, 1.0, 0.0], [0.0, 1.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0]]
)
"""Maps ``(z, y, x, 1)`` to ``(x, y, z, 1)`` = NIfTI ``(i, j, k, 1)`` (its own inverse)."""

_UNIT_TAG = re.compile(r"nenscope unit=(?P<unit>[^;]+)")
"""Marker written by :func:`write_nifti` into the header's ``descrip`` field."""


def ras_to_lps_affine(affine_ras: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Convert a NIfTI ``(i, j, k)`` → RAS affine to a nenscope ``(z, y, x)`` → LPS affine.

    Examples
    --------
    >>> a = ras_to_lps_affine(np.diag([2.0, 3.0, 4.0, 1.0]))
    >>> (a @ [1, 1, 1, 1]).tolist()  # voxel (x=1, y=1, z=1) is at RAS (2, 3, 4)
    [-2.0, -3.0, 4.0, 1.0]
    """
    return np.asarray(_FLIP @ np.asarray(affine_ras, dtype=np.float64) @ _PERMUTE)


def lps_to_ras_affine(affine_lps: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Inverse of :func:`ras_to_lps_affine`.

    Examples
    --------
    >>> a = np.diag([2.0, 3.0, 4.0, 1.0])
    >>> bool(np.allclose(lps_to_ras_affine(ras_to_lps_affine(a)), a))
    True
    """
    return np.asarray(_FLIP @ np.asarray(affine_lps, dtype=np.float64) @ _PERMUTE)


def read_nifti(path: Path, *, unit: Unit | None = None) -> ImageVolume:
    """Read a 3-D NIfTI image.

    Parameters
    ----------
    path
        ``.nii`` or ``.nii.gz`` file.
    unit
        Unit of the voxel values. NIfTI does not store one; when ``None`` the unit written by
        :func:`write_nifti` (in ``descrip``) is used, else :attr:`Unit.UNITLESS`.

    Returns
    -------
    ImageVolume
        ``(z, y, x)`` array in the file's data type after ``scl_slope``/``scl_inter`` (float
        when scaled), LPS affine, no frame of reference.

    Raises
    ------
    DicomImportError
        The file cannot be read or is not 3-D (a 4-D file with one volume is accepted).

    Warns
    -----
    WorkbenchWarning
        When neither sform nor qform is set: the position in space is unknown and nibabel's
        fallback affine (spacing only) is used.
    """
    path = Path(path)
    plain = read_plain_nifti1(path)  # the common file, without importing nibabel
    if plain is not None:
        data, affine_ras, descrip = plain.data, plain.affine, plain.descrip
        sform_code, qform_code = plain.sform_code, plain.qform_code
    else:
        data, affine_ras, header = _read_with_nibabel(path)
        descrip = header["descrip"].tobytes()
        sform_code, qform_code = int(header["sform_code"]), int(header["qform_code"])
    if data.ndim == 4 and data.shape[3] == 1:
        data = data[..., 0]
    if data.ndim != 3:
        raise DicomImportError(
            f"{path}: NIfTI image has shape {data.shape}; nenscope reads 3-D scalar images. "
            "Split 4-D files into one file per volume."
        )
    if sform_code == 0 and qform_code == 0:
        warn(
            f"{path}: NIfTI sform_code and qform_code are 0, so the image has no position in "
            "space; using spacing only (origin 0, axes along RAS).",
            WorkbenchWarning,
            stacklevel=2,
        )
    if unit is None:
        found = _UNIT_TAG.search(descrip.decode("latin-1", "replace").rstrip("\x00"))
        unit = Unit(found["unit"]) if found and found["unit"] in set(Unit) else Unit.UNITLESS
    array = np.ascontiguousarray(data.transpose(2, 1, 0))
    affine = ras_to_lps_affine(affine_ras)
    try:
        return ImageVolume(array=array, affine=affine, unit=unit)
    except GeometryError as err:
        raise DicomImportError(f"{path}: invalid NIfTI geometry: {err}") from err


def _read_with_nibabel(path: Path) -> tuple[npt.NDArray[np.generic], Any, Any]:
    """Voxels, affine (RAS) and header of any image file nibabel reads."""
    nib = load_nibabel()
    try:
        img = nib.load(path)
        data = np.asanyarray(img.dataobj)
    except (OSError, ValueError, EOFError, nib.filebasedimages.ImageFileError) as err:
        raise DicomImportError(f"Cannot read NIfTI file {path}: {err}") from err
    return data, img.affine, img.header


def write_nifti(volume: ImageVolume, path: Path) -> None:
    """Write ``volume`` as NIfTI-1 (``.nii`` or ``.nii.gz``), sform and qform code 1.

    Parameters
    ----------
    volume
        Image to write; bool arrays are stored as uint8. The unit is recorded in the
        ``descrip`` field so that :func:`read_nifti` restores it.
    path
        Destination; the suffix decides compression.

    Raises
    ------
    GeometryError
        If the path suffix is not ``.nii`` or ``.nii.gz``.

    Notes
    -----
    The qform can only hold a rotation; for a sheared affine only the sform is set.
    """
    path = Path(path)
    if not (path.name.endswith(".nii") or path.name.endswith(".nii.gz")):
        raise GeometryError(f"write_nifti needs a .nii or .nii.gz path, got {path}.")
    array = volume.array
    if array.dtype == np.bool_:
        array = array.astype(np.uint8)
    data = np.ascontiguousarray(array.transpose(2, 1, 0))
    affine = lps_to_ras_affine(volume.affine)
    nib = load_nibabel()
    img = nib.Nifti1Image(data, affine)
    img.set_sform(affine, code=1)
    rot = affine[:3, :3] / np.linalg.norm(affine[:3, :3], axis=0)
    if np.allclose(rot.T @ rot, np.eye(3), atol=1e-6):
        img.set_qform(affine, code=1)
    else:
        img.set_qform(None, code=0)
    img.header["descrip"] = f"nenscope unit={volume.unit.value}".encode()[:79]
    img.header.set_xyzt_units(xyz="mm")
    nib.save(img, path)
