"""A real ``firebreak serve`` on its own embedded PostgreSQL for the whole session.

The binary is ``$FIREBREAK_BIN`` (default ``<repo>/.build/release/firebreak``). The server
runs with ``--port 0`` in a fresh data directory under /tmp (the embedded PostgreSQL runs
as ``postgres`` when the tests run as root, so the directory is world-traversable) and an
admin token from ``FIREBREAK_ADMIN_TOKEN``; it is stopped and the directory removed at the
end.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

import firebreak

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
START_SECONDS = 120


@dataclass
class Server:
    url: str
    token: str
    data_dir: Path
    process: subprocess.Popen[bytes]
    log: list[str] = field(default_factory=list)

    @property
    def snapshot_dir(self) -> Path:
        """Where the service keeps snapshot folders (its default: under --data-dir)."""
        default = self.data_dir / "db" / "snapshots"
        return default if default.is_dir() else self.data_dir

    def client(self, token: str | None = None, **options) -> firebreak.Client:
        return firebreak.Client(self.url, token or self.token, **options)

    def async_client(self, token: str | None = None, **options) -> firebreak.AsyncClient:
        return firebreak.AsyncClient(self.url, token or self.token, **options)

    def output(self) -> str:
        return "".join(self.log)


def _binary() -> Path:
    path = Path(os.environ.get("FIREBREAK_BIN") or REPO / ".build" / "release" / "firebreak")
    if not path.is_file() or not os.access(path, os.X_OK):
        pytest.exit(f"no firebreak binary at {path}: build it (swift build -c release) or set FIREBREAK_BIN", returncode=2)
    return path


def _read_lines(stream, sink: list[str], port_found: threading.Event, port: list[int]) -> None:
    for raw in iter(stream.readline, b""):
        line = raw.decode(errors="replace")
        sink.append(line)
        match = re.search(r"serving on http://[^:]+:(\d+)", line)
        if match and not port_found.is_set():
            port.append(int(match.group(1)))
            port_found.set()


def start_server(extra_args: list[str] | None = None) -> Server:
    binary = _binary()
    data_dir = Path(tempfile.mkdtemp(prefix="fbpy-"))
    os.chmod(data_dir, 0o755)
    token = "fbk_" + secrets.token_hex(32)
    env = {**os.environ, "FIREBREAK_ADMIN_TOKEN": token}
    for name in ("FIREBREAK_DATABASE_URL", "FIREBREAK_SNAPSHOT_DIR", "FIREBREAK_SNAPSHOT_STORE", "FIREBREAK_URL", "FIREBREAK_TOKEN"):
        env.pop(name, None)
    process = subprocess.Popen(
        [str(binary), "serve", "--data-dir", str(data_dir / "db"), "--host", "127.0.0.1", "--port", "0", *(extra_args or [])],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, start_new_session=True,
    )
    log: list[str] = []
    found = threading.Event()
    port: list[int] = []
    threading.Thread(target=_read_lines, args=(process.stdout, log, found, port), daemon=True).start()
    deadline = time.monotonic() + START_SECONDS
    while not found.wait(0.1):
        if process.poll() is not None or time.monotonic() > deadline:
            stop_server_process(process)
            shutil.rmtree(data_dir, ignore_errors=True)
            raise RuntimeError("firebreak serve did not start:\n" + "".join(log))
    server = Server(f"http://127.0.0.1:{port[0]}", token, data_dir, process, log)
    while True:
        try:
            if httpx.get(server.url + "/readyz", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            stop_server(server)
            raise RuntimeError("firebreak serve never became ready:\n" + server.output())
        time.sleep(0.1)


def stop_server_process(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
    if process.stdout is not None:
        process.stdout.close()


def stop_server(server: Server) -> None:
    stop_server_process(server.process)
    # serve stops its embedded PostgreSQL on the way out; make sure nothing is left behind.
    pg_ctl = _pg_ctl()
    for pid_file in [*server.data_dir.glob("db/postmaster.pid"), *server.data_dir.glob("db/*/postmaster.pid")]:
        if pg_ctl:
            user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
            subprocess.run([*user, pg_ctl, "-D", str(pid_file.parent), "-m", "immediate", "stop"], capture_output=True, timeout=30)
    shutil.rmtree(server.data_dir, ignore_errors=True)


def _pg_ctl() -> str | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    return str(found[-1]) if found else shutil.which("pg_ctl")


@pytest.fixture(scope="session")
def server() -> Iterator[Server]:
    started = start_server()
    try:
        yield started
    finally:
        stop_server(started)


@pytest.fixture()
def client(server: Server) -> Iterator[firebreak.Client]:
    with server.client() as c:
        yield c


@pytest.fixture()
async def aclient(server: Server):
    async with server.async_client() as c:
        yield c


def unique(prefix: str = "c") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture()
def collection_name() -> str:
    return unique("col")
