"""Read the plain NIfTI-1 file without nibabel: what nibabel gives, for the common case only.

Importing nibabel costs ~0.08 s of CPU (its format registry pulls in ``urllib.request``,
``email``, ``ssl``, XML and SciPy), a fifth of a one-lesion ``nenscope radiomics`` call
(issue 9, item 6). Most NIfTI files are "plain": one ``.nii``/``.nii.gz`` file, an sform, no
scaling, no extension. For such a file :func:`read_plain_nifti1` returns the voxel array,
affine and header fields that ``nibabel.load`` would (same dtype with the file's byte order,
same values; ``tests/dicom/test_nifti1_plain.py`` compares them). For anything else it returns
``None`` and the caller uses nibabel: NIfTI-2, header/image pairs, scaled data
(``scl_slope``), qform-only or unset orientation, extensions, odd data types, headers that
nibabel would fix or log about, short files.
"""

from __future__ import annotations

import gzip
import io
import math
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

__all__ = ["PlainNifti1", "read_plain_nifti1"]

HEADER_BYTES = 348
"""``sizeof_hdr`` of NIfTI-1."""

_DTYPES = {2: "u1", 4: "i2", 8: "i4", 16: "f4", 64: "f8", 256: "i1", 512: "u2", 768: "u4"}
_DTYPES |= {1024: "i8", 1280: "u8"}
"""NIfTI-1 ``datatype`` codes of scalar integer and float voxels → NumPy type (no byte order)."""

_XFORM_CODES = (1, 2, 3, 4)
"""Valid non-zero sform codes (scanner, aligned, Talairach, MNI)."""


@dataclass(frozen=True, slots=True)
class PlainNifti1:
    """What nenscope reads from a NIfTI-1 file (as ``nibabel.load`` would give it)."""

    data: npt.NDArray[np.generic]
    """Voxels ``[i, j, k]`` (or ``[i, j, k, t]``), dtype and byte order of the file."""
    affine: npt.NDArray[np.float64]
    """Voxel index → RAS+ mm, from the sform (``img.affine``)."""
    sform_code: int
    qform_code: int
    descrip: bytes
    """The header's 80-byte ``descrip`` field, as stored."""


def _open(path: Path) -> io.BufferedIOBase:
    return gzip.open(path, "rb") if path.name.endswith(".gz") else path.open("rb")


def read_plain_nifti1(path: Path) -> PlainNifti1 | None:
    """Read ``path`` when it is a plain NIfTI-1 file; ``None`` when nibabel must read it.

    Parameters
    ----------
    path
        A ``.nii`` or ``.nii.gz`` file.

    Returns
    -------
    PlainNifti1 or None
        ``None`` for any file outside the plain case (see the module), including one that
        cannot be opened or read in full: nibabel then reads it or explains the error.
    """
    path = Path(path)
    if not path.name.endswith((".nii", ".nii.gz")):
        return None
    try:
        with _open(path) as f:
            header = f.read(HEADER_BYTES + 4)  # the header and the extension flag
            fields = _plain_fields(header)
            if fields is None:
                return None
            dtype, shape, offset, affine, sform_code, qform_code = fields
            f.seek(offset)
            buffer = bytearray(int(np.prod(shape)) * dtype.itemsize)
            if f.readinto(buffer) != len(buffer):
                return None
    except (OSError, EOFError, ValueError):
        return None
    data = np.ndarray(shape, dtype=dtype, buffer=buffer, order="F")
    descrip = bytes(header[148:228])
    return PlainNifti1(data, affine, sform_code, qform_code, descrip)


def _unscaled(slope: float, inter: float) -> bool:
    """Whether nibabel returns the stored values as they are (``get_slope_inter``)."""
    return slope == 0 or not math.isfinite(slope) or (slope == 1 and inter == 0)


def _plain_fields(
    header: bytes,
) -> tuple[np.dtype[np.generic], tuple[int, ...], int, npt.NDArray[np.float64], int, int] | None:
    """Return data type, shape, data offset, sform affine and codes of a plain header, or None."""
    if len(header) < HEADER_BYTES + 4 or header[344:348] != b"n+1\x00":
        return None
    order = next((e for e in "<>" if struct.unpack_from(e + "i", header)[0] == HEADER_BYTES), "")
    if not order:
        return None
    dim = struct.unpack_from(order + "8h", header, 40)
    datatype, bitpix = struct.unpack_from(order + "2h", header, 70)
    pixdim = struct.unpack_from(order + "8f", header, 76)
    vox_offset, scl_slope, scl_inter = struct.unpack_from(order + "3f", header, 108)
    qform_code, sform_code = struct.unpack_from(order + "2h", header, 252)
    extension = header[348]
    code = _DTYPES.get(datatype)
    if code is None or dim[0] not in (3, 4) or min(dim[1 : dim[0] + 1]) < 1:
        return None
    dtype = np.dtype(order + code)
    plain = (
        bitpix == 8 * dtype.itemsize
        and pixdim[0] in (-1.0, 1.0)  # else nibabel sets qfac to 1 (and logs it)
        and min(pixdim[1:4]) > 0  # else nibabel fixes pixdim (and logs it)
        and vox_offset >= HEADER_BYTES + 4
        and vox_offset % 16 == 0  # else nibabel logs "not SPM compatible"
        and _unscaled(scl_slope, scl_inter)
        and sform_code in _XFORM_CODES
        and qform_code in (0, *_XFORM_CODES)
        and extension == 0
    )
    if not plain:
        return None
    affine = np.eye(4)
    affine[:3, :] = np.frombuffer(header, dtype=order + "f4", count=12, offset=280).reshape(3, 4)
    shape = tuple(int(d) for d in dim[1 : dim[0] + 1])
    return dtype, shape, int(vox_offset), affine, int(sform_code), int(qform_code)
