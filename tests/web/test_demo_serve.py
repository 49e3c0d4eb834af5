"""``nenscope demo --serve``: the demo study in the web app on 127.0.0.1, a one-time password,
a throwaway data folder removed on exit."""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

NENSCOPE = str(Path(sys.executable).with_name("nenscope"))
START_S = 300.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_demo_serve_opens_the_demo_study(tmp_path: Path) -> None:
    port = _free_port()
    process = subprocess.Popen(
        [
            NENSCOPE,
            "demo",
            "--out",
            str(tmp_path / "demo"),
            "--size",
            "small",
            "--serve",
            "--port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={"PATH": "/usr/bin:/bin", "COLUMNS": "200", "NO_COLOR": "1"},
    )
    try:
        assert process.stdout is not None
        printed = ""
        deadline = time.monotonic() + START_S
        while "Throwaway data folder" not in printed:
            line = process.stdout.readline()
            assert line or process.poll() is None, f"demo --serve ended:\n{printed}"
            printed += line
            assert time.monotonic() < deadline, printed
        url = re.search(r"(http://127\.0\.0\.1:\d+/studies/\d+)", printed)
        password = re.search(r"one-time password (\S+)\.", printed)
        folder = re.search(r"Throwaway data folder (\S+) ", printed)
        assert url, printed
        assert password, printed
        assert folder, printed
        assert url.group(1).startswith(f"http://127.0.0.1:{port}/studies/")
        deadline = time.monotonic() + 60
        while True:  # the server starts just after the message
            try:
                body = json.dumps({"username": "doctor", "password": password.group(1)}).encode()
                request = urllib.request.Request(
                    f"http://127.0.0.1:{port}/api/auth/token",
                    data=body,
                    headers={"Content-Type": "application/json"},
                )
                with urllib.request.urlopen(request) as answer:
                    token = json.loads(answer.read())["token"]
                break
            except OSError:
                assert time.monotonic() < deadline, "the demo server did not answer"
                time.sleep(0.5)
        study_id = urllib.parse.urlsplit(url.group(1)).path.rsplit("/", 1)[1]
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/studies/{study_id}",
            headers={"Authorization": f"Bearer {token}"},
        )
        with urllib.request.urlopen(request) as answer:
            study = json.loads(answer.read())
        assert study["study_id"] == int(study_id)
        assert study["status"] in ("queued", "analysing", "analysed")
        assert Path(folder.group(1)).is_dir()
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=60)  # reads and closes the pipe
    assert not Path(folder.group(1)).exists(), "the throwaway data folder was left behind"
