"""A real ``firebreak serve`` and a headless Chromium for the console's browser tests.

The binary is ``$FIREBREAK_BIN`` (default ``<repo>/.build/release/firebreak``); it serves on
``--port 0`` over its own embedded PostgreSQL in a fresh folder under /tmp, with an admin
token from ``FIREBREAK_ADMIN_TOKEN``, and is stopped (its PostgreSQL with it) at the end.
Chromium and chromedriver are Debian's (``chromium``, ``chromium-driver``). Screenshots go to
``$CONSOLE_SCREENSHOTS`` (default ``<repo>/.build-console-screenshots``, git-ignored).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

REPO = Path(__file__).resolve().parents[2]
START_SECONDS = 120
SHOTS = Path(os.environ.get("CONSOLE_SCREENSHOTS") or REPO / ".build-console-screenshots")


@dataclass
class Served:
    url: str
    admin_token: str
    data_dir: Path
    process: subprocess.Popen
    lines: list[str] = field(default_factory=list)

    def api(self, method: str, path: str, body: dict | None = None, token: str | None = None) -> tuple[int, dict]:
        """One JSON API call (a fresh Idempotency-Key on writes); (status, decoded body)."""
        request = urllib.request.Request(self.url + path, method=method)
        request.add_header("Authorization", "Bearer " + (token or self.admin_token))
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            request.add_header("Content-Type", "application/json")
        if method != "GET":
            request.add_header("Idempotency-Key", str(uuid.uuid4()))
        try:
            with urllib.request.urlopen(request, data=data, timeout=120) as response:
                text = response.read()
                return response.status, (json.loads(text) if text else {})
        except urllib.error.HTTPError as error:
            text = error.read()
            return error.code, (json.loads(text) if text else {})

    def ok(self, method: str, path: str, body: dict | None = None, token: str | None = None) -> dict:
        status, answer = self.api(method, path, body, token)
        assert 200 <= status < 300, f"{method} {path}: {status} {answer}"
        return answer

    def token(self, role: str) -> str:
        return self.ok("POST", "/v1/tokens", {"role": role})["token"]


def _pump(stream, lines: list[str], found: threading.Event, port: list[int]) -> None:
    for raw in iter(stream.readline, b""):
        line = raw.decode(errors="replace")
        lines.append(line)
        match = re.search(r"serving on http://[^:]+:(\d+)", line)
        if match and not found.is_set():
            port.append(int(match.group(1)))
            found.set()


def _stop(served: Served) -> None:
    if served.process.poll() is None:
        served.process.send_signal(signal.SIGTERM)
        try:
            served.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            served.process.kill()
            served.process.wait(timeout=10)
    pg_ctls = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    for pid_file in served.data_dir.glob("**/postmaster.pid"):
        if pg_ctls:
            user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
            subprocess.run([*user, str(pg_ctls[-1]), "-D", str(pid_file.parent), "-m", "immediate", "stop"],
                           capture_output=True, timeout=30)
    shutil.rmtree(served.data_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def server():
    binary = Path(os.environ.get("FIREBREAK_BIN") or REPO / ".build" / "release" / "firebreak")
    if not os.access(binary, os.X_OK):
        pytest.exit(f"no firebreak binary at {binary}: swift build -c release, or set FIREBREAK_BIN", returncode=2)
    data_dir = Path(tempfile.mkdtemp(prefix="fbconsole-"))
    os.chmod(data_dir, 0o755)  # the embedded PostgreSQL runs as postgres when we are root
    token = "fbk_" + secrets.token_hex(32)
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIREBREAK_")}
    env["FIREBREAK_ADMIN_TOKEN"] = token
    process = subprocess.Popen([str(binary), "serve", "--data-dir", str(data_dir / "db"), "--host", "127.0.0.1", "--port", "0"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    lines: list[str] = []
    found, port = threading.Event(), []
    threading.Thread(target=_pump, args=(process.stdout, lines, found, port), daemon=True).start()
    deadline = time.monotonic() + START_SECONDS
    while not found.wait(0.1):
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("firebreak serve did not start:\n" + "".join(lines))
    served = Served(f"http://127.0.0.1:{port[0]}", token, data_dir, process, lines)
    try:
        while True:
            try:
                with urllib.request.urlopen(served.url + "/readyz", timeout=2) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("firebreak serve never became ready:\n" + "".join(lines))
            time.sleep(0.1)
        yield served
    finally:
        _stop(served)


def _chrome() -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--window-size=1280,1000", "--lang=en-US"):
        options.add_argument(argument)
    service = Service(executable_path=shutil.which("chromedriver") or "/usr/bin/chromedriver")
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_page_load_timeout(60)
    return driver


@pytest.fixture(scope="session")
def browser():
    driver = _chrome()
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="session")
def second_browser():
    """Another person's browser (the reader's), with its own cookies."""
    driver = _chrome()
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="session")
def shot():
    SHOTS.mkdir(parents=True, exist_ok=True)

    def save(driver: webdriver.Chrome, name: str) -> Path:
        path = SHOTS / f"{name}.png"
        height = driver.execute_script("return Math.max(document.body.scrollHeight, 600)")
        width = driver.get_window_size()["width"]
        driver.set_window_size(width, min(int(height) + 140, 4000))
        driver.save_screenshot(str(path))
        driver.set_window_size(width, 1000)
        return path

    return save
