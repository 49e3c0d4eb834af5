"""``nenscope.cli.main``: usage errors are one stderr line, help and exit codes are unchanged."""

from __future__ import annotations

import pytest

from tests.cli.conftest import RunCli


def _one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("nenscope: error: "), lines[0]
    return lines[0]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["recomend"], ("'recomend'", "Did you mean 'recommend'", "(see nenscope --help)")),
        (
            ["dose", "decay", "--nuclide", "Ga-68"],
            ("Missing option '--activity-mbq'", "(see nenscope dose decay --help)"),
        ),
        (["dose", "decay", "--bogus"], ("--bogus", "(see nenscope dose decay --help)")),
        (["exams", "--format", "xml"], ("'--format'", "'xml'", "'json'")),
        (
            ["dose", "decay", "--nuclide", "Ga-68", "--activity-mbq", "x", "--elapsed-min", "1"],
            ("'--activity-mbq'", "found 'x'"),
        ),
    ],
)
def test_usage_error_is_one_line_with_a_hint(
    args: list[str], words: tuple[str, ...], nenscope_cli: RunCli
) -> None:
    run = nenscope_cli(*args)
    assert run.exit_code == 2, run.stderr
    line = _one_line(run.stderr)
    assert "Value error" not in line
    assert not [w for w in words if w not in line], line


@pytest.mark.parametrize("args", [["--help"], ["dose", "decay", "--help"]])
def test_help_is_unchanged(args: list[str], nenscope_cli: RunCli) -> None:
    run = nenscope_cli(*args)
    assert run.exit_code == 0
    assert "Usage:" in run.stdout
    assert run.stderr == ""


def test_no_arguments_prints_help(nenscope_cli: RunCli) -> None:
    run = nenscope_cli("dose")
    assert run.exit_code == 2  # Click's status for no_args_is_help, as before
    assert "Usage:" in run.stdout + run.stderr
    assert "nenscope: error" not in run.stderr


def test_success_exits_zero(nenscope_cli: RunCli) -> None:
    run = nenscope_cli("version")
    assert run.exit_code == 0
    assert run.stdout.strip()
    assert run.stderr == ""


def test_refused_input_stays_one_line(nenscope_cli: RunCli) -> None:
    run = nenscope_cli("exams", "ga68-sstr-pett")
    assert run.exit_code == 2
    assert "Did you mean 'ga68-sstr-pet'" in _one_line(run.stderr)


def _plain_commands() -> list[str]:
    from nenscope.cli.app import app

    return sorted(info.name for info in app.registered_commands if info.name)


def test_app_for_cuts_the_app_to_the_named_command_only() -> None:
    from nenscope.cli.app import app, app_for

    single = app_for(["radiomics", "a.nii", "b.nii"])
    assert single is not app
    assert [info.name for info in single.registered_commands] == ["radiomics"]
    assert single.registered_groups == []
    assert len(app.registered_commands) > 10  # the shared app is untouched
    assert {g.name for g in app.registered_groups} >= {"dose", "model"}
    for args in ([], ["--help"], ["--version"], ["dose", "decay"], ["recomend"]):
        assert app_for(args) is app, args


@pytest.mark.parametrize("command", _plain_commands())
def test_one_command_app_gives_the_same_help_and_usage_errors(command: str) -> None:
    """Help text, usage-error text and exit codes do not depend on the cut (issue 9, item 6)."""
    from typer.testing import CliRunner

    from nenscope.cli.app import app, app_for

    runner = CliRunner()
    env = {"COLUMNS": "120", "NO_COLOR": "1", "TERM": "dumb"}
    for args in ([command, "--help"], [command, "--no-such-option"]):
        whole = runner.invoke(app, args, prog_name="nenscope", env=env)
        cut = runner.invoke(app_for(args), args, prog_name="nenscope", env=env)
        assert (cut.exit_code, cut.output) == (whole.exit_code, whole.output), args
        assert whole.output
