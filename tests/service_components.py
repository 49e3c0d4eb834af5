"""Real components for the service tests: PostgreSQL, Orthanc, a synthetic PET/CT study.

PostgreSQL (Debian ``postgresql``) runs as the ``postgres`` user in a temporary folder and
listens on 127.0.0.1 only. Orthanc (Debian ``orthanc`` + ``orthanc-dicomweb``) listens on every
interface, so it is started only inside a private network namespace (``unshare -n`` as .ci/run
does), where the loopback is the only interface; elsewhere its tests skip and say why.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from nenscope.dicom.synthetic import PhantomSettings, write_phantom_study

PG_BIN_DIRS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
ORTHANC = shutil.which("Orthanc") or "/usr/sbin/Orthanc"
ORTHANC_PLUGINS = Path("/usr/share/orthanc/plugins")
STARTUP_TIMEOUT_S = 60.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_port(port: int, proc: subprocess.Popen[bytes], what: str, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"{what} exited with {proc.returncode}: {log.read_text()[-2000:]}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    pytest.fail(f"{what} did not listen on 127.0.0.1:{port}: {log.read_text()[-2000:]}")


# ----------------------------------------------------------------------------- PostgreSQL
@dataclass(frozen=True)
class PostgresServer:
    port: int

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"


def _as_postgres(args: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    if not PG_BIN_DIRS:
        pytest.skip("PostgreSQL is not installed (Debian package postgresql; .ci/run installs it)")
    bin_dir = PG_BIN_DIRS[0]
    root = Path(tempfile.mkdtemp(prefix="nenscope-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    data = root / "data"
    log = root / "server.log"
    subprocess.run(
        _as_postgres([str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"]),
        check=True,
        capture_output=True,
    )
    port = free_port()
    with log.open("wb") as handle:
        proc = subprocess.Popen(
            _as_postgres(
                [
                    str(bin_dir / "postgres"),
                    "-D",
                    str(data),
                    "-h",
                    "127.0.0.1",
                    "-p",
                    str(port),
                    "-k",
                    str(root),
                    "-c",
                    "fsync=off",
                ]
            ),
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_port(port, proc, "PostgreSQL", log)
        time.sleep(0.5)
        yield PostgresServer(port=port)
    finally:
        proc.terminate()
        proc.wait(30)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server: PostgresServer, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh, empty database on the test server."""
    import psycopg

    name = f"t{abs(hash(request.node.nodeid)) % 10**9}_{time.monotonic_ns() % 10**6}"
    admin = f"host=127.0.0.1 port={postgres_server.port} user=postgres dbname=postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield postgres_server.url(name)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str | None:
    """``None`` (SQLite in the data folder) or the URL of a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return None
    return str(request.getfixturevalue("postgres_url"))


# ----------------------------------------------------------------------------- DICOM study
@pytest.fixture(scope="session")
def phantom_study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small synthetic Ga-68 DOTATATE PET/CT study (real DICOM files)."""
    folder = tmp_path_factory.mktemp("phantom") / "study"
    write_phantom_study(folder, PhantomSettings(size="small"))
    return folder


@pytest.fixture(scope="session")
def other_phantom_study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A second small study (other UIDs, other patient noise seed)."""
    folder = tmp_path_factory.mktemp("phantom-other") / "study"
    write_phantom_study(folder, PhantomSettings(size="small", seed=7))
    return folder


def study_files(folder: Path) -> list[tuple[str, bytes]]:
    return [(p.name, p.read_bytes()) for p in sorted(folder.rglob("*.dcm"))]


def zip_of(files: list[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files:
            archive.writestr(f"study/{name}", data)
    return buffer.getvalue()


# ----------------------------------------------------------------------------- Orthanc
def only_loopback() -> bool:
    # if_nameindex asks the kernel about this process's network namespace (/sys/class/net may
    # still show the host's interfaces inside unshare -n).
    return {name for _index, name in socket.if_nameindex()} == {"lo"}


@dataclass(frozen=True)
class OrthancServer:
    http_port: int
    dicom_port: int
    aet: str
    scp_port: int  # where Orthanc sends C-MOVE results for the AE title NENSCOPE

    @property
    def dicomweb_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}/dicom-web"

    def rest(self, path: str) -> object:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.http_port}{path}", timeout=30) as r:
            return json.loads(r.read())


@pytest.fixture
def orthanc(tmp_path: Path) -> Iterator[OrthancServer]:
    if not Path(ORTHANC).exists() or not ORTHANC_PLUGINS.exists():
        pytest.skip("Orthanc is not installed (Debian orthanc + orthanc-dicomweb; .ci/run does)")
    if not only_loopback():
        pytest.skip(
            "Orthanc listens on every interface; its tests run only inside a private network "
            "namespace: unshare -n bash -c 'ip link set lo up && pytest ...' (as .ci/run does)"
        )
    http_port, dicom_port, scp_port = free_port(), free_port(), free_port()
    config = {
        "Name": "nenscope-test",
        "HttpPort": http_port,
        "DicomPort": dicom_port,
        "DicomAet": "ORTHANC",
        "StorageDirectory": str(tmp_path / "storage"),
        "IndexDirectory": str(tmp_path / "index"),
        "Plugins": [str(ORTHANC_PLUGINS)],
        "DicomWeb": {"Enable": True, "Root": "/dicom-web/"},
        "AuthenticationEnabled": False,
        "RemoteAccessAllowed": False,
        "DicomCheckCalledAet": False,
        "DicomAlwaysAllowEcho": True,
        "DicomAlwaysAllowStore": True,
        "DicomAlwaysAllowFind": True,
        "DicomAlwaysAllowGet": True,
        "DicomModalities": {"nenscope": ["NENSCOPE", "127.0.0.1", scp_port]},
    }
    config_path = tmp_path / "orthanc.json"
    config_path.write_text(json.dumps(config))
    log = tmp_path / "orthanc.log"
    with log.open("wb") as handle:
        proc = subprocess.Popen(
            [ORTHANC, str(config_path)], stdout=handle, stderr=subprocess.STDOUT
        )
    try:
        _wait_port(http_port, proc, "Orthanc", log)
        _wait_port(dicom_port, proc, "Orthanc DICOM", log)
        yield OrthancServer(
            http_port=http_port, dicom_port=dicom_port, aet="ORTHANC", scp_port=scp_port
        )
    finally:
        proc.terminate()
        proc.wait(30)
