"""What each entry point imports (issue 9 part 6): costly libraries load only when used.

Counts modules, not seconds (tests never assert on timings): ``nenscope --help`` must not
import numpy, SciPy, numba or pydicom, and the radiomics registry must not import numba
until a texture family runs.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("numpy", "scipy", "numba", "pydicom", "SimpleITK", "matplotlib", "highdicom")


def _modules_after(code: str) -> set[str]:
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=300
    )
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_help_imports_no_heavy_library() -> None:
    code = (
        "import contextlib, io\n"
        "from nenscope.cli import app\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
        "    app(['--help'], prog_name='nenscope')"
    )
    loaded = _modules_after(code)
    assert "nenscope.cli.commands.analyze" in loaded  # the commands were registered
    assert not {m for m in HEAVY if m in loaded}


def test_radiomics_loads_numba_only_for_texture() -> None:
    code = (
        "import numpy as np\n"
        "from nenscope.core import ImageVolume, Unit, affine_from_spacing\n"
        "from nenscope.radiomics import load_settings\n"
        "from nenscope.radiomics.extract import extract_features\n"
        "from nenscope.radiomics.registry import Family\n"
        "img = ImageVolume(array=np.arange(1000, dtype=float).reshape(10, 10, 10) % 7,\n"
        "                  affine=affine_from_spacing((1.0, 1.0, 1.0)), unit=Unit.UNITLESS)\n"
        "mask = np.zeros((10, 10, 10), bool); mask[2:8, 2:8, 2:8] = True\n"
        "extract_features(img, mask, load_settings('ibsi-a'), families=[Family.STATISTICS])\n"
        "import sys; assert 'numba' not in sys.modules, 'statistics loaded numba'\n"
        # A small ROI's texture uses the NumPy kernels (NUMPY_MAX_VOXELS): still no numba.
        "extract_features(img, mask, load_settings('ibsi-a'), families=[Family.GLCM])\n"
        "assert 'numba' not in sys.modules, 'a 216-voxel GLCM loaded numba'\n"
        "big = ImageVolume(array=np.arange(27000, dtype=float).reshape(30, 30, 30) % 7,\n"
        "                  affine=affine_from_spacing((1.0, 1.0, 1.0)), unit=Unit.UNITLESS)\n"
        "extract_features(big, np.ones((30, 30, 30), bool), load_settings('ibsi-a'),\n"
        "                 families=[Family.GLCM])"
    )
    assert "numba" in _modules_after(code)


FACADES = (
    "nenscope.api",
    "nenscope.cohort",
    "nenscope.dicom",
    "nenscope.pipeline",
    "nenscope.quantification",
    "nenscope.reporting",
)


def test_facades_load_their_names_on_first_use() -> None:
    """The package facades (PEP 562) import nothing heavy, yet every public name resolves."""
    import importlib

    loaded = _modules_after("import " + ", ".join(FACADES))
    assert not {m for m in HEAVY if m in loaded}
    assert "nenscope.pipeline.analysis" not in loaded
    for facade in FACADES:
        module = importlib.import_module(facade)
        assert set(module.__all__) <= set(dir(module)), facade
        for name in module.__all__:
            value = getattr(module, name)
            if name in module._LAZY:  # re-export: the very object of the defining module
                assert value is getattr(importlib.import_module(module._LAZY[name]), name)
        with pytest.raises(AttributeError, match=facade):
            module.no_such_name  # noqa: B018  # the lookup itself is the test


def test_console_script_module_loads_nothing_until_called() -> None:
    """The cohort workers' fork server imports the console script (its ``__main__``)."""
    loaded = _modules_after("from nenscope._console import main")
    assert not {m for m in loaded if m.startswith(("typer", "nenscope.cli", *HEAVY))}


def test_console_script_runs_the_command_line(tmp_path: Path) -> None:
    nenscope = str(Path(sys.executable).with_name("nenscope"))
    assert "nenscope._console" in Path(nenscope).read_text(encoding="utf-8"), "reinstall nenscope"
    run = subprocess.run([nenscope, "dose", "--no-such-option"], capture_output=True, text=True)
    assert run.returncode == 2
    assert run.stderr.startswith("nenscope: error: ")


def test_cohort_command_starts_the_fork_server_before_loading_anything_heavy() -> None:
    """``nenscope cohort run`` starts the workers' fork server first: what it loads before."""
    loaded = _modules_after("from nenscope.cohort.cluster import ClusterSpec, worker_fork_server")
    assert not {m for m in (*HEAVY, "distributed", "dask", "pyarrow") if m in loaded}


OUTPUT_LIBRARIES = ("matplotlib", "highdicom", "jinja2", "nibabel", "pydicom.sr")


def test_analysis_loads_the_output_libraries_only_in_the_background() -> None:
    """Issue 10 item 6: the analysis imports what its first stages need; matplotlib, highdicom,
    Jinja2 and nibabel load later (in the background once the study is read, see preload)."""
    loaded = _modules_after(
        "from nenscope.pipeline import analyze_study\n"
        "import nenscope.pipeline.report, nenscope.pipeline.study, nenscope.reporting.model"
    )
    assert "nenscope.pipeline.analysis" in loaded
    assert not {m for m in OUTPUT_LIBRARIES if m in loaded}


def test_preload_imports_in_a_thread_and_keeps_no_failure() -> None:
    code = (
        "import sys, threading\n"
        "from nenscope.pipeline.preload import OUTPUT_MODULES, preload\n"
        "thread = preload([*OUTPUT_MODULES, 'nenscope.no_such_module'])\n"
        "assert isinstance(thread, threading.Thread) and thread.daemon\n"
        "thread.join()\n"
        "assert 'nenscope.no_such_module' not in sys.modules\n"
        "assert preload(OUTPUT_MODULES) is None  # all there: no thread"
    )
    loaded = _modules_after(code)
    assert {"matplotlib", "highdicom", "jinja2", "nenscope.pipeline.outputs"} <= loaded


@pytest.mark.slow
def test_analyze_study_imports_the_output_libraries_in_the_background(tmp_path: Path) -> None:
    """The analysis imports matplotlib, highdicom and Jinja2 in the preload thread, not in the
    thread that reads the study, and still writes every output."""
    code = (
        "import importlib.abc, sys, threading\n"
        "from pathlib import Path\n"
        "seen = {}\n"
        "class Finder(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name in ('matplotlib', 'highdicom', 'jinja2'):\n"
        "            seen.setdefault(name, threading.current_thread().name)\n"
        "sys.meta_path.insert(0, Finder())\n"
        "from nenscope.dicom.synthetic import PhantomSettings, write_phantom_study\n"
        f"study, out = Path({str(tmp_path)!r}) / 'study', Path({str(tmp_path)!r}) / 'out'\n"
        "write_phantom_study(study, PhantomSettings(size='small', seed=3))\n"
        "assert not seen, seen\n"
        "from nenscope.pipeline import analyze_study\n"
        "result = analyze_study(study, out)\n"
        "assert not result.errors, result.errors\n"
        "assert {'seg', 'sr', 'report_pdf', 'report_html'} <= set(result.files), result.files\n"
        "assert seen == dict.fromkeys(('matplotlib', 'highdicom', 'jinja2'),\n"
        "                             'nenscope-preload'), seen"
    )
    assert "nenscope.pipeline.outputs" in _modules_after(code)


def test_radiomics_command_loads_only_radiomics(tmp_path: Path) -> None:
    """``nenscope radiomics`` on NIfTI files loads neither the analysis pipeline nor Qhull."""
    code = (
        "import contextlib, io, numpy as np, nibabel as nib\n"
        "from nenscope.cli import app\n"
        f"d = {str(tmp_path)!r}\n"
        "img = np.random.default_rng(0).random((12, 12, 12)).astype(np.float32) * 5\n"
        "msk = np.zeros((12, 12, 12), np.uint8); msk[3:9, 3:9, 3:9] = 1\n"
        "for name, a in (('img', img), ('msk', msk)):\n"
        "    nib.save(nib.Nifti1Image(a, np.eye(4)), f'{d}/{name}.nii.gz')\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):\n"
        "    app(['radiomics', f'{d}/img.nii.gz', f'{d}/msk.nii.gz', '--config', 'ibsi-a',\n"
        "         '--format', 'json'], prog_name='nenscope')\n"
        "assert '\"RNU0\"' in out.getvalue(), out.getvalue()[-2000:]"
    )
    loaded = _modules_after(code)
    assert "nenscope.radiomics.morphology" in loaded  # the features were computed
    unwanted = ("nenscope.pipeline.analysis", "nenscope.dicom.deidentify", "scipy.spatial")
    assert not {m for m in unwanted if m in loaded}


RADIOMICS_NIFTI_UNWANTED = (
    "pydicom",  # nibabel's optional import is skipped, nenscope's DICOM readers load lazily
    "nibabel",  # a plain NIfTI-1 file is read without it (dicom/_nifti1_plain.py)
    "scipy.ndimage",  # the one-lesion path uses radiomics/_ndimage_np.py
    "scipy.special",
    "scipy.spatial",
    "numba",  # <= NUMPY_MAX_VOXELS: the NumPy texture kernels
    "numpy.ma",  # numpy.unique imports it: core.arrays.distinct instead
    "rich",  # JSON output prints no Rich text; the commands import rich.table when printing
    "nenscope.dicom._io",
    "nenscope.dicom.series",
    "nenscope.dicom.pet",
    "rich.progress",  # only the batch command shows a progress bar
    "fastapi",
    "starlette",
    "SimpleITK",
    "matplotlib",
    "highdicom",
    "pyarrow",
    "distributed",
    "skimage.draw",  # RTSTRUCT rasterisation only
)


def _nifti_pair(tmp_path: Path) -> tuple[Path, Path]:
    import nibabel as nib
    import numpy as np

    img = np.random.default_rng(0).random((12, 12, 12)).astype(np.float32) * 5
    msk = np.zeros((12, 12, 12), np.uint8)
    msk[3:9, 3:9, 3:9] = 1
    paths = (tmp_path / "img.nii.gz", tmp_path / "msk.nii.gz")
    for path, array in zip(paths, (img, msk), strict=True):
        nib.save(nib.Nifti1Image(array, np.eye(4)), path)  # type: ignore[no-untyped-call]
    return paths


def test_radiomics_json_on_nifti_loads_no_dicom_reader_nor_rich_extras(tmp_path: Path) -> None:
    """Issue 9 item 6: the one-ROI NIfTI command path stays off pydicom, nibabel, SciPy's
    ndimage/special, numba and Rich (each a noticeable part of one call's CPU)."""
    image, mask = _nifti_pair(tmp_path)
    code = (
        "import contextlib, io\n"
        "from nenscope.cli import app\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):\n"
        f"    app(['radiomics', {str(image)!r}, {str(mask)!r}, '--config', 'ibsi-a',\n"
        "         '--format', 'json'], prog_name='nenscope')\n"
        "assert '\"RNU0\"' in out.getvalue(), out.getvalue()[-2000:]\n"
    )
    loaded = _modules_after(code)
    assert "nenscope.radiomics.glszm" in loaded or "nenscope.radiomics.morphology" in loaded
    assert not {m for m in RADIOMICS_NIFTI_UNWANTED if m in loaded}


def test_radiomics_text_and_dicom_mask_still_load_their_modules(tmp_path: Path) -> None:
    """The lazy imports still load: the table for text output, pydicom for a DICOM mask."""
    image, mask = _nifti_pair(tmp_path)
    not_nifti = tmp_path / "mask.dcm"
    not_nifti.write_bytes(b"not DICOM")
    code = (
        "import contextlib, io\n"
        "from nenscope.cli import app\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):\n"
        f"    app(['radiomics', {str(image)!r}, {str(mask)!r}, '--config', 'ibsi-a'],\n"
        "        prog_name='nenscope')\n"
        "assert 'IBSI features' in out.getvalue(), out.getvalue()[-2000:]\n"
        "import sys; assert 'pydicom' not in sys.modules\n"
        "err = io.StringIO()\n"
        "with contextlib.redirect_stderr(err), contextlib.redirect_stdout(err), \\\n"
        "        contextlib.suppress(SystemExit):\n"
        f"    app(['radiomics', {str(image)!r}, {str(not_nifti)!r}, '--config', 'ibsi-a'],\n"
        "        prog_name='nenscope')\n"
        f"assert {str(not_nifti.name)!r} in err.getvalue(), err.getvalue()[-2000:]\n"
        "import pydicom.dataset  # a real pydicom after nibabel loaded without it"
    )
    loaded = _modules_after(code)
    assert {"rich.table", "pydicom", "nenscope.dicom._io", "nenscope.radiomics.registry"} <= loaded


def test_nibabel_without_pydicom_restores_pydicom() -> None:
    code = (
        "import sys\n"
        "from nenscope.dicom._nibabel_import import import_nibabel_without_pydicom as load\n"
        "assert load() is True and 'nibabel.nifti1' in sys.modules\n"
        "assert 'pydicom' not in sys.modules\n"
        "import pydicom\n"
        "assert pydicom.Dataset is not None\n"
        "assert load() is False  # already loaded: does nothing"
    )
    assert "pydicom" in _modules_after(code)


def test_version_constant_is_the_installed_metadata() -> None:
    """``__version__`` is a constant (no importlib.metadata at run time) and the same version."""
    from importlib.metadata import version

    import nenscope

    assert nenscope.__version__ == version("nenscope")
    assert "importlib.metadata" not in _modules_after("import nenscope; nenscope.__version__")


def test_radiomics_on_a_nifti_that_needs_nibabel_still_hides_pydicom(tmp_path: Path) -> None:
    """A qform-only NIfTI goes through nibabel, which then loads without pydicom."""
    import nibabel as nib
    import numpy as np

    paths = []
    for name, array in (("img", np.random.default_rng(1).random((10, 10, 10)) * 5),
                        ("msk", np.pad(np.ones((6, 6, 6), np.uint8), 2))):  # fmt: skip
        img = nib.Nifti1Image(array.astype(np.float32 if name == "img" else np.uint8), None)
        img.set_qform(np.diag([2.0, 2.0, 3.0, 1.0]), code=1)  # type: ignore[no-untyped-call]
        img.set_sform(None, code=0)  # type: ignore[no-untyped-call]
        nib.save(img, tmp_path / f"{name}.nii")  # type: ignore[no-untyped-call]
        paths.append(tmp_path / f"{name}.nii")
    code = (
        "import contextlib, io\n"
        "from nenscope.cli import app\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):\n"
        f"    app(['radiomics', {str(paths[0])!r}, {str(paths[1])!r}, '--config', 'ibsi-a',\n"
        "         '--format', 'json'], prog_name='nenscope')\n"
        "assert '\"RNU0\"' in out.getvalue(), out.getvalue()[-2000:]\n"
        "import nibabel.nifti1 as n1\n"
        "assert not n1.have_dicom  # nibabel was loaded with pydicom hidden"
    )
    loaded = _modules_after(code)
    assert "nibabel.nifti1" in loaded
    assert "pydicom" not in loaded
