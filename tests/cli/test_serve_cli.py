"""``nenscope users add`` and ``nenscope serve`` as a user runs them (real processes)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.service_components import free_port

NENSCOPE = str(Path(sys.executable).with_name("nenscope"))
START_TIMEOUT_S = 120.0


def _run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [NENSCOPE, *args], input=stdin, capture_output=True, text=True, timeout=300, check=False
    )


def test_serve_refuses_without_admin_then_serves_on_loopback(tmp_path: Path) -> None:
    data = str(tmp_path / "data")
    refused = _run("serve", "--data-dir", data)
    assert refused.returncode == 2
    assert "No admin account" in refused.stderr
    assert "users add" in refused.stderr

    added = _run(
        "users",
        "add",
        "root",
        "--role",
        "admin",
        "--password-stdin",
        "--data-dir",
        data,
        stdin="a long password\n",
    )
    assert added.returncode == 0, added.stderr
    typo = _run(
        "users",
        "add",
        "x",
        "--role",
        "physican",
        "--password-stdin",
        "--data-dir",
        data,
        stdin="a long password\n",
    )
    assert typo.returncode == 2
    assert "Did you mean 'physician'" in typo.stderr

    port = free_port()
    env = {**os.environ, "NENSCOPE_DATA_DIR": data}
    server = subprocess.Popen(
        [NENSCOPE, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        refusal: urllib.error.HTTPError | None = None
        while refusal is None:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/studies", timeout=5)
            except urllib.error.HTTPError as err:
                refusal = err
            except (urllib.error.URLError, ConnectionError):
                assert server.poll() is None, server.stdout.read() if server.stdout else ""
                assert time.monotonic() < deadline, "serve did not start"
                time.sleep(0.3)
        assert refusal.code == 401  # no token
        assert "detail" in json.loads(refusal.read())
        body = json.dumps({"username": "root", "password": "a long password"}).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/auth/token",
            data=body,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as answer:
            assert "token" in json.loads(answer.read())
    finally:
        server.terminate()
        output = server.communicate(timeout=60)[0].decode()
    assert f"http://127.0.0.1:{port}" in output  # bound to the loopback by default
