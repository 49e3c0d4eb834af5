"""No identifier in consoles or logs (issue 14 part 7).

A generated PET/CT study is filled with a fake identity (name, ID, birth date, accession,
physicians, institution, address, comments, and the patient ID inside SeriesDescription);
``analyze``, ``suv`` and ``info`` (text and JSON) run on it, and everything they print, every
warning and every log record (DEBUG and up) is scanned for each identifying string.
"""

from __future__ import annotations

import json
import logging
import warnings
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nenscope.cli import app
from tests.fake_identity import PATIENT_ID, leaks, write_identified_study

WIDE = {"COLUMNS": "400"}
"""A wide console: rich must not wrap an identifier across lines, where a scan misses it."""


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_identified_study(tmp_path_factory.mktemp("identified") / "study")


def _run(args: list[str], caplog: pytest.LogCaptureFixture) -> str:
    """Run the CLI; return stdout, stderr, warnings and log records as one text."""
    caplog.set_level(logging.DEBUG)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = CliRunner().invoke(app, args, env=WIDE)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    texts = [result.stdout, result.stderr, *(str(w.message) for w in caught)]
    texts += [record.getMessage() for record in caplog.records]
    return "\n".join(texts)


@pytest.mark.slow
def test_analyze_prints_and_logs_no_identifier(
    study: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    output = _run(["analyze", str(study), "--out", str(tmp_path / "out")], caplog)
    assert (tmp_path / "out" / "report.json").exists(), output
    assert leaks(output) == []
    json_output = _run(
        ["analyze", str(study), "--out", str(tmp_path / "out2"), "--format", "json"], caplog
    )
    assert leaks(json_output) == []


@pytest.mark.parametrize(
    "args",
    [["suv", "{pet}"], ["suv", "{pet}", "--format", "json"], ["info", "{study}"]],
    ids=["suv", "suv-json", "info"],
)
def test_suv_and_info_print_no_identifier(
    args: list[str], study: Path, caplog: pytest.LogCaptureFixture
) -> None:
    filled = [a.format(pet=study / "PET", study=study) for a in args]
    output = _run(filled, caplog)
    assert "nenscope: error" not in output, output
    assert leaks(output) == []


def test_info_json_is_pseudonymous_and_keeps_the_description(
    study: Path, caplog: pytest.LogCaptureFixture
) -> None:
    output = _run(["info", str(study), "--format", "json"], caplog)
    assert leaks(output) == []
    payload = json.loads(_stdout_json(output))
    (patient,) = payload["patients"]
    assert patient["patient"] == "P1"
    descriptions = {s["series_description"] for s in patient["studies"][0]["series"]}
    # The description stays useful: only the identifying part is replaced.
    assert descriptions == {"PET WB X"}


def _stdout_json(text: str) -> str:
    """The JSON document at the start of ``text`` (stdout comes first in :func:`_run`)."""
    decoder = json.JSONDecoder()
    _, end = decoder.raw_decode(text)
    return text[:end]


def test_show_identity_is_an_explicit_choice(
    study: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # The scan would see the identity if it were printed: the opt-in proves the test can fail.
    output = _run(["info", str(study), "--show-identity"], caplog)
    assert PATIENT_ID in output
