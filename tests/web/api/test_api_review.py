"""Review edits re-score the analysis (issue 11.6): reject, add, move a reference, SSTR-RADS
inputs, undo, and signing writes the reviewed SEG/SR (found in a real Orthanc).

Expected values come from the analysis's own lesion measurements (volumes, TLG), not from the
re-scoring code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pydicom
import pytest
from fastapi.testclient import TestClient

from nenscope import pacs
from nenscope.dicom.instances import dataset_from_bytes, read_instance_header
from nenscope.pacs.nodes import parse_node
from tests.service_components import OrthancServer, study_files, zip_of
from tests.web.api.service_client import service, token, wait_job


def _analysed(client: TestClient, phantom_study: Path) -> tuple[int, dict[str, str]]:
    tech, doc = token(client, "tech"), token(client, "doc")
    upload = client.post(
        "/api/studies",
        headers=tech,
        files=[("files", ("s.zip", zip_of(study_files(phantom_study))))],
    )
    assert upload.status_code == 201, upload.text
    queued = client.post(
        f"/api/studies/{upload.json()['study_id']}/analyses", headers=tech, json={}
    ).json()
    assert wait_job(client, tech, queued["job_id"])["state"] == "done"
    return int(queued["analysis_id"]), doc


def _score(view: dict[str, Any], name: str) -> str:
    return str(next(s["value"] for s in view["scores"] if s["name"] == name))


def _burden(lesions: list[dict[str, Any]]) -> str:
    counted = [les for les in lesions if les["status"] != "rejected"]
    volume = sum(les["volume_ml"] for les in counted)
    tlg = sum(les["tlg"] for les in counted)
    return f"{volume:.1f} mL; total lesion uptake {tlg:.1f} g"


def _reference(view: dict[str, Any], name: str) -> dict[str, Any]:
    return dict(next(r for r in view["reference_regions"] if r["name"] == name))


def test_edits_rescore_and_undo_restores(
    tmp_path: Path, db_url: str | None, phantom_study: Path
) -> None:
    with service(tmp_path / "data", db_url) as client:
        analysis_id, doc = _analysed(client, phantom_study)
        url = f"/api/analyses/{analysis_id}"
        first = client.get(url, headers=doc).json()
        assert first["rescored"] is False
        lesions = first["lesions"]
        assert _score(first, "Whole-body tumour burden") == _burden(lesions)
        hottest = max(lesions, key=lambda les: les["suvmax"])

        # Reject the hottest lesion: totals, lesion count and report follow at once.
        patched = client.patch(
            f"{url}/lesions/{hottest['id']}", headers=doc, json={"status": "rejected"}
        )
        assert patched.status_code == 200, patched.text
        assert patched.json()["report_id"] is None
        after = client.get(url, headers=doc).json()
        assert after["rescored"] is True
        assert _score(after, "Whole-body tumour burden") == _burden(after["lesions"])
        assert _score(after, "Whole-body tumour burden") != _score(
            first, "Whole-body tumour burden"
        )
        numbers = [les["report_id"] for les in after["lesions"] if les["status"] != "rejected"]
        assert numbers == list(range(1, len(lesions)))
        html = client.get(after["report_html"], headers=doc)
        assert html.status_code == 200
        assert f"analysis lesion {hottest['id']} at" in html.text
        assert "rejected by doc" in html.text
        gone = next(les for les in after["lesions"] if les["id"] == hottest["id"])
        assert (gone["status"], gone["reviewed_by"]) == ("rejected", "doc")
        # The reviewed tables mark each lesion; the others are unreviewed candidates.
        assert "<th>Review</th>" in html.text
        assert "? automatic candidate, not reviewed (counted)" in html.text
        assert 'class="mip"' in html.text  # the reviewed MIP, drawn on this first request
        pdf = client.get(f"{url}/report.pdf?version={after['version']}", headers=doc)
        assert pdf.status_code == 200
        assert pdf.content.startswith(b"%PDF")

        # Add it back from a seed (its place is free now): the totals return.
        added = client.post(
            f"{url}/lesions", headers=doc, json={"seed_mm": hottest["centroid_mm"]}
        )
        assert added.status_code == 201, added.text
        new = added.json()
        assert new["status"] == "confirmed"
        assert new["report_id"] == len(lesions)
        assert new["krenning"] == hottest["krenning"]
        again = client.get(url, headers=doc).json()
        assert _score(again, "Whole-body tumour burden") == _burden(again["lesions"])
        shown = next(les for les in again["lesions"] if les["id"] == new["id"])
        assert (shown["reviewed_by"], shown["added_by_reader"]) == ("doc", True)
        html = client.get(again["report_html"], headers=doc)
        assert "+ added by the reader (doc)" in html.text

        # Move the liver region onto the spleen: the liver mean changes (and Krenning says
        # the references are not usable: liver no longer below spleen).
        spleen = _reference(again, "spleen")
        moved = client.put(
            f"{url}/references/liver", headers=doc, json={"centre_mm": spleen["centre_mm"]}
        )
        assert moved.status_code == 200, moved.text
        liver = _reference(moved.json(), "liver")
        assert liver["mean"]["value"] == pytest.approx(spleen["mean"]["value"], rel=0.1)
        assert liver["mean"]["value"] != _reference(again, "liver")["mean"]["value"]
        assert _score(moved.json(), "Krenning (patient)") == "not computable"
        assert moved.json()["review"]["references"]["liver"]["by"] == "doc"
        outside = client.put(
            f"{url}/references/liver", headers=doc, json={"centre_mm": [5000, 0, 0]}
        )
        assert outside.status_code == 422
        assert (
            "(5000, 0, 0) mm lies outside the PET image: x 5000 (valid" in outside.json()["detail"]
        )
        assert (
            client.put(
                f"{url}/references/kidney", headers=doc, json={"centre_mm": [0, 0, 0]}
            ).status_code
            == 404
        )

        # Undo the move: the previous version's scores are back.
        undone = client.post(f"{url}/undo", headers=doc).json()
        assert undone["scores"] == again["scores"]
        assert _reference(undone, "liver") == _reference(again, "liver")

        # SSTR-RADS inputs: a CT correlate makes an intense lesion category 5.
        target = next(
            les for les in undone["lesions"] if les["status"] != "rejected" and les["sstr_rads"]
        )
        rads = client.put(
            f"{url}/sstr-rads",
            headers=doc,
            json={"lesions": {str(target["id"]): {"anatomy": "suspicious"}}},
        )
        assert rads.status_code == 200, rads.text
        view = rads.json()
        assert view["sstr_rads_inputs"][str(target["id"])]["anatomy"] == "suspicious"
        shown = next(les for les in view["lesions"] if les["id"] == target["id"])
        assert shown["sstr_rads"] == "5"
        assert _score(view, "SSTR-RADS 1.0") == "SSTR-RADS-5"
        bad = client.put(
            f"{url}/sstr-rads",
            headers=doc,
            json={"lesions": {str(target["id"]): {"anatomy": "suspicous"}}},
        )
        assert bad.status_code == 422
        assert "suspicious" in bad.json()["detail"]
        rejected = client.put(
            f"{url}/sstr-rads",
            headers=doc,
            json={"lesions": {str(hottest["id"]): {"site": "atypical"}}},
        )
        assert rejected.status_code == 422
        assert "is rejected" in rejected.json()["detail"]
        history = client.get(f"{url}/history", headers=doc).json()
        assert [h["action"] for h in history] == [
            "lesion.status",
            "lesion.add",
            "reference.move",
            "undo",
            "sstr_rads.inputs",
        ]


def _tracking_ids(sr: pydicom.Dataset) -> list[str]:
    found: list[str] = []

    def walk(items: Any) -> None:
        for item in items:
            name = item.get("ConceptNameCodeSequence")
            if name and name[0].CodeValue == "112039" and item.get("TextValue"):
                found.append(str(item.TextValue))
            if "ContentSequence" in item:
                walk(item.ContentSequence)

    walk(sr.ContentSequence)
    return found


def test_signed_seg_and_sr_are_the_reviewed_ones_in_orthanc(
    tmp_path: Path, orthanc: OrthancServer, phantom_study: Path
) -> None:
    node = parse_node("orthanc", f"dicomweb+{orthanc.dicomweb_url}")
    with service(tmp_path / "data", pacs={"orthanc": node}) as client:
        analysis_id, doc = _analysed(client, phantom_study)
        url = f"/api/analyses/{analysis_id}"
        lesions = client.get(url, headers=doc).json()["lesions"]
        n = len(lesions)
        assert n >= 3
        by_suv = sorted(lesions, key=lambda les: -les["suvmax"])
        # Reject two, add one back from a seed: n - 1 lesions reviewed.
        for lesion in by_suv[:2]:
            answer = client.patch(
                f"{url}/lesions/{lesion['id']}", headers=doc, json={"status": "rejected"}
            )
            assert answer.status_code == 200, answer.text
        added = client.post(
            f"{url}/lesions", headers=doc, json={"seed_mm": by_suv[0]["centroid_mm"]}
        )
        assert added.status_code == 201, added.text
        signed = client.post(f"{url}/sign", headers=doc, json={"send_to": "orthanc"})
        assert signed.status_code == 200, signed.text
        sent = signed.json()["sent"]
        assert len(sent) == 2
        pdf = client.get(signed.json()["report_pdf"], headers=doc)
        assert pdf.content.startswith(b"%PDF")

        study_uid = read_instance_header(
            study_files(phantom_study)[0][1], name="first"
        ).study_instance_uid
        stored = pacs.retrieve_study(node, study_uid)
        by_uid = {read_instance_header(d, name=name).sop_instance_uid: d for name, d in stored}
        assert set(sent) <= set(by_uid)
        datasets = [dataset_from_bytes(by_uid[uid]) for uid in sent]
        seg = next(d for d in datasets if d.Modality == "SEG")
        sr = next(d for d in datasets if d.Modality == "SR")
        labels = [str(s.SegmentLabel) for s in seg.SegmentSequence]
        lesion_labels = [x for x in labels if x.startswith("Lesion")]
        assert lesion_labels == [f"Lesion {i}" for i in range(1, n)]
        tracked = [t for t in _tracking_ids(sr) if t.startswith("Lesion")]
        assert tracked == lesion_labels
        assert str(sr.VerifyingObserverSequence[0].VerifyingObserverName) == "doc"
