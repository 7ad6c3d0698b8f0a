"""examples/rag_quarantine.py end to end against the session's service."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import REPO, Server, unique

EXAMPLE = REPO / "examples" / "rag_quarantine.py"
CANDIDATES = [REPO.parent / "shared" / "devsets" / "manpages-minilm", Path("/work/shared/devsets/manpages-minilm")]


def devset() -> Path | None:
    given = os.environ.get("FIREBREAK_DEVSET")
    if given:
        return Path(given)
    return next((p for p in CANDIDATES if (p / "corpus.jsonl").exists()), None)


def test_rag_quarantine_example(server: Server) -> None:
    folder = devset()
    if folder is None:
        pytest.skip(f"the manpages-minilm dev set is not here ({', '.join(map(str, CANDIDATES))}); set FIREBREAK_DEVSET")
    collection = unique("rag")
    env = {**os.environ, "FIREBREAK_URL": server.url, "FIREBREAK_TOKEN": server.token}
    done = subprocess.run([sys.executable, str(EXAMPLE), "--devset", str(folder), "--collection", collection,
                           "--limit", "2000"], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    out = done.stdout
    summary = json.loads(out.rsplit("summary: ", 1)[1])
    assert summary["collection"] == collection and summary["failed"] == []
    assert summary["checks"]["quarantined passage is gone"] and summary["checks"]["rollback restores the clean answer"]
    assert "ingested 2000 passages" in out and "quarantined ['poisoned/0']" in out and "hash chain intact" in out
    assert ("⚠ degraded: Document collection index is rebuilding" in out) == summary["degraded_seen"]
    assert f"upsert {collection}" in done.stderr  # the progress bar
    with server.client() as client:
        status = client.collection(collection)
        assert status.documents == 2000 and status.quarantined == 0  # the poisoned passage was retired
        timeline = client.incident_timeline(summary["incident"])
        kinds = [e.kind for e in timeline.events]
        assert "quarantined" in kinds and "rollback" in kinds and "rebuild_started" in kinds


def test_the_example_needs_a_token(server: Server) -> None:
    env = {k: v for k, v in os.environ.items() if k != "FIREBREAK_TOKEN"}
    done = subprocess.run([sys.executable, str(EXAMPLE), "--url", server.url], env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 2 and "--token" in done.stderr
