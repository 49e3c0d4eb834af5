"""The exams/evidence/dose payloads are API functions (issue 9: the CLI only prints them)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from nenscope.core.errors import OptionError
from nenscope.knowledge.kb import load_knowledge_base
from nenscope.knowledge.payloads import (
    activity_answer,
    decay_answer,
    evidence_payload,
    exams_payload,
    latest_time_answer,
)


def test_exams_payload_one_exam() -> None:
    payload = exams_payload(load_knowledge_base(), "fdg-pet")
    assert [e["id"] for e in payload["exams"]] == ["fdg-pet"]
    assert payload["exams"][0]["radiopharmaceutical"]["name"] == "18F-FDG"
    with pytest.raises(OptionError, match="Did you mean 'fdg-pet'"):
        exams_payload(load_knowledge_base(), "fdg-pett")


def test_evidence_payload_resolves_an_exam() -> None:
    payload = evidence_payload(load_knowledge_base(), "fdg-pet")
    assert payload["exam"] == "fdg-pet"
    assert payload["references"]


def test_decay_by_hand() -> None:
    # One Ga-68 half-life (4062.6 s, NuDat 3): 200 MBq -> 100 MBq, factor 0.5.
    answer = decay_answer(load_knowledge_base(), "Ga-68", 200.0, elapsed_s=4062.6)
    assert answer.payload["activity_end_mbq"] == pytest.approx(100.0, rel=1e-12)
    assert answer.text == "200 MBq Ga-68 after 67.7 min: 100.0 MBq (factor 0.5000)"


def test_latest_time_by_hand() -> None:
    # 200 MBq -> 100 MBq needs exactly one half-life: 67.71 min, printed rounded down to 67.
    t0 = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
    answer = latest_time_answer(
        load_knowledge_base(), "Ga-68", activity_mbq=200.0, measured_at=t0, required_mbq=100.0
    )
    assert answer.payload["minutes_after_calibration"] == pytest.approx(67.71, rel=1e-12)
    assert "until 2024-05-01T09:07+00:00 (67 min after calibration)" in answer.text


def test_fdg_rule_refused_for_another_tracer() -> None:
    with pytest.raises(OptionError, match="applies to fdg-pet only"):
        activity_answer(load_knowledge_base(), "ga68-sstr-pet", fdg_minutes_per_bed=2.0)
