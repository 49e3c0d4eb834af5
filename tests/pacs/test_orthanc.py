"""PACS clients against a real Orthanc (DICOMweb and DIMSE), and sign-off sending to it."""

from __future__ import annotations

from pathlib import Path

import pytest

from nenscope import pacs
from nenscope.dicom.instances import dataset_from_bytes, read_instance_header
from nenscope.pacs.dimse import dimse_move_study
from nenscope.pacs.nodes import PacsNode, parse_node
from tests.service_components import OrthancServer, study_files
from tests.web.api.service_client import service, token, wait_job


def _nodes(orthanc: OrthancServer) -> dict[str, PacsNode]:
    return {
        "web": parse_node("web", f"dicomweb+{orthanc.dicomweb_url}"),
        "dimse": parse_node("dimse", f"dimse://{orthanc.aet}@127.0.0.1:{orthanc.dicom_port}"),
    }


@pytest.mark.parametrize("protocol", ["web", "dimse"])
def test_store_find_retrieve(orthanc: OrthancServer, phantom_study: Path, protocol: str) -> None:
    node = _nodes(orthanc)[protocol]
    files = study_files(phantom_study)
    study_uid = read_instance_header(files[0][1], name="first").study_instance_uid
    pacs.echo(node)
    sent = pacs.store(node, [data for _, data in files])
    assert len(sent) == len(files)
    assert len(orthanc.rest("/instances")) == len(files)  # type: ignore[arg-type]
    found = pacs.find_studies(node, {"StudyInstanceUID": study_uid})
    assert [f["StudyInstanceUID"] for f in found] == [study_uid]
    assert set(found[0]["ModalitiesInStudy"].split("\\")) == {"CT", "PT"}
    assert pacs.find_studies(node, {"PatientID": "nobody-has-this-id"}) == []
    fetched = pacs.retrieve_study(node, study_uid)
    uids = {read_instance_header(data, name=n).sop_instance_uid for n, data in fetched}
    assert uids == {read_instance_header(d, name=n).sop_instance_uid for n, d in files}


def test_unreachable_node_is_a_clear_error(orthanc: OrthancServer) -> None:
    node = parse_node("gone", "dimse://NOBODY@127.0.0.1:9")
    with pytest.raises(pacs.PacsError, match="refused or did not answer"):
        pacs.echo(node)


@pytest.mark.parametrize("protocol", ["web", "dimse"])
def test_retrieve_analyse_sign_sends_seg_and_sr(
    orthanc: OrthancServer, phantom_study: Path, tmp_path: Path, protocol: str
) -> None:
    nodes = _nodes(orthanc)
    files = study_files(phantom_study)
    pacs.store(nodes["dimse"], [data for _, data in files])
    study_uid = read_instance_header(files[0][1], name="first").study_instance_uid
    with service(tmp_path / "data", pacs=nodes) as client:
        tech, doc = token(client, "tech"), token(client, "doc")
        found = client.get(f"/api/pacs/{protocol}/studies?PatientID=", headers=tech)
        assert found.status_code == 200, found.text
        retrieved = client.post(
            f"/api/pacs/{protocol}/retrieve",
            headers=tech,
            json={"study_instance_uid": study_uid},
        )
        assert retrieved.status_code == 201, retrieved.text
        study_id = retrieved.json()["study_id"]
        queued = client.post(f"/api/studies/{study_id}/analyses", headers=tech, json={}).json()
        assert wait_job(client, tech, queued["job_id"])["state"] == "done"
        signed = client.post(
            f"/api/analyses/{queued['analysis_id']}/sign",
            headers=doc,
            json={"send_to": protocol},
        )
        assert signed.status_code == 200, signed.text
        sent = signed.json()["sent"]
        assert len(sent) == 2
        # Orthanc has them now: query it for the study's SEG and SR series.
        series = pacs.find_studies(nodes["web"], {"StudyInstanceUID": study_uid})
        assert set(series[0]["ModalitiesInStudy"].split("\\")) >= {"SEG", "SR"}
        stored = pacs.retrieve_study(nodes["web"], study_uid)
        by_uid = {read_instance_header(d, name=n).sop_instance_uid: d for n, d in stored}
        assert set(sent) <= set(by_uid)
        sr = next(
            dataset_from_bytes(by_uid[uid])
            for uid in sent
            if read_instance_header(by_uid[uid], name=uid).modality == "SR"
        )
        assert sr.VerificationFlag == "VERIFIED"
        assert str(sr.VerifyingObserverSequence[0].VerifyingObserverName) == "doc"
        names = [str(item.PersonName) for item in sr.ContentSequence if item.ValueType == "PNAME"]
        assert names == ["doc"]


def test_c_move_to_the_storage_scp(
    orthanc: OrthancServer, phantom_study: Path, tmp_path: Path
) -> None:
    nodes = _nodes(orthanc)
    files = study_files(phantom_study)
    pacs.store(nodes["dimse"], [data for _, data in files])
    study_uid = read_instance_header(files[0][1], name="first").study_instance_uid
    with service(tmp_path / "data", scp_port=orthanc.scp_port) as client:
        moved = dimse_move_study(nodes["dimse"], study_uid, destination_aet="NENSCOPE")
        assert moved == len(files)
        studies = client.get("/api/studies", headers=token(client, "tech")).json()
        assert [s["study_id"] for s in studies] == [1]
        assert studies[0]["modalities"] == ["CT", "PT"]


def test_admin_echo_endpoint_answers_ok_for_both_protocols(
    orthanc: OrthancServer, tmp_path: Path
) -> None:
    with service(tmp_path / "data", pacs=_nodes(orthanc), run_jobs=False) as client:
        admin = token(client, "admin")
        listed = client.get("/api/pacs/nodes", headers=admin).json()
        assert [n["name"] for n in listed] == ["dimse", "web"]
        for name in ("web", "dimse"):
            answer = client.post(f"/api/pacs/nodes/{name}/echo", headers=admin).json()
            assert answer["ok"] is True, answer
            assert answer["error"] is None
            assert answer["ms"] >= 0
