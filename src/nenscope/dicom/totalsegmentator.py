"""Organ masks from TotalSegmentator run in-process on the study's CT (optional, no download).

``nenscope analyze --organs totalsegmentator`` (or ``totalsegmentator-fast``) segments the CT
with TotalSegmentator (Wasserthal et al., Radiol Artif Intell 2023;5:e230024) in this process
and reads its per-organ files with :func:`nenscope.dicom.organ_masks.read_organ_masks`, exactly
as a folder given with ``--organs DIR``.

What it needs, and what happens when it is missing (:class:`OrganModelError`, naming the fix):

* the package: ``pip install 'nenscope[totalsegmentator]'`` (TotalSegmentator, which pulls in
  PyTorch and nnU-Net; not installed by ``nenscope[all]`` or ``[dev]``);
* its **weights, already on this computer**. nenscope never downloads them: TotalSegmentator
  itself fetches missing weights when it starts, so the weight folders of the chosen model are
  checked first (:data:`WEIGHT_FOLDERS`; each must hold a ``checkpoint_final.pth``) and the run
  is refused when one is missing. They are looked for where TotalSegmentator looks
  (:func:`weights_dir`): ``$TOTALSEG_WEIGHTS_PATH``, else ``$TOTALSEG_HOME_DIR/nnunet/results``,
  else ``~/.totalsegmentator/nnunet/results``. Get them on a computer with network access
  (``totalseg_download_weights -t total`` or ``-t total_fast``) and copy the folders there.

The full model (``totalsegmentator``: five 1.5 mm networks) is slow on a CPU (tens of
minutes for a whole body); ``totalsegmentator-fast`` (one 3 mm network) takes minutes.
TotalSegmentator may send anonymous usage counts (no image data) unless its ``config.json``
says ``"send_usage_stats": false``; :func:`usage_statistics_note` says so in the report.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Mapping
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from nenscope.core.errors import WorkbenchError
from nenscope.core.geometry import ImageVolume
from nenscope.dicom.organ_masks import read_organ_masks

__all__ = [
    "WEIGHT_FOLDERS",
    "OrganModel",
    "OrganModelError",
    "check_weights",
    "segment_organs",
    "usage_statistics_note",
    "weights_dir",
]

INSTALL_HINT = "pip install 'nenscope[totalsegmentator]'"
"""How to install the optional TotalSegmentator part."""


class OrganModel(StrEnum):
    """Organ segmentation run in-process (``--organs`` values that are not a path)."""

    TOTALSEGMENTATOR = "totalsegmentator"
    TOTALSEGMENTATOR_FAST = "totalsegmentator-fast"


class OrganModelError(WorkbenchError, RuntimeError):
    """The organ model cannot run here (package or weights missing, or it failed)."""


WEIGHT_FOLDERS: Mapping[OrganModel, tuple[str, ...]] = {
    # TotalSegmentator v2 task "total": five 1.5 mm nnU-Net models (python_api task ids
    # 291-295); "--fast": one 3 mm model (task id 297).
    OrganModel.TOTALSEGMENTATOR: (
        "Dataset291_TotalSegmentator_part1_organs_1559subj",
        "Dataset292_TotalSegmentator_part2_vertebrae_1532subj",
        "Dataset293_TotalSegmentator_part3_cardiac_1559subj",
        "Dataset294_TotalSegmentator_part4_muscles_1559subj",
        "Dataset295_TotalSegmentator_part5_ribs_1559subj",
    ),
    OrganModel.TOTALSEGMENTATOR_FAST: ("Dataset297_TotalSegmentator_total_3mm_1559subj",),
}
"""Weight folders (under :func:`weights_dir`) each model needs."""

CHECKPOINT = "checkpoint_final.pth"
"""File that a complete nnU-Net weight folder holds (in its fold folder)."""


def _totalseg_home(environ: Mapping[str, str], home: Path) -> Path:
    if "TOTALSEG_HOME_DIR" in environ:
        return Path(environ["TOTALSEG_HOME_DIR"])
    # TotalSegmentator's own rule (config.get_totalseg_dir): a home of "/" (containers) → /tmp.
    return (Path("/tmp") if str(home) == "/" else home) / ".totalsegmentator"


def weights_dir(environ: Mapping[str, str] | None = None, home: Path | None = None) -> Path:
    """Folder where TotalSegmentator keeps its weights (its ``config.get_weights_dir`` rule).

    Parameters
    ----------
    environ
        Environment variables; default ``os.environ``.
    home
        The user's home folder; default ``Path.home()``.

    Examples
    --------
    >>> weights_dir({"TOTALSEG_HOME_DIR": "/data/ts"}).as_posix()
    '/data/ts/nnunet/results'
    >>> weights_dir({"TOTALSEG_WEIGHTS_PATH": "/w"}).as_posix()
    '/w'
    """
    environ = os.environ if environ is None else environ
    if "TOTALSEG_WEIGHTS_PATH" in environ:
        return Path(environ["TOTALSEG_WEIGHTS_PATH"])
    return _totalseg_home(environ, Path.home() if home is None else home) / "nnunet" / "results"


def check_weights(model: OrganModel | str, folder: Path) -> None:
    """Refuse unless every weight folder of ``model`` is complete under ``folder``.

    Raises
    ------
    OrganModelError
        Naming the missing folders, where they were looked for and how to get them.
    """
    model = OrganModel(model)
    missing = [
        name
        for name in WEIGHT_FOLDERS[model]
        if not (folder / name).is_dir() or next((folder / name).rglob(CHECKPOINT), None) is None
    ]
    if missing:
        task = "total_fast" if model is OrganModel.TOTALSEGMENTATOR_FAST else "total"
        raise OrganModelError(
            f"--organs {model.value}: TotalSegmentator's weights are not on this computer: "
            f"{', '.join(missing)} missing (or without {CHECKPOINT}) in {folder}. nenscope "
            "never downloads them. On a computer with network access run "
            f"'totalseg_download_weights -t {task}' and copy those folders into {folder} "
            "(or set TOTALSEG_HOME_DIR / TOTALSEG_WEIGHTS_PATH to where they are), or run "
            "TotalSegmentator yourself and give its output folder with --organs DIR."
        )


def _runner(model: OrganModel) -> Callable[..., Any]:
    """TotalSegmentator's Python entry point, or a refusal naming the package."""
    try:
        from totalsegmentator.python_api import totalsegmentator
    except ImportError as err:
        raise OrganModelError(
            f"--organs {model.value}: the TotalSegmentator package is not installed "
            f"({err}). Install it with {INSTALL_HINT} (it brings PyTorch), or run "
            "TotalSegmentator yourself and give its output folder with --organs DIR."
        ) from err
    run: Callable[..., Any] = totalsegmentator
    return run


def usage_statistics_note(environ: Mapping[str, str] | None = None) -> str | None:
    """Return a note when TotalSegmentator's config does not turn its usage counts off."""
    environ = os.environ if environ is None else environ
    config = _totalseg_home(environ, Path.home()) / "config.json"
    try:
        data = json.loads(config.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        data = {}
    if isinstance(data, dict) and data.get("send_usage_stats") is False:
        return None
    return (
        f"TotalSegmentator may send anonymous usage counts (no image data); set "
        f'"send_usage_stats": false in {config} to stop it'
    )


def segment_organs(
    ct: ImageVolume,
    reference: ImageVolume,
    *,
    model: OrganModel | str = OrganModel.TOTALSEGMENTATOR_FAST,
    environ: Mapping[str, str] | None = None,
) -> dict[str, npt.NDArray[np.bool_]]:
    """Segment the CT with TotalSegmentator in-process; organ masks on ``reference``'s grid.

    Parameters
    ----------
    ct
        The CT (HU), ``(z, y, x)``.
    reference
        The PET (SUV) grid the masks are resampled onto.
    model
        :class:`OrganModel`.
    environ
        Environment variables for the weight folder; default ``os.environ``.

    Returns
    -------
    dict
        nenscope organ name → bool mask (z, y, x), as :func:`read_organ_masks` returns.

    Raises
    ------
    OrganModelError
        If the package or its weights are missing (nothing is downloaded), or the run failed.
    """
    from nenscope.dicom.nifti import write_nifti  # nibabel: only when the model runs

    model = OrganModel(model)
    run = _runner(model)
    check_weights(model, weights_dir(environ))
    with tempfile.TemporaryDirectory(prefix="nenscope-totalseg-") as tmp:
        folder = Path(tmp)
        ct_path = folder / "ct.nii.gz"
        write_nifti(ct, ct_path)
        out = folder / "segmentations"
        try:
            run(
                input=ct_path,
                output=out,
                fast=model is OrganModel.TOTALSEGMENTATOR_FAST,
                ml=False,
                quiet=True,
            )
        except Exception as err:  # a third-party model: any failure is named
            raise OrganModelError(
                f"--organs {model.value}: TotalSegmentator failed on the CT: "
                f"{type(err).__name__}: {err}"
            ) from err
        if not out.is_dir():
            raise OrganModelError(
                f"--organs {model.value}: TotalSegmentator wrote no output folder {out}."
            )
        return read_organ_masks(out, reference)
