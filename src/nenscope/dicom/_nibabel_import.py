"""Load nibabel when a file needs it; without pydicom in a process that reads NIfTI only.

This module imports nothing heavy: :mod:`nenscope.dicom.nifti` reads plain NIfTI-1 files
without nibabel (:mod:`nenscope.dicom._nifti1_plain`) and calls :func:`load_nibabel` for the
others; a command that reads no DICOM calls :func:`nibabel_without_pydicom` first.
"""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["import_nibabel_without_pydicom", "load_nibabel", "nibabel_without_pydicom"]

_without_pydicom = [False]
"""Set by :func:`nibabel_without_pydicom`: load nibabel with pydicom hidden."""


def nibabel_without_pydicom() -> None:
    """Declare that this process reads no DICOM: nibabel, when it loads, loads without pydicom.

    For a single-threaded command (``nenscope radiomics`` with a NIfTI image and mask), called
    before any file is read; see :func:`import_nibabel_without_pydicom`. Nothing is imported
    now: a plain NIfTI-1 file is read without nibabel.
    """
    _without_pydicom[0] = True


def load_nibabel() -> Any:
    """Import and return ``nibabel`` (untyped: its image classes are only partly annotated)."""
    if _without_pydicom[0]:
        import_nibabel_without_pydicom()
    import nibabel

    return nibabel


def import_nibabel_without_pydicom() -> bool:
    """Import ``nibabel.nifti1`` while pydicom is hidden; return whether it was hidden.

    nibabel imports pydicom (~0.1 s: its pixel decoders) when installed only to decode DICOM
    header extensions (ecode 2) into a Dataset; nenscope reads voxels, affine and
    ``descrip``, never extensions. After this call nibabel keeps such extensions as raw bytes
    for the rest of the process, and pydicom still imports normally for everything else.
    It touches process-wide state: call it only from a single-threaded command, before
    anything reads DICOM (``nenscope radiomics`` with a NIfTI image and mask does). Does
    nothing (returns False) once pydicom or nibabel's NIfTI module is loaded.
    """
    if "pydicom" in sys.modules or "nibabel.nifti1" in sys.modules:
        return False
    sys.modules["pydicom"] = None  # type: ignore[assignment]  # ``import pydicom`` fails
    try:
        import nibabel.nifti1  # noqa: F401  # its optional_package('pydicom') finds none
    finally:
        hidden: object = sys.modules.get("pydicom", sys)
        if hidden is None:  # still our placeholder: let ``import pydicom`` work again
            del sys.modules["pydicom"]
    return True
