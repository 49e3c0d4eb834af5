"""Benchmark of the service (issue 11): list latency, concurrent users, analysis overhead.

Three measurements on a real ``nenscope serve`` (Uvicorn, one process, loopback):

1. ``GET /api/studies`` over 10,000 stored studies (default page of 100, and ``limit=1000``),
   30 requests each: median and p95. Goal: < 300 ms.
2. 20 simulated users, each a bounded loop of 25 requests over worklist, study, job and
   analysis pages, while 2 analyses run in the worker pool: p95 and errors. Goal: p95 < 500 ms,
   no error.
3. One analysis through the service (``POST …/analyses`` to job ``done``) against the CLI
   (``nenscope analyze`` in a fresh process) on the same study. Goal: ≤ 10 % more.

Usage::

    python benchmarks/bench_service.py [--workdir DIR] [--size small|default] [--db URL]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

N_STUDIES = 10_000
N_USERS = 20
REQUESTS_PER_USER = 25
PASSWORD = "benchmark password"
NENSCOPE = str(Path(sys.executable).with_name("nenscope"))


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def _seed_studies(data_dir: Path, db_url: str | None) -> None:
    from sqlalchemy import insert

    from nenscope.store import Store
    from nenscope.store.accounts import create_user
    from nenscope.store.models import Patient, Study

    store = Store(data_dir, db_url)
    with store.session() as session:
        create_user(session, "admin", role="admin", password=PASSWORD)
        create_user(session, "tech", role="technologist", password=PASSWORD)
        create_user(session, "doc", role="physician", password=PASSWORD)
        now = datetime.now(UTC)
        session.execute(
            insert(Patient),
            [
                {"patient_key": f"BENCH{i:05d}", "name": "", "birth_date": "", "sex": ""}
                for i in range(N_STUDIES // 4)
            ],
        )
        session.execute(
            insert(Study),
            [
                {
                    "study_instance_uid": f"2.25.{uuid.uuid4().int}",
                    "patient_id": 1 + i % (N_STUDIES // 4),
                    "study_date": f"20{10 + i % 15:02d}-{1 + i % 12:02d}-{1 + i % 28:02d}",
                    "description": "PET/CT DOTATATE",
                    "accession_number": f"A{i}",
                    "modalities": "CT,PT",
                    "status": "stored",
                    "source": "benchmark",
                    "created_at": now,
                }
                for i in range(N_STUDIES)
            ],
        )
    store.close()


class Client:
    def __init__(self, base: str) -> None:
        self.base = base
        self.headers: dict[str, str] = {}

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        data: bytes | None = None,
        content_type: str = "application/json",
    ) -> tuple[int, Any, float]:
        payload = (
            data if data is not None else (None if body is None else json.dumps(body).encode())
        )
        request = urllib.request.Request(self.base + path, data=payload, method=method)
        for key, value in self.headers.items():
            request.add_header(key, value)
        if payload is not None:
            request.add_header("Content-Type", content_type)
        start = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=120) as answer:
                raw, code = answer.read(), answer.status
        except urllib.error.HTTPError as err:
            raw, code = err.read(), err.code
        elapsed = time.perf_counter() - start
        try:
            parsed = json.loads(raw)
        except ValueError:
            parsed = raw
        return code, parsed, elapsed

    def login(self, user: str) -> None:
        code, answer, _ = self.call(
            "POST", "/api/auth/token", {"username": user, "password": PASSWORD}
        )
        if code != 200:
            raise SystemExit(f"login failed: {code} {answer}")
        self.headers = {"Authorization": f"Bearer {answer['token']}"}


def _multipart(files: list[Path]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = []
    for path in files:
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="files"; '
            f'filename="{path.name}"\r\nContent-Type: application/dicom\r\n\r\n'.encode()
            + path.read_bytes()
            + b"\r\n"
        )
    return b"".join(
        parts
    ) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def _upload(client: Client, study: Path) -> int:
    body, ctype = _multipart(sorted(study.rglob("*.dcm")))
    code, answer, _ = client.call("POST", "/api/studies", data=body, content_type=ctype)
    if code not in (200, 201):
        raise SystemExit(f"upload failed: {code} {answer}")
    return int(answer["study_id"])


def _wait(client: Client, job_id: int) -> dict[str, Any]:
    while True:
        _, job, _ = client.call("GET", f"/api/jobs/{job_id}")
        if job["state"] in ("done", "failed"):
            return dict(job)
        time.sleep(0.1)


def _start_server(data_dir: Path, db_url: str | None, port: int) -> subprocess.Popen[bytes]:
    command = [NENSCOPE, "serve", "--data-dir", str(data_dir), "--port", str(port)]
    if db_url:
        command += ["--db", db_url]
    log = (data_dir / "serve.log").open("wb")
    proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    base = Client(f"http://127.0.0.1:{port}")
    for _ in range(600):
        try:
            base.call("GET", "/openapi.json")
            return proc
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.1)
    proc.terminate()
    raise SystemExit(f"server did not start: {(data_dir / 'serve.log').read_text()[-2000:]}")


def _list_latency(client: Client) -> dict[str, float]:
    out: dict[str, float] = {}
    for label, path in (
        ("page_100", "/api/studies"),
        ("page_1000", "/api/studies?limit=1000"),
        ("filtered", "/api/studies?patient_id=BENCH00042"),
    ):
        times = []
        for _ in range(30):
            code, answer, elapsed = client.call("GET", path)
            if code != 200:
                raise SystemExit(f"{path}: {code} {answer}")
            times.append(elapsed * 1000)
        out[f"{label}_median_ms"] = statistics.median(times)
        out[f"{label}_p95_ms"] = _p95(times)
    return out


def _users(
    base: str, study_ids: list[int], job_ids: list[int], analysis_ids: list[int]
) -> dict[str, Any]:
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def user(index: int) -> None:
        client = Client(base)
        client.login("doc")
        paths = [
            "/api/studies",
            f"/api/studies/{study_ids[index % 2]}",
            f"/api/jobs/{job_ids[index % 2]}",
            f"/api/analyses/{analysis_ids[index % 2]}",
            "/api/studies?status=stored&limit=50",
        ]
        for i in range(REQUESTS_PER_USER):
            code, _answer, elapsed = client.call("GET", paths[i % len(paths)])
            with lock:
                latencies.append(elapsed * 1000)
                if code != 200:
                    errors.append(f"{paths[i % len(paths)]}: {code}")
            time.sleep(0.05)  # a user reads before the next click

    threads = [threading.Thread(target=user, args=(i,)) for i in range(N_USERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {
        "requests": len(latencies),
        "errors": errors,
        "median_ms": statistics.median(latencies),
        "p95_ms": _p95(latencies),
        "max_ms": max(latencies),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--size", default="small")
    parser.add_argument("--db", default=None)
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="nenscope-bench-service-"))
    data_dir = work / "data"
    from nenscope.dicom.synthetic import PhantomSettings, write_phantom_study

    studies = []
    for seed in (0, 7):
        folder = work / f"study-{seed}"
        if not folder.exists():
            write_phantom_study(folder, PhantomSettings(size=args.size, seed=seed))
        studies.append(folder)
    _seed_studies(data_dir, args.db)
    results: dict[str, Any] = {"size": args.size, "db": args.db or "sqlite", "studies": N_STUDIES}

    # The CLI run (fresh process, as a user runs it).
    start = time.perf_counter()
    subprocess.run(
        [NENSCOPE, "analyze", str(studies[0]), "--out", str(work / "cli-out")],
        check=True,
        capture_output=True,
    )
    results["cli_analyze_s"] = time.perf_counter() - start

    server = _start_server(data_dir, args.db, args.port)
    try:
        base = f"http://127.0.0.1:{args.port}"
        client = Client(base)
        client.login("tech")
        results["list"] = _list_latency(client)
        study_ids = [_upload(client, s) for s in studies]
        # One analysis alone: the service's cost against the CLI.
        start = time.perf_counter()
        _, queued, _ = client.call("POST", f"/api/studies/{study_ids[0]}/analyses", {})
        job = _wait(client, queued["job_id"])
        results["service_analyze_s"] = time.perf_counter() - start
        results["service_job_state"] = job["state"]
        results["service_vs_cli"] = results["service_analyze_s"] / results["cli_analyze_s"]
        # Two analyses running while 20 users browse.
        running = [client.call("POST", f"/api/studies/{sid}/analyses", {})[1] for sid in study_ids]
        time.sleep(1.0)
        results["jobs_when_users_start"] = [
            client.call("GET", f"/api/jobs/{r['job_id']}")[1]["state"] for r in running
        ]
        results["concurrent"] = _users(
            base, study_ids, [r["job_id"] for r in running], [r["analysis_id"] for r in running]
        )
        states = [_wait(client, r["job_id"])["state"] for r in running]
        results["concurrent"]["analyses"] = states
    finally:
        server.terminate()
        server.wait(30)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
