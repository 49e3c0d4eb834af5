"""Compact volumes for the browser viewer: a study's CT and SUV image as small NIfTI files.

A whole-body PET/CT is hundreds of DICOM files; the viewer must show its first image in under
two seconds on a 2-core machine without a GPU (WebGL on SwiftShader). What costs the browser
time is the number of voxels of the bottom layer: NiiVue draws every layer into a texture of
the bottom layer's grid. So both volumes are written on one *display grid*:

- the PET grid (slices thinner than 3 mm averaged in groups, 2×2 in-plane blocks when the
  matrix is larger than 256) when it has at most :data:`VIEW_MAX_VOXELS` voxels (a 4-5 mm
  whole-body PET usually does), so the read-out under the crosshair is the analysis's SUV;
- otherwise a grid of cubic voxels over the same field of view, as fine as the budget allows
  (the SUV is then linearly interpolated; measurements are made on the full-resolution data);

and

- ``pet.nii.gz``: SUV (g/mL) as float32 on the display grid;
- ``ct.nii.gz``: HU, int16, on the display grid (averaged over blocks of voxels first, then
  interpolated: no aliasing of the 0.7-1 mm CT);
- ``mip.png`` and ``mip.json``: the coronal maximum-intensity projection of the SUV (one pixel
  per voxel, inverse grey) and the patient coordinates of its edges (for click-to-jump).

The analysis job writes them from the study it has in memory (:func:`write_view_volumes`), so
opening a study does no work; :func:`prepare_view_volumes` reads a study for the ones
analysed before this existed. The files are written to a folder of their own through a
temporary name and renamed when complete, so a request never sees half a file. World
coordinates go through :func:`nenscope.dicom.nifti.write_nifti` (LPS → RAS), so NiiVue's
millimetres are the DICOM patient coordinates with x and y negated.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, cast

import numpy as np
import numpy.typing as npt
from matplotlib.image import imsave

from nenscope.core.geometry import ImageVolume
from nenscope.dicom.nifti import write_nifti
from nenscope.reporting.figures import coronal_mip

if TYPE_CHECKING:
    from nenscope.pipeline.model import StudyData

__all__ = [
    "VIEW_MAX_VOXELS",
    "ViewVolumes",
    "block_mean",
    "cached_view_volumes",
    "display_grid",
    "prepare_view_volumes",
    "write_view_volumes",
]

VIEW_MAX_VOXELS = 4_000_000
"""Most voxels of the display grid. Measured (benchmarks/web_viewer_first_image.py, clinical
phantom, 2 cores under load): 8.7 M voxels 3.7-9 s to the first image, 5 M 1.5-3 s."""

CT_AIR_HU = -1000.0
"""CT value outside the CT's field of view on the display grid."""

PET_MAX_MATRIX = 256
"""A PET matrix larger than this in-plane is averaged over 2×2 blocks."""

PET_MIN_SLICE_MM = 3.0
"""Thinner PET slices are averaged in groups to about this thickness (whole-body PET is
usually reconstructed at 2-4 mm; a 1.5 mm stack would double the browser's memory)."""

_LOCKS: dict[Path, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


@dataclass(frozen=True, slots=True, kw_only=True)
class ViewVolumes:
    """The files the viewer loads (``ct`` is None for a study without CT)."""

    folder: Path
    pet: Path
    ct: Path | None
    mip: Path


def block_mean(volume: ImageVolume, factors: tuple[int, int, int]) -> ImageVolume:
    """Average ``volume`` over blocks of ``factors`` (z, y, x) voxels.

    Voxels beyond the last whole block along an axis are dropped. The new voxel centre is the
    centre of its block, so the image stays where it was in patient space.

    Examples
    --------
    >>> from nenscope.core.units import Unit
    >>> v = ImageVolume(array=np.arange(16.0).reshape(1, 4, 4), affine=np.eye(4), unit=Unit.HU)
    >>> small = block_mean(v, (1, 2, 2))
    >>> small.array[0].tolist(), small.spacing_mm, small.origin_mm
    ([[2.5, 4.5], [10.5, 12.5]], (1.0, 2.0, 2.0), (0.0, 0.5, 0.5))
    """
    fz, fy, fx = factors
    if factors == (1, 1, 1):
        return volume
    z, y, x = volume.shape
    nz, ny, nx = z // fz, y // fy, x // fx
    if min(nz, ny, nx) < 1:
        return volume
    a = np.asarray(volume.array[: nz * fz, : ny * fy, : nx * fx], dtype=np.float32)
    small = a.reshape(nz, fz, ny, fy, nx, fx).mean(axis=(1, 3, 5))
    affine = volume.affine.copy()
    affine[:3, :3] = volume.affine[:3, :3] * np.array([fz, fy, fx], dtype=np.float64)
    centre = np.array([(fz - 1) / 2, (fy - 1) / 2, (fx - 1) / 2, 1.0])
    affine[:3, 3] = (volume.affine @ centre)[:3]
    return ImageVolume(
        array=small,
        affine=affine,
        unit=volume.unit,
        frame_of_reference_uid=volume.frame_of_reference_uid,
    )


def _pet_factors(pet: ImageVolume) -> tuple[int, int, int]:
    sz = pet.spacing_mm[0]
    in_plane = 2 if max(pet.shape[1:]) > PET_MAX_MATRIX else 1
    return (max(1, round(PET_MIN_SLICE_MM / sz)), in_plane, in_plane)


def display_grid(pet: ImageVolume, max_voxels: int = VIEW_MAX_VOXELS) -> ImageVolume:
    """Return the grid both viewer volumes are written on (an all-zero float32 image).

    The PET grid when it has at most ``max_voxels`` voxels; otherwise cubic voxels over the
    same box (the outer voxel edges kept), as small as ``max_voxels`` allows.

    Examples
    --------
    >>> from nenscope.core.units import Unit
    >>> from nenscope.core.geometry import affine_from_spacing
    >>> pet = ImageVolume(array=np.zeros((300, 200, 200), np.float32),
    ...                   affine=affine_from_spacing((3.0, 3.0, 3.0)), unit=Unit.SUV_BW)
    >>> grid = display_grid(pet, max_voxels=4_000_000)
    >>> grid.shape, [round(s, 2) for s in grid.spacing_mm]
    ((208, 138, 138), [4.33, 4.35, 4.35])
    """
    shape = pet.shape
    if int(np.prod(shape)) <= max_voxels:
        return ImageVolume(
            array=np.zeros(shape, dtype=np.float32),
            affine=pet.affine,
            unit=pet.unit,
            frame_of_reference_uid=pet.frame_of_reference_uid,
        )
    extent = np.asarray(shape, dtype=np.float64) * np.asarray(pet.spacing_mm)
    side = float(np.cbrt(np.prod(extent) / max_voxels))
    new_shape = tuple(max(1, int(np.floor(e / side))) for e in extent)
    new_spacing = extent / np.asarray(new_shape)  # the box kept exactly
    affine = pet.affine.copy()
    directions = pet.affine[:3, :3] / np.asarray(pet.spacing_mm)
    affine[:3, :3] = directions * new_spacing
    # voxel centres: the first one half a new voxel inside the old box's corner
    corner = pet.affine @ np.array([-0.5, -0.5, -0.5, 1.0])
    affine[:3, 3] = corner[:3] + affine[:3, :3] @ np.full(3, 0.5)
    return ImageVolume(
        array=np.zeros(new_shape, dtype=np.float32),
        affine=affine,
        unit=pet.unit,
        frame_of_reference_uid=pet.frame_of_reference_uid,
    )


def _on_grid(volume: ImageVolume, grid: ImageVolume, *, cval: float) -> ImageVolume:
    """``volume`` on ``grid``: block-averaged to about the grid's voxel size, then interpolated."""
    from nenscope.segmentation.resample import resample_to  # scipy.ndimage: import on use

    if volume.shape == grid.shape and np.allclose(volume.affine, grid.affine):
        return volume
    factors = cast(
        tuple[int, int, int],
        tuple(
            max(1, int(np.floor(g / s)))
            for g, s in zip(grid.spacing_mm, volume.spacing_mm, strict=True)
        ),
    )
    small = block_mean(volume, factors)
    return resample_to(small, grid, order=1, cval=cval)


def _as_int16(array: npt.NDArray[np.generic]) -> npt.NDArray[np.int16]:
    return np.clip(np.rint(np.asarray(array, dtype=np.float32)), -32768, 32767).astype(np.int16)


def _write_mip(suv: ImageVolume, folder: Path) -> None:
    """Coronal MIP as a bare picture (one pixel per voxel, inverse grey) + its extent in mm."""
    mip, extent = coronal_mip(suv)
    positive = mip[mip > 0]
    vmax = float(np.percentile(positive, 99.5)) if positive.size else 1.0
    picture = np.clip(mip[::-1, :] / max(vmax, 1e-6), 0.0, 1.0)  # superior at the top
    grey = np.rint(255.0 * (1.0 - picture)).astype(np.uint8)
    imsave(folder / "mip.png", grey, cmap="gray", vmin=0, vmax=255)
    left, right, bottom, top = extent
    info = {
        "x_mm": [left, right],  # LPS x of the left and right picture edges (patient right first)
        "z_mm": [top, bottom],  # LPS z of the top and bottom picture edges
        "suv_max": vmax,
    }
    (folder / "mip.json").write_text(json.dumps(info), encoding="utf-8")


def _lock(folder: Path) -> threading.Lock:
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(folder.resolve(), threading.Lock())


def cached_view_volumes(folder: Path) -> ViewVolumes | None:
    """Return the complete set of viewer files in ``folder``, or None when not written yet."""
    return _files(Path(folder))


def _files(folder: Path) -> ViewVolumes | None:
    pet, ct, mip = folder / "pet.nii.gz", folder / "ct.nii.gz", folder / "mip.png"
    if not (pet.exists() and mip.exists()):
        return None
    return ViewVolumes(folder=folder, pet=pet, ct=ct if ct.exists() else None, mip=mip)


def _write_files(study: StudyData, work: Path) -> None:
    suv = block_mean(study.suv, _pet_factors(study.suv))
    grid = display_grid(suv)
    pet = _on_grid(suv, grid, cval=0.0)
    write_nifti(
        ImageVolume(
            array=np.asarray(pet.array, dtype=np.float32),
            affine=grid.affine,
            unit=suv.unit,
            frame_of_reference_uid=suv.frame_of_reference_uid,
        ),
        work / "pet.nii.gz",
    )
    if study.ct is not None:
        ct = _on_grid(study.ct.volume, grid, cval=CT_AIR_HU)
        write_nifti(
            ImageVolume(
                array=_as_int16(ct.array),
                affine=grid.affine,
                unit=ct.unit,
                frame_of_reference_uid=ct.frame_of_reference_uid,
            ),
            work / "ct.nii.gz",
        )
    _write_mip(study.suv, work)


def write_view_volumes(study: StudyData, folder: Path) -> ViewVolumes:
    """Write the viewer's files for a study already read (the analysis job's), replacing any.

    Parameters
    ----------
    study
        The study as the analysis read it (SUV image, CT series).
    folder
        Where the files live; written under a temporary name beside it, then renamed.
    """
    folder = Path(folder)
    with _lock(folder):
        _write_folder(study, folder)
    done = _files(folder)
    if done is None:  # pragma: no cover - Path.replace either moved the folder or raised
        raise RuntimeError(f"viewer volumes were not written to {folder}")
    return done


def _write_folder(study: StudyData, folder: Path) -> None:
    folder.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".viewer-", dir=folder.parent))
    try:
        _write_files(study, work)
        if folder.exists():
            shutil.rmtree(folder)
        work.replace(folder)
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)


def prepare_view_volumes(study_dir: Path, folder: Path) -> ViewVolumes:
    """Write (once) and return the viewer's files for the study in ``study_dir``.

    Parameters
    ----------
    study_dir
        The study's DICOM files (any layout), as the analysis reads them.
    folder
        Where the files live; an existing complete set is returned as is. Concurrent calls for
        the same folder wait for one another instead of reading the study twice.

    Raises
    ------
    DicomImportError, NotComputableError
        As :func:`nenscope.pipeline.load_study` (no PET, SUV not computable), naming the file.
    """
    from nenscope.pipeline import load_study  # the pipeline is heavy; import on first use

    folder = Path(folder)
    done = _files(folder)
    if done is not None:
        return done
    with _lock(folder):
        done = _files(folder)
        if done is None:
            _write_folder(load_study(Path(study_dir)), folder)
    done = _files(folder)
    if done is None:  # pragma: no cover - Path.replace either moved the folder or raised
        raise RuntimeError(f"viewer volumes for {study_dir} were not written to {folder}")
    return done
