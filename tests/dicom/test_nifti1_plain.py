"""The plain NIfTI-1 reader gives what nibabel gives, and hands every other file to nibabel.

``read_nifti`` reads the common file without importing nibabel (issue 9, item 6); the
volume it returns must be the one nibabel's path returns: same dtype (with the file's byte
order), same voxels, same affine, same unit. Files outside the plain case must return
``None`` from the fast reader so that nibabel reads them (or explains why it cannot).
"""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import nibabel as _nib
import numpy as np
import numpy.typing as npt
import pytest

from nenscope.core.geometry import ImageVolume
from nenscope.dicom import _nifti1_plain, nifti
from nenscope.dicom._nifti1_plain import read_plain_nifti1
from nenscope.dicom.nifti import read_nifti
from tests.conftest import shared_data_path

nib: Any = _nib  # nibabel's image classes are only partly annotated

ROTATED = np.array(
    [[0.0, -1.2, 0.1, 30.0], [2.5, 0.0, 0.0, -12.5], [0.0, 0.05, 3.27, 7.25], [0, 0, 0, 1]]
)


def _with_nibabel(path: Path, monkeypatch: pytest.MonkeyPatch) -> ImageVolume:
    with monkeypatch.context() as m:
        m.setattr(nifti, "read_plain_nifti1", lambda _path: None)
        return read_nifti(path)


def _same(a: ImageVolume, b: ImageVolume) -> None:
    assert a.array.dtype == b.array.dtype
    assert a.array.shape == b.array.shape
    np.testing.assert_array_equal(a.array, b.array)
    np.testing.assert_array_equal(a.affine, b.affine)  # exact: the same float32 sform
    assert a.unit == b.unit


def _save(
    tmp_path: Path, data: npt.NDArray[Any], name: str, *, big_endian: bool = False, **hdr: Any
) -> Path:
    img = nib.Nifti1Image(data, ROTATED)
    if big_endian:
        img = nib.Nifti1Image(data, ROTATED, header=img.header.as_byteswapped(">"))
    for key, value in hdr.items():
        img.header[key] = value
    path = tmp_path / name
    nib.save(img, path)
    return path


CASES = [
    ("f4.nii.gz", np.float32, False),
    ("f8.nii", np.float64, False),
    ("i2-be.nii.gz", np.int16, True),
    ("u1.nii", np.uint8, False),
    ("i4-be.nii", np.int32, True),
    ("u2.nii.gz", np.uint16, False),
    ("i1.nii", np.int8, False),
]


@pytest.mark.parametrize(("name", "dtype", "big_endian"), CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("four_d", [False, True], ids=["3d", "4d-one-volume"])
def test_plain_files_read_as_nibabel_reads_them(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    dtype: type[np.generic],
    big_endian: bool,
    four_d: bool,
) -> None:
    rng = np.random.default_rng(len(name))
    shape = (5, 7, 3, 1) if four_d else (5, 7, 3)
    data = (rng.normal(size=shape) * 50).astype(dtype)
    path = _save(tmp_path, data, name, big_endian=big_endian, descrip=b"nenscope unit=Bq/mL")
    plain = read_plain_nifti1(path)
    assert plain is not None  # the fast path is taken
    assert plain.data.dtype.byteorder in ("<", ">", "|", "=")
    assert plain.data.flags.writeable
    fast, slow = read_nifti(path), _with_nibabel(path, monkeypatch)
    _same(fast, slow)
    assert fast.unit.value == "Bq/mL"


def test_qform_only_scaled_extended_and_nifti2_files_go_to_nibabel(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = np.arange(60, dtype=np.int16).reshape(3, 4, 5)
    img = nib.Nifti1Image(data, ROTATED)
    img.set_sform(None, code=0)
    img.set_qform(ROTATED, code=1)
    nib.save(img, tmp_path / "qform.nii")
    scaled = nib.Nifti1Image(data, ROTATED)
    scaled.header.set_slope_inter(0.5, 3.0)
    nib.save(scaled, tmp_path / "scaled.nii.gz")
    extended = nib.Nifti1Image(data, ROTATED)
    extended.header.extensions.append(nib.nifti1.Nifti1Extension(6, b"a comment"))
    nib.save(extended, tmp_path / "extended.nii")
    nib.save(nib.Nifti2Image(data, ROTATED), tmp_path / "two.nii")
    odd = _save(tmp_path, data, "qfac.nii")
    raw = bytearray(odd.read_bytes())
    raw[76:80] = np.float32(0.0).tobytes()  # pixdim[0] (qfac) 0: nibabel fixes it
    odd.write_bytes(bytes(raw))
    for name in ("qform.nii", "scaled.nii.gz", "extended.nii", "two.nii", "qfac.nii"):
        assert read_plain_nifti1(tmp_path / name) is None, name
        volume = read_nifti(tmp_path / name)  # nibabel's path, unchanged
        _same(volume, _with_nibabel(tmp_path / name, monkeypatch))


def test_short_missing_and_foreign_files_go_to_nibabel(tmp_path: Path) -> None:
    path = _save(tmp_path, np.ones((4, 4, 4), np.float32), "short.nii.gz")
    whole = gzip.decompress(path.read_bytes())
    path.write_bytes(gzip.compress(whole[:-10]))
    assert read_plain_nifti1(path) is None
    assert read_plain_nifti1(tmp_path / "missing.nii") is None
    (tmp_path / "text.nii").write_text("not NIfTI")
    assert read_plain_nifti1(tmp_path / "text.nii") is None
    assert read_plain_nifti1(tmp_path / "image.mgz") is None
    assert _nifti1_plain.HEADER_BYTES == 348


def test_ibsi_phantom_reads_the_same_both_ways(monkeypatch: pytest.MonkeyPatch) -> None:
    for part in ("image", "mask"):
        folder = shared_data_path("ibsi", "ibsi_1_ct_radiomics_phantom", "nifti", part)
        for path in sorted(folder.glob("*.nii.gz")):
            _same(read_nifti(path), _with_nibabel(path, monkeypatch))
