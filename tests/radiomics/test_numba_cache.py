"""Issue 14 part 8: numba's cache goes to the user's cache folder, never the installed package.

A copy of the package is made read-only (as in a system-wide install) and a radiomics
extraction that compiles every texture kernel runs from it: it must succeed, put its cache
files under ``$XDG_CACHE_HOME/nenscope/numba`` and write nothing into the package. The ROI
is larger than ``NUMPY_MAX_VOXELS`` (smaller ROIs use the NumPy kernels and never load numba),
so the IBSI digital phantom of the first version of this test no longer reaches numba.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import nenscope
from nenscope.core import ImageVolume, Unit, affine_from_spacing
from nenscope.core.numba_cache import CACHE_ENV, numba_cache_dir
from nenscope.dicom.nifti import write_nifti
from nenscope.radiomics._texture_kernels import NUMPY_MAX_VOXELS


def test_cache_dir_follows_xdg_and_honours_the_user(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(CACHE_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert numba_cache_dir() == tmp_path / "xdg" / "nenscope" / "numba"
    assert numba_cache_dir().is_dir()
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "mine"))
    assert numba_cache_dir() == tmp_path / "mine"


def _read_only(root: Path) -> None:
    for folder, dirs, files in os.walk(root):
        for name in files:
            (Path(folder) / name).chmod(stat.S_IREAD)
        for name in dirs:
            (Path(folder) / name).chmod(stat.S_IREAD | stat.S_IEXEC)
    root.chmod(stat.S_IREAD | stat.S_IEXEC)


def _writable(root: Path) -> None:
    root.chmod(stat.S_IRWXU)
    for folder, dirs, files in os.walk(root):
        for name in dirs:
            (Path(folder) / name).chmod(stat.S_IRWXU)
        for name in files:
            (Path(folder) / name).chmod(stat.S_IRUSR | stat.S_IWUSR)


def _large_roi(folder: Path) -> tuple[Path, Path]:
    """A 30 x 30 x 30 image and an all-ROI mask (27,000 voxels > NUMPY_MAX_VOXELS)."""
    shape = (30, 30, 30)
    assert np.prod(shape) > NUMPY_MAX_VOXELS
    rng = np.random.default_rng(7)
    affine = affine_from_spacing((2.0, 2.0, 2.0))
    image = ImageVolume(
        array=rng.integers(0, 7, size=shape).astype(np.float64), affine=affine, unit=Unit.UNITLESS
    )
    mask = ImageVolume(array=np.ones(shape), affine=affine, unit=Unit.UNITLESS)
    write_nifti(image, folder / "image.nii.gz")
    write_nifti(mask, folder / "mask.nii.gz")
    return folder / "image.nii.gz", folder / "mask.nii.gz"


@pytest.mark.slow
def test_read_only_install_extracts_and_caches_in_the_user_folder(tmp_path: Path) -> None:
    site = tmp_path / "site"
    package = site / "nenscope"
    shutil.copytree(
        Path(nenscope.__file__).parent,
        package,
        ignore=shutil.ignore_patterns("__pycache__", "*.nbi", "*.nbc"),
    )
    _read_only(site)
    image, mask = _large_roi(tmp_path)
    env = {k: v for k, v in os.environ.items() if k != CACHE_ENV}
    env.update(
        PYTHONPATH=str(site),
        XDG_CACHE_HOME=str(tmp_path / "cache"),
        PYTHONDONTWRITEBYTECODE="1",
    )
    code = "from nenscope.cli import main; main()"
    try:
        run = subprocess.run(
            [
                sys.executable,
                "-c",
                code,
                "radiomics",
                str(image),
                str(mask),
                "--config",
                "ibsi-a",
                "--format",
                "json",
            ],
            env=env,
            capture_output=True,
            text=True,
            check=False,
            cwd=tmp_path,
        )
        assert run.returncode == 0, run.stderr
        assert json.loads(run.stdout)["features"]
        in_package = [p for p in package.rglob("*") if p.suffix in (".nbi", ".nbc")]
        assert in_package == []
        cached = list((tmp_path / "cache" / "nenscope" / "numba").rglob("*.nbi"))
        assert cached, "numba wrote no cache index into the user's cache folder"
    finally:
        _writable(site)
