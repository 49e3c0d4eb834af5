"""One analysis through the service against the same analysis by the CLI (issue 11: <= 1.10x).

Usage: python benchmarks/bench_service_vs_cli.py [--size default|clinical] [--workdir DIR]

The same generated study is analysed twice in one run: by ``nenscope analyze`` in a fresh
process, and through ``nenscope serve`` (upload first, then ``POST …/analyses`` until the job is
``done``). Wall time and CPU time (user + system of every process involved, read from /proc)
are printed as JSON with the ratios. The service's worker runs at nice 10, so on a loaded
machine its wall time stretches more than the CLI's; the CPU ratio is the cost the service adds.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_service import NENSCOPE, PASSWORD, Client, _start_server, _upload

TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_of(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def _children(pid: int) -> list[int]:
    # every thread's children: the job runner starts the workers from its own thread
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out += [int(p) for p in (task / "children").read_text().split()]
        except OSError:
            continue
    return out


class CpuMeter:
    """Sum of CPU seconds of a process tree, sampled (a process's last sample counts)."""

    def __init__(self, root: int) -> None:
        self.root = root
        self.seen: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def sample(self) -> float:
        stack = [self.root]
        while stack:
            pid = stack.pop()
            cpu = _cpu_of(pid)
            if cpu is not None:
                self.seen[pid] = max(cpu, self.seen.get(pid, 0.0))
            stack += _children(pid)
        return sum(self.seen.values())

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            time.sleep(0.05)

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.sample()


def _users(data_dir: Path) -> None:
    for name, role in (("admin", "admin"), ("tech", "technologist")):
        subprocess.run(
            [
                NENSCOPE,
                "users",
                "add",
                name,
                "--role",
                role,
                "--password-stdin",
                "--data-dir",
                str(data_dir),
            ],
            input=PASSWORD.encode(),
            check=True,
            capture_output=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--size", default="default")
    parser.add_argument("--port", type=int, default=8767)
    args = parser.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="nenscope-bench-svc-cli-"))
    from nenscope.dicom.synthetic import PhantomSettings, write_phantom_study

    study = work / "study"
    if not study.exists():
        write_phantom_study(study, PhantomSettings(size=args.size))
    results: dict[str, Any] = {"size": args.size, "files": len(list(study.rglob("*.dcm")))}

    start = time.perf_counter()
    cli = subprocess.Popen(
        [NENSCOPE, "analyze", str(study), "--out", str(work / "cli-out")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    meter = CpuMeter(cli.pid)
    cli.wait()
    results["cli_wall_s"] = round(time.perf_counter() - start, 2)
    results["cli_cpu_s"] = round(meter.stop(), 2)

    data_dir = work / "data"
    shutil.rmtree(data_dir, ignore_errors=True)  # a fresh service each run
    data_dir.mkdir()
    _users(data_dir)
    server = _start_server(data_dir, None, args.port)
    meter = CpuMeter(server.pid)
    try:
        client = Client(f"http://127.0.0.1:{args.port}")
        client.login("tech")
        start = time.perf_counter()
        study_id = _upload(client, study)
        results["service_upload_s"] = round(time.perf_counter() - start, 2)
        before = meter.sample()
        server_before = meter.seen.get(server.pid, 0.0)
        start = time.perf_counter()
        _, queued, _ = client.call("POST", f"/api/studies/{study_id}/analyses", {})
        while True:  # polled as the worklist does (not every 0.1 s: that costs the server CPU)
            _, job, _ = client.call("GET", f"/api/jobs/{queued['job_id']}")
            if job["state"] in ("done", "failed"):
                break
            time.sleep(1.0)
        results["service_wall_s"] = round(time.perf_counter() - start, 2)
        results["service_cpu_s"] = round(meter.sample() - before, 2)
        results["server_process_cpu_s"] = round(meter.seen[server.pid] - server_before, 2)
        results["job_state"] = job["state"]
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=60)
        meter.stop()
    results["wall_ratio"] = round(results["service_wall_s"] / results["cli_wall_s"], 3)
    results["cpu_ratio"] = round(results["service_cpu_s"] / results["cli_cpu_s"], 3)
    results["loadavg"] = os.getloadavg()
    print(json.dumps(results))


if __name__ == "__main__":
    main()
