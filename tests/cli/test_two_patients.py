"""Issue 14 part 5: a folder holding two patients is refused unless the user chooses one."""

from __future__ import annotations

from pathlib import Path

from nenscope.dicom.synthetic import PhantomSettings, write_phantom_study
from nenscope.pipeline.staging import check_complete
from tests.cli.conftest import RunCli


def test_two_patients_refused_naming_both_then_chosen(
    nenscope_cli: RunCli, tmp_path: Path
) -> None:
    root = tmp_path / "mixed"
    write_phantom_study(root / "a", PhantomSettings(size="small", seed=3))
    write_phantom_study(root / "b", PhantomSettings(size="small", seed=4))
    out = tmp_path / "out"
    run = nenscope_cli("analyze", root, "--out", out, "--no-pdf")
    assert run.exit_code == 2
    line = run.error_line
    assert "2 patients" in line
    assert "'NENSCOPE-PHANTOM-3'" in line
    assert "'NENSCOPE-PHANTOM-4'" in line
    assert "--patient-id" in line
    chosen = nenscope_cli(
        "analyze", root, "--out", out, "--no-pdf", "--patient-id", "NENSCOPE-PHANTOM-4"
    )
    assert chosen.exit_code == 0, chosen.stderr
    check_complete(out)
    unknown = nenscope_cli("analyze", root, "--out", out, "--patient-id", "X")
    assert unknown.exit_code == 2
    assert "--patient-id 'X' is not in" in unknown.error_line
