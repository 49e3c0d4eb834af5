"""Benchmark: review edits through the service (issue 11.6: a seed lesion in < 2 s).

Runs the real service in-process (FastAPI TestClient, SQLite in a temporary data folder),
uploads a study, lets a worker analyse it, then times the review calls a reader makes:

* ``POST /api/analyses/{id}/lesions`` (add a lesion from a seed: the seed segmentation on the
  stored SUV image, the clash check, the re-score and the re-rendered HTML/JSON/PDF report
  with its MIP), seeded at the centroid of a lesion rejected just before;
* ``PATCH .../lesions/{id}`` (reject: re-score and re-render);
* ``PUT .../references/liver`` (move the liver region: re-measure and re-score).

Each call is timed ``--repeat`` times (an undo between tries), and the seed segmentation alone
(:func:`nenscope.jobs.analysis.grow_lesion_from_seed` on the stored SUV) is timed apart. The
goal, < 2 s for adding a lesion, is printed with the ratio; the wall time depends on the
machine's load (``uptime`` is printed).

Usage::

    python benchmarks/bench_review_edit.py --size clinical
    python benchmarks/bench_review_edit.py --study ../shared/data/dicom/tcia-acrin-nsclc-fdg-042 \
        --only PT CT
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

GOAL_S = 2.0
PASSWORD = "a long benchmark password"


def _zip(folder: Path, subfolders: list[str]) -> bytes:
    buffer = io.BytesIO()
    roots = [folder / sub for sub in subfolders] or [folder]
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for path in sorted(p for root in roots for p in root.rglob("*")):
            if path.is_file() and not path.name.endswith((".txt", ".md", ".json")):
                archive.write(path, f"study/{path.relative_to(folder).as_posix()}")
    return buffer.getvalue()


def _timed(call: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    answer = call()
    return time.perf_counter() - start, answer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--study", type=Path, help="a DICOM study folder (default: a phantom)")
    parser.add_argument("--size", default="clinical", help="phantom size when no --study")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--only", nargs="*", default=[], help="upload only these sub-folders (e.g. PT CT)"
    )
    args = parser.parse_args()

    from fastapi.testclient import TestClient

    from nenscope.jobs.analysis import grow_lesion_from_seed, load_suv
    from nenscope.jobs.worker import version_dir
    from nenscope.store import Store
    from nenscope.store.accounts import create_user
    from nenscope.web.app import create_app
    from nenscope.web.settings import ServiceSettings

    print(f"load: {os.getloadavg()}")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        study = args.study
        if study is None:
            from nenscope.dicom.synthetic import PhantomSettings, write_phantom_study

            study = root / "phantom"
            write_phantom_study(
                study,
                PhantomSettings(size=args.size, seed=11, fwhm_mm=6.0, noise=0.1, ct_noise_hu=10.0),
            )
            print(f"study: generated phantom ({args.size})")
        else:
            print(f"study: {study}")
        data = root / "data"
        store = Store(data, None)
        with store.session() as session:
            create_user(session, "doc", role="physician", password=PASSWORD)
        store.close()
        settings = ServiceSettings(data_dir=data, workers=1, max_upload_bytes=8 * 1024**3)
        with TestClient(create_app(settings)) as client:
            token = client.post(
                "/api/auth/token", json={"username": "doc", "password": PASSWORD}
            ).json()["token"]
            auth = {"Authorization": f"Bearer {token}"}
            upload = client.post(
                "/api/studies", headers=auth, files=[("files", ("s.zip", _zip(study, args.only)))]
            )
            upload.raise_for_status()
            study_id = upload.json()["study_id"]
            queued = client.post(f"/api/studies/{study_id}/analyses", headers=auth, json={})
            queued.raise_for_status()
            job_id, analysis_id = queued.json()["job_id"], queued.json()["analysis_id"]
            start = time.perf_counter()
            while True:
                job = client.get(f"/api/jobs/{job_id}", headers=auth).json()
                if job["state"] in ("done", "failed"):
                    break
                time.sleep(1.0)
            print(f"analysis through the service: {time.perf_counter() - start:.1f} s ({job})")
            if job["state"] != "done":
                raise SystemExit(f"analysis failed: {job['error']}")
            url = f"/api/analyses/{analysis_id}"
            lesions = client.get(url, headers=auth).json()["lesions"]
            if not lesions:
                raise SystemExit("the analysis found no lesion to reject and add back")
            target = max(lesions, key=lambda les: les["suvmax"])
            print(
                f"{len(lesions)} lesions; seed at lesion {target['id']} "
                f"(SUVmax {target['suvmax']:.1f}, {target['volume_ml']:.1f} mL)"
            )

            run = version_dir(client.app.state.store, analysis_id)  # type: ignore[attr-defined]
            suv_load, suv = _timed(lambda: load_suv(run, None))
            print(f"SUV image {suv.shape}: loaded in {suv_load:.2f} s")
            grow = []
            for _ in range(args.repeat):
                seconds, _grown = _timed(
                    lambda: grow_lesion_from_seed(
                        suv, tuple(target["centroid_mm"]), lesion_id=999, result={}
                    )
                )
                grow.append(seconds)

            reject, add, move = _edits(client, auth, url, target, args.repeat)
            rescore, figures = _rescore_alone(
                client.app.state.store, analysis_id, root, args.repeat
            )  # type: ignore[attr-defined]

    line("seed segmentation alone (grow_lesion_from_seed)", grow)
    line("POST lesions (add from seed, re-score, report)", add, GOAL_S)
    line("re-score alone (rescore_result, HTML + JSON)", rescore)
    line("re-score with MIP + lesion views (first report view)", figures)
    line("PATCH lesion rejected (re-score, report)", reject)
    line("PUT references/liver (re-measure, re-score)", move)
    print(f"load: {os.getloadavg()}")


def line(name: str, values: list[float], goal: float | None = None) -> None:
    """Print the median and the tries of one timed call (and the ratio to its goal)."""
    median = statistics.median(values)
    tries = ", ".join(f"{v:.2f}" for v in values)
    text = f"{name:<48} median {median:6.2f} s  (tries: {tries})"
    if goal is not None:
        verdict = "met" if median < goal else "NOT met"
        text += f"  goal < {goal:g} s: ratio {median / goal:.2f} ({verdict})"
    print(text)


def _rescore_alone(
    store: Any, analysis_id: int, root: Path, repeat: int
) -> tuple[list[float], list[float]]:
    """Time the re-score of the current version in-process, without and with figures."""
    import copy

    from nenscope.jobs.analysis import load_suv
    from nenscope.jobs.review import rescore_result
    from nenscope.jobs.worker import version_dir
    from nenscope.store.models import Analysis
    from nenscope.store.review import current_result

    with store.session() as session:
        result = current_result(session, session.get(Analysis, analysis_id))
    run = version_dir(store, analysis_id)
    plain, drawn = [], []
    for k in range(repeat):
        start = time.perf_counter()
        rescore_result(copy.deepcopy(result), run, root / f"plain-{k}")
        plain.append(time.perf_counter() - start)
        start = time.perf_counter()
        suv = load_suv(run, result.get("suv_unit"))
        rescore_result(copy.deepcopy(result), run, root / f"drawn-{k}", suv=suv, lesion_views=True)
        drawn.append(time.perf_counter() - start)
    return plain, drawn


def _edits(
    client: Any, auth: dict[str, str], url: str, target: dict[str, Any], repeat: int
) -> tuple[list[float], list[float], list[float]]:
    """Time reject, add (seed at the rejected lesion) and liver move; undo all three after."""
    reject, add, move = [], [], []
    view = client.get(url, headers=auth).json()
    liver = next(r for r in view["reference_regions"] if r["name"] == "liver")
    centre = [liver["centre_mm"][0] + 10.0, *liver["centre_mm"][1:]]
    calls = (
        (reject, "patch", f"{url}/lesions/{target['id']}", {"status": "rejected"}),
        (add, "post", f"{url}/lesions", {"seed_mm": target["centroid_mm"]}),
        (move, "put", f"{url}/references/liver", {"centre_mm": centre}),
    )
    for _ in range(repeat):
        for times, method, path, body in calls:
            start = time.perf_counter()
            answer = getattr(client, method)(path, headers=auth, json=body)
            times.append(time.perf_counter() - start)
            answer.raise_for_status()
        for _undo in calls:
            client.post(f"{url}/undo", headers=auth).raise_for_status()
    return reject, add, move


if __name__ == "__main__":
    main()
