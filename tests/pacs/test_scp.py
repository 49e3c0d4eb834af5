"""The Storage SCP: a push imports the study and queues an analysis only when a rule matches."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from nenscope import pacs
from nenscope.pacs.nodes import parse_node
from nenscope.pacs.scp import QueueRule, load_rules
from tests.service_components import free_port, study_files
from tests.web.api.service_client import service, token, wait_job

WAIT_S = 60.0


@pytest.mark.parametrize(
    ("rule", "queued"),
    [
        (QueueRule(modality="PT", radiopharmaceutical_contains="dotatate"), True),
        (QueueRule(modality="PT", radiopharmaceutical_contains="FDG"), False),
    ],
    ids=["dotatate-rule-matches", "fdg-rule-does-not"],
)
def test_push_imports_and_queues_by_rule(
    tmp_path: Path, phantom_study: Path, rule: QueueRule, queued: bool
) -> None:
    port = free_port()
    with service(tmp_path / "data", scp_port=port, queue_rules=(rule,)) as client:
        node = parse_node("modality", f"dimse://NENSCOPE@127.0.0.1:{port}", calling_aet="PETCT1")
        pacs.echo(node)
        files = study_files(phantom_study)
        assert len(pacs.store(node, [d for _, d in files])) == len(files)
        tech = token(client, "tech")
        deadline = time.monotonic() + WAIT_S
        study = None
        while time.monotonic() < deadline:
            studies = client.get("/api/studies", headers=tech).json()
            if studies and (not queued or studies[0]["status"] != "stored"):
                study = client.get(f"/api/studies/{studies[0]['study_id']}", headers=tech).json()
                break
            time.sleep(0.2)
        assert study is not None
        assert sum(s["instances"] for s in study["series"]) == len(files)
        assert study["source"] == "scp:PETCT1"
        if queued:
            assert len(study["analyses"]) == 1
            analysis_id = study["analyses"][0]["analysis_id"]
            job_id = client.get(f"/api/analyses/{analysis_id}", headers=tech).json()["job_id"]
            assert wait_job(client, tech, job_id)["state"] == "done"
        else:
            time.sleep(1.0)  # the release handler has run; no analysis may appear
            again = client.get(f"/api/studies/{study['study_id']}", headers=tech).json()
            assert again["analyses"] == []


def test_rules_from_pacs_toml(tmp_path: Path) -> None:
    (tmp_path / "pacs.toml").write_text(
        '[nodes.o]\nurl = "dimse://O@127.0.0.1:104"\n\n'
        '[[rules]]\nmodality = "PT"\nradiopharmaceutical_contains = "DOTATATE"\n'
    )
    assert load_rules(tmp_path) == (
        QueueRule(modality="PT", radiopharmaceutical_contains="DOTATATE"),
    )
    (tmp_path / "pacs.toml").write_text('[[rules]]\nmodaliti = "PT"\n')
    with pytest.raises(ValueError, match="modality and radiopharmaceutical_contains"):
        load_rules(tmp_path)
