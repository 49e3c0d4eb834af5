"""Load nibabel's NIfTI module without pydicom, for a process that reads NIfTI only.

Kept apart from :mod:`nenscope.dicom.nifti`, which imports nibabel at its top: this module
imports nothing heavy, so a command can call :func:`import_nibabel_without_pydicom` before it.
"""

from __future__ import annotations

import sys

__all__ = ["import_nibabel_without_pydicom"]


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
