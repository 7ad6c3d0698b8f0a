"""Every method of the sync client against the real service."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from typing import Any

import httpx
import numpy as np
import pytest

import firebreak

from .conftest import Server, unique
from .proxy import DroppingProxy, Seen

DIM = 8


def vectors(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    v = rng.normal(size=(n, DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


WORDS = ["kernel", "socket", "signal", "thread", "memory", "file", "process", "network", "timer", "device"]


def corpus(n: int, prefix: str = "doc", seed: int = 0) -> tuple[list[dict[str, Any]], np.ndarray]:
    emb = vectors(n, seed)
    docs = [{"id": f"{prefix}-{i}", "text": f"{WORDS[i % 10]} {WORDS[(i * 3) % 10]} passage number {i}",
             "metadata": {"n": i, "topic": WORDS[i % 10]}} for i in range(n)]
    return docs, emb


@pytest.fixture()
def filled(client: firebreak.Client) -> dict[str, Any]:
    name = unique("cl")
    client.create_collection(name, DIM, "cosine", hnsw={"m": 8, "ef_construction": 64, "ef_search": 32})
    docs, emb = corpus(60)
    result = client.upsert(name, docs, embeddings=emb, tenant="acme", progress=False, batch_size=25)
    return {"name": name, "docs": docs, "emb": emb, "upsert": result}


def assert_write(result: firebreak.ResponseModel) -> int:
    """A write's answer: its seq in the body and in Firebreak-Seq, the same."""
    assert isinstance(result.seq, int) and result.seq >= 1
    assert result.meta is not None and result.meta.seq == result.seq
    assert result.meta.idempotency_key and result.meta.idempotency_key.startswith("fbpy-")
    return result.seq


def test_collections(client: firebreak.Client, collection_name: str) -> None:
    created = client.create_collection(collection_name, DIM, "l2", hnsw=firebreak.HNSW(m=12))
    assert_write(created)
    assert (created.name, created.dimension, created.metric, created.hnsw.m, created.mode) == (collection_name, DIM, "l2", 12, "serving")
    assert created.meta.status == 201
    fetched = client.collection(collection_name)
    assert fetched.documents == 0 and fetched.tenants == [] and fetched.seq is None
    assert collection_name in [c.name for c in client.collections().collections]


def test_upsert_numpy_batches_and_seq(client: firebreak.Client, filled: dict[str, Any]) -> None:
    result: firebreak.UpsertResult = filled["upsert"]
    assert result.ok and result.ingested == 60 and len(result.batches) == 3
    assert result.ids == [d["id"] for d in filled["docs"]]
    assert [b.index for b in result.batches] == [0, 1, 2] and [len(b.ids) for b in result.batches] == [25, 25, 10]
    assert result.seq == max(b.result.seq for b in result.batches)
    status = client.collection(filled["name"])
    assert status.documents == 60 and status.tenants == ["acme"]
    stored = client.get(filled["name"], "doc-7", tenant="acme", min_seq=result.seq)
    assert stored.metadata == {"n": 7, "topic": WORDS[7]} and stored.tenant == "acme"
    np.testing.assert_allclose(stored.embedding, filled["emb"][7], rtol=1e-6)
    assert stored.content_sha256 == hashlib.sha256(stored.text.encode()).hexdigest()


def test_upsert_accepts_models_float16_rows_and_a_default_tenant(client: firebreak.Client, collection_name: str) -> None:
    client.create_collection(collection_name, DIM)
    emb16 = vectors(3, 5).astype(np.float16)
    docs = [firebreak.NewDocument(id="m0", text="model document", embedding=emb16[0]),
            {"id": "m1", "text": "mapping document", "embedding": emb16[1], "tenant": "other"},
            {"id": "m2", "text": "list document", "embedding": emb16[2].tolist(), "metadata": {"k": [1, 2]}}]
    result = client.upsert(collection_name, docs, tenant="acme", progress=False)
    assert result.ingested == 3
    assert client.get(collection_name, "m0").tenant == "acme" and client.get(collection_name, "m1").tenant == "other"
    np.testing.assert_allclose(client.get(collection_name, "m2").embedding, emb16[2].astype(np.float32))
    with pytest.raises(ValueError, match="appears twice"):
        client.upsert(collection_name, [{"id": "x", "text": "a", "embedding": emb16[0]}] * 2, tenant="acme")
    with pytest.raises(ValueError, match="2 documents but 3 embeddings"):
        client.upsert(collection_name, [{"id": "y", "text": "a"}, {"id": "z", "text": "b"}], embeddings=vectors(3))
    with pytest.raises(ValueError, match="batch_size"):
        client.upsert(collection_name, docs, batch_size=1001)


def test_upsert_reports_every_failed_batch(client: firebreak.Client, collection_name: str) -> None:
    client.create_collection(collection_name, DIM)
    client.upsert(collection_name, [{"id": "taken", "text": "already here", "embedding": vectors(1)[0]}], tenant="acme", progress=False)
    docs, emb = corpus(30, "f")
    docs[14]["id"] = "taken"  # batch 1 of 0, 1, 2 fails as a whole; 0 and 2 go in
    result = client.upsert(collection_name, docs, embeddings=emb, tenant="acme", batch_size=10, progress=False,
                           raise_on_error=False)
    assert not result.ok and [b.ok for b in result.batches] == [True, False, True]
    failure = result.failures[0]
    assert type(failure.error) is firebreak.DuplicateDocument and failure.ids == [d["id"] for d in docs[10:20]]
    assert result.ingested == 20 and result.failed_ids == failure.ids
    assert client.collection(collection_name).documents == 21
    with pytest.raises(firebreak.UpsertError) as caught:
        client.upsert(collection_name, docs[10:20], embeddings=emb[10:20], tenant="acme", progress=False)
    assert caught.value.result.failures[0].ids == failure.ids and "1 of 1 batches failed" in str(caught.value)


def test_upsert_replace(client: firebreak.Client, collection_name: str) -> None:
    client.create_collection(collection_name, DIM)
    emb = vectors(2)
    client.upsert(collection_name, [{"id": "r", "text": "old text", "embedding": emb[0], "metadata": {"v": 1}}], tenant="acme", progress=False)
    result = client.upsert(collection_name, [{"id": "r", "text": "new text", "embedding": emb[1], "metadata": {"v": 2}},
                                             {"id": "s", "text": "fresh", "embedding": emb[0]}],
                           tenant="acme", progress=False, replace=True)
    assert result.ok and result.batches[0].replaced == ["r"]
    assert client.get(collection_name, "r").text == "new text" and client.collection(collection_name).documents == 2


def test_upsert_sends_batches_in_parallel_and_shows_progress(server: Server, collection_name: str, capsys) -> None:
    in_flight = {"now": 0, "max": 0}
    lock = threading.Lock()

    def slow_ingest(seen: Seen, index: int) -> str:
        if seen.path.endswith("/documents"):
            with lock:
                in_flight["now"] += 1
                in_flight["max"] = max(in_flight["max"], in_flight["now"])
            time.sleep(0.25)
            with lock:
                in_flight["now"] -= 1
        return "forward"

    docs, emb = corpus(80, "p")
    with DroppingProxy(server.url, slow_ingest) as proxy, firebreak.Client(proxy.url, server.token) as client:
        client.create_collection(collection_name, DIM)
        result = client.upsert(collection_name, docs, embeddings=emb, tenant="acme", batch_size=10, concurrency=4)
        assert result.ingested == 80 and in_flight["max"] == 4
        keys = [s.headers["idempotency-key"] for s in proxy.requests("POST") if s.path.endswith("/documents")]
        assert len(keys) == 8 and len(set(keys)) == 8
    err = capsys.readouterr().err
    assert f"upsert {collection_name}" in err and "/80 [" in err and "doc/s" in err


def test_upsert_with_a_key_acts_once_when_run_again(client: firebreak.Client, collection_name: str) -> None:
    client.create_collection(collection_name, DIM)
    docs, emb = corpus(30, "k")
    first = client.upsert(collection_name, docs, embeddings=emb, tenant="acme", batch_size=10, progress=False,
                          idempotency_key=f"load-{collection_name}")
    again = client.upsert(collection_name, docs, embeddings=emb, tenant="acme", batch_size=10, progress=False,
                          idempotency_key=f"load-{collection_name}")
    assert again.ok and all(b.result.meta.replayed for b in again.batches)
    assert [b.result.seq for b in again.batches] == [b.result.seq for b in first.batches]
    assert client.collection(collection_name).documents == 30


def test_search_modes(client: firebreak.Client, filled: dict[str, Any]) -> None:
    name, emb = filled["name"], filled["emb"]
    vector = client.search(name, vector=emb[3], k=5, tenant="acme")
    assert vector.mode_used == "vector" and vector.results[0].id == "doc-3" and len(vector.results) == 5
    assert vector.results[0].score == pytest.approx(1.0, abs=1e-5) and not vector.degraded and vector.notice is None
    lexical = client.search(name, query="kernel passage", k=3, tenant="acme")
    assert lexical.mode_used == "lexical" and all("kernel" in h.text for h in lexical.results)
    hybrid = client.search(name, vector=emb[3].tolist(), query="thread", tenant="acme")
    assert hybrid.mode_used == "hybrid" and "doc-3" in hybrid.ids[:3]
    assert all(h.score < 0.05 for h in hybrid.results)  # reciprocal-rank fusion scores
    forced = client.search(name, vector=emb[3], query="signal", mode="vector", tenant="acme", ef=100)
    assert forced.mode_used == "vector"
    empty = client.search(name, query="the of", tenant="acme")
    assert empty.results == [] and empty.empty_reason


def test_search_passes_min_seq_and_traceparent(server: Server, filled: dict[str, Any]) -> None:
    with DroppingProxy(server.url) as proxy, firebreak.Client(proxy.url, server.token) as client:
        seq = filled["upsert"].seq
        client.search(filled["name"], vector=filled["emb"][0], tenant="acme", min_seq=seq,
                      traceparent="00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
        sent = proxy.requests("POST")[-1]
        assert json.loads(sent.body) == {"vector": pytest.approx(filled["emb"][0].tolist()), "k": 10,
                                         "tenant": "acme", "min_seq": seq}
        assert sent.headers["traceparent"].startswith("00-0af7651916cd43dd8448eb211c80319c")
        assert "idempotency-key" not in sent.headers  # a search changes nothing


def test_quarantine_release_and_read_your_quarantine(client: firebreak.Client, filled: dict[str, Any]) -> None:
    name, emb = filled["name"], filled["emb"]
    q = client.quarantine(name, ["doc-5", "doc-6"], reason="HubScan z = 9.2", tenant="acme", scores={"doc-5": 9.2})
    seq = assert_write(q)
    assert sorted(q.quarantined) == ["doc-5", "doc-6"] and q.already_quarantined == [] and q.incident_id.startswith("INC-")
    after = client.search(name, vector=emb[5], k=60, tenant="acme", min_seq=seq)
    assert "doc-5" not in after.ids and "doc-6" not in after.ids and len(after.results) == 58
    with pytest.raises(firebreak.UnknownDocument):
        client.get(name, "doc-5")
    entries = client.quarantine_list(name).entries
    assert {(e.id, e.incident_id, e.reason) for e in entries} == {("doc-5", q.incident_id, "HubScan z = 9.2"),
                                                                   ("doc-6", q.incident_id, "HubScan z = 9.2")}
    again = client.quarantine(name, "doc-5", reason="again", incident_id=q.incident_id)
    assert again.quarantined == [] and again.already_quarantined == ["doc-5"]
    r = client.release(name, ["doc-5", "doc-9"], reason="false positive", incident_id=q.incident_id)
    assert_write(r)
    assert r.released == ["doc-5"] and r.not_quarantined == ["doc-9"]
    assert "doc-5" in client.search(name, vector=emb[5], k=3, tenant="acme", min_seq=r.seq).ids
    timeline = client.incident_timeline(q.incident_id)
    kinds = [e.kind for e in timeline.events]
    assert "quarantine" in " ".join(kinds) and any("release" in k for k in kinds)


def test_delete(client: firebreak.Client, filled: dict[str, Any]) -> None:
    deleted = client.delete(filled["name"], "doc-11")
    assert_write(deleted)
    assert deleted.deleted and deleted.id == "doc-11"
    with pytest.raises(firebreak.UnknownDocument):
        client.get(filled["name"], "doc-11", min_seq=deleted.seq)
    assert "doc-11" not in client.search(filled["name"], vector=filled["emb"][11], k=5, tenant="acme").ids


def test_flags(client: firebreak.Client, filled: dict[str, Any]) -> None:
    flag = client.set_flag(filled["name"], "FF_INDEX_FREEZE", True, tenant="acme", reason="poisoning suspected")
    assert_write(flag)
    assert (flag.flag, flag.enabled, flag.tenant) == ("FF_INDEX_FREEZE", True, "acme")
    status = client.collection(filled["name"])
    # A tenant's freeze shows in the flags; the collection as a whole still serves.
    assert status.mode == "serving" and [(f.flag, f.tenant) for f in status.flags] == [("FF_INDEX_FREEZE", "acme")]
    with pytest.raises(firebreak.UpsertError) as frozen:
        client.upsert(filled["name"], [{"id": "new", "text": "t", "embedding": filled["emb"][0]}], tenant="acme", progress=False)
    assert type(frozen.value.result.failures[0].error) is firebreak.CollectionFrozen
    scan = client.scan(filled["name"], tenant="acme", sample_size=500, seed=1)
    assert scan.id >= 1
    lifted = client.set_flag(filled["name"], "FF_INDEX_FREEZE", False, tenant="acme", incident_id=flag.incident_id,
                             reason="clean scan")
    assert lifted.enabled is False and client.collection(filled["name"]).flags == []
    assert client.upsert(filled["name"], [{"id": "new", "text": "t", "embedding": filled["emb"][0]}], tenant="acme",
                         progress=False).ingested == 1


def test_scans_and_schedule(client: firebreak.Client, filled: dict[str, Any]) -> None:
    scan = client.scan(filled["name"], sample="documents", sample_size=200, k=5, threshold=50.0, seed=3, tenant="acme")
    assert scan.threshold == 50.0 and scan.tenant == "acme" and scan.flagged == [] and scan.report
    assert scan.containment is None
    again = client.get_scan(scan.id)
    assert again.id == scan.id and again.max_z == pytest.approx(scan.max_z)
    assert client.collection(filled["name"]).last_scan.max_z == pytest.approx(scan.max_z)
    schedule = client.set_scan_schedule(filled["name"], every_seconds=3600, policy="alert", enabled=False, sample_size=100)
    assert (schedule.every_seconds, schedule.policy, schedule.enabled, schedule.sample_size) == (3600, "alert", False, 100)
    alert = client.scan(filled["name"], policy="alert", threshold=50.0, tenant="acme")
    assert alert.flagged == []


def test_snapshots_rebuild_rollback(client: firebreak.Client, filled: dict[str, Any]) -> None:
    name = filled["name"]
    snapshot = client.create_snapshot(name)
    assert snapshot.status == "published" and snapshot.documents == 60 and snapshot.root_hash and snapshot.meta.status == 201
    verified = client.verify_snapshot(name, snapshot.id, threshold=1000.0, sample_size=200)
    assert verified.clean and verified.status == "verified_clean" and verified.id == snapshot.id
    listed = client.snapshots(name).snapshots
    assert listed[0].id == snapshot.id and listed[0].status == "verified_clean"
    late, late_emb = corpus(5, "late", seed=9)
    client.upsert(name, late, embeddings=late_emb, tenant="acme", progress=False)
    started = client.rebuild(name, tenant="acme", reason="test rebuild", validate_scan=False, golden_mrr_drop_max=0.5)
    assert_write(started)
    job = client.wait_for_job(started.job_id, timeout=120)
    assert job.state == "succeeded" and job.finished and job.kind == "rebuild" and job.collection == name
    assert job.incident_id == started.incident_id
    rolled = client.rollback(name, "last-clean", reason="test rollback", incident_id=started.incident_id)
    assert_write(rolled)
    assert rolled.snapshot_id == snapshot.id and rolled.retired == 5 and rolled.tenants == ["acme"]
    assert rolled.phases and "load" in rolled.phases  # API.md names load, commit, swap; it answers load, commit_and_swap
    hits = client.search(name, vector=late_emb[0], k=70, tenant="acme", min_seq=rolled.seq)
    assert not any(i.startswith("late-") for i in hits.ids) and len(hits.results) == 60


def test_jobs_are_listed_newest_first_and_filtered(client: firebreak.Client, filled: dict[str, Any]) -> None:
    name = filled["name"]
    jobs = []
    for tenant in ("acme", None):
        started = client.rebuild(name, tenant=tenant, reason="listed", validate_scan=False, golden_mrr_drop_max=0.5)
        jobs.append(client.wait_for_job(started.job_id, timeout=120))
    listed = client.jobs(collection=name)
    assert isinstance(listed, firebreak.JobList)
    assert [j.id for j in listed.jobs] == [jobs[1].id, jobs[0].id]
    assert [(j.state, j.collection, j.tenant) for j in listed.jobs] == [("succeeded", name, None), ("succeeded", name, "acme")]
    assert listed.jobs[1].model_dump() == client.job(jobs[0].id).model_dump()
    assert [j.id for j in client.jobs(collection=name, limit=1).jobs] == [jobs[1].id]
    assert client.jobs(collection=name, state="running").jobs == []
    succeeded = [j.id for j in client.jobs(state="succeeded", limit=500).jobs]
    assert {jobs[0].id, jobs[1].id} <= set(succeeded) and succeeded == sorted(succeeded, reverse=True)
    with pytest.raises(firebreak.InvalidInput, match="queued, running, succeeded, failed, cancelled"):
        client.jobs(state="asleep")
    for limit in (0, 501):
        with pytest.raises(firebreak.InvalidInput):
            client.jobs(limit=limit)
    with pytest.raises(firebreak.UnknownCollection):
        client.jobs(collection=unique("none"))


def test_scans_are_listed_a_page_at_a_time(client: firebreak.Client, filled: dict[str, Any]) -> None:
    name = filled["name"]
    ids = [client.scan(name, sample="documents", sample_size=60, k=5, threshold=50.0, seed=s, tenant="acme").id
           for s in range(3)]
    ids.append(client.scan(name, sample="documents", sample_size=60, k=5, threshold=40.0, seed=9).id)
    newest_first = sorted(ids, reverse=True)
    page = client.scans(name)
    assert isinstance(page, firebreak.ScanPage) and page.next_before is None
    assert [s.id for s in page.scans] == newest_first
    whole, latest_acme = page.scans[0], page.scans[1]
    assert (whole.tenant, whole.threshold, whole.snapshot_id) == (None, 40.0, None)
    stored = client.get_scan(latest_acme.id)
    assert (latest_acme.tenant, latest_acme.threshold, latest_acme.flagged) == ("acme", 50.0, len(stored.report["flagged"]))
    assert latest_acme.max_z == pytest.approx(stored.max_z) and latest_acme.created_at
    first = client.scans(name, limit=1)
    assert [s.id for s in first.scans] == newest_first[:1] and first.next_before == newest_first[0]
    seen: list[int] = []
    before = None
    while True:
        page = client.scans(name, limit=1, before=before)
        seen += [s.id for s in page.scans]
        before = page.next_before
        if before is None:
            break
    assert seen == newest_first
    assert [s.id for s in client.scans(name, limit=2, before=newest_first[1]).scans] == newest_first[2:4]
    with pytest.raises(firebreak.InvalidInput):
        client.scans(name, limit=201)
    with pytest.raises(firebreak.InvalidInput):
        client.scans(name, before=0)
    with pytest.raises(firebreak.UnknownCollection):
        client.scans(unique("none"))


def test_an_incident_export_verifies_offline(client: firebreak.Client, server: Server, filled: dict[str, Any]) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

    incident = client.declare_incident("export me", "SEV-3", collection=filled["name"])
    client.record_decision(incident.id, what="watch", why="a drill", options_not_taken=["quarantine"])
    bundle = client.export_incident(incident.id)
    verify = client.verify_incident(incident.id)
    assert verify.intact and bundle["chain_head"] == verify.head
    assert bundle["incident"]["id"] == incident.id and len(bundle["events"]) == verify.events == 2
    assert bundle["events"][-1]["hash"] == bundle["chain_head"]
    assert [e["previousHash"] for e in bundle["events"][1:]] == [e["hash"] for e in bundle["events"][:-1]]
    message = f"firebreak-incident-export-v{bundle['format_version']}\n{incident.id}\n{bundle['chain_head']}".encode()
    public = Ed25519PublicKey.from_public_bytes(bytes.fromhex(bundle["public_key"]))
    public.verify(bytes.fromhex(bundle["signature"]), message)  # raises InvalidSignature if not
    # Signed with the instance's own key file (serve's default --signing-key).
    raw = (server.data_dir / "db" / "incident-signing.key").read_bytes()
    assert Ed25519PrivateKey.from_private_bytes(raw).public_key().public_bytes_raw().hex() == bundle["public_key"]
    reply = httpx.get(f"{server.url}/v1/incidents/{incident.id}/export", headers={"Authorization": f"Bearer {server.token}"})
    assert reply.headers["content-disposition"] == f'attachment; filename="{incident.id}.json"'
    with pytest.raises(firebreak.UnknownIncident):
        client.export_incident("INC-999999999")


def test_golden_queries(client: firebreak.Client, filled: dict[str, Any]) -> None:
    emb = filled["emb"]
    summary = client.set_golden_queries(filled["name"], [
        {"tenant": "acme", "vector": emb[1], "relevant": ["doc-1"]},
        firebreak.GoldenQuery(tenant="acme", vector=emb[2], relevant=["doc-2"]),
    ])
    assert_write(summary)
    assert summary.queries == 2 and summary.baseline_mrr == pytest.approx(1.0) and summary.by_tenant == {"acme": pytest.approx(1.0)}
    read = client.golden_queries(filled["name"])
    assert read.queries == 2 and read.set_at


def test_incident_lifecycle(client: firebreak.Client, filled: dict[str, Any]) -> None:
    incident = client.declare_incident("Poisoned passages in the kb", "SEV-1", taxonomy_class="corpus",
                                       collection=filled["name"], traceparent="00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
    assert incident.meta.status == 201 and incident.status == "declared" and incident.severity == "SEV-1"
    assert client.incident(incident.id).title == "Poisoned passages in the kb"
    listed = client.incidents(severity="SEV-1", status="declared", limit=500).incidents
    assert incident.id in [i.id for i in listed] and all(i.severity == "SEV-1" for i in listed)
    client.assign_commander(incident.id, "alice")
    contained = client.transition_incident(incident.id, "contained", reason="quarantined")
    assert contained.status == "contained" and contained.commander == "alice"
    client.record_decision(incident.id, what="quarantine, not delete", why="keep evidence", options_not_taken=["delete"])
    client.add_evidence(incident.id, kind="scan", sha256="ab" * 32, location="s3://evidence/scan.json", summary="z = 9")
    client.add_action(incident.id, title="screen ingest", owner="bob", due="2030-01-31", verification="drill passes")
    client.close_action(incident.id, 1, verification_evidence="drill 2030-01-20")
    client.write_postmortem(incident.id, summary="hub planted", failing_layer="ingest", root_cause="no screen",
                            regression_case="tests/test_hub.py", evaluation_gaps="none")
    client.transition_incident(incident.id, "mitigated", reason="fixed")
    final = client.incident(incident.id)
    assert final.status == "mitigated" and final.events >= 8
    timeline = client.incident_timeline(incident.id)
    assert timeline.incident_id == incident.id and len(timeline.events) == final.events
    assert all(e.previous_hash for e in timeline.events[1:]) and timeline.events[0].sequence == 1
    check = client.verify_incident(incident.id)
    assert check.intact and check.events == final.events and check.head == timeline.events[-1].hash
    markdown = client.postmortem(incident.id)
    assert "hub planted" in markdown and markdown.lstrip().startswith("#")


def test_blast_radius(client: firebreak.Client, filled: dict[str, Any]) -> None:
    name, emb = filled["name"], filled["emb"]
    trace = "4bf92f3577b34da6a3ce929d0e0e4736"
    client.search(name, vector=emb[20], k=3, tenant="acme", traceparent=f"00-{trace}-00f067aa0ba902b7-01")
    time.sleep(1.2)  # the retrieval log is written in batches every 500 ms
    q = client.quarantine(name, "doc-20", reason="served a poisoned passage")
    deadline = time.monotonic() + 10
    while True:
        radius = client.blast_radius(q.incident_id)
        if radius.requests or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert radius.incident_id == q.incident_id and radius.documents == 1 and radius.requests >= 1
    exposure = radius.tenants[0]
    assert exposure.tenant == "acme" and trace in exposure.trace_ids


def test_tokens_and_scoped_access(server: Server, client: firebreak.Client, filled: dict[str, Any]) -> None:
    token = client.create_token("reader", tenant="acme")
    assert token.token.startswith("fbk_") and token.role == "reader" and token.tenant == "acme" and token.meta.status == 201
    with server.client(token.token) as reader:
        assert reader.search(filled["name"], vector=filled["emb"][0], k=3).results
        assert reader.collection(filled["name"]).documents == 60


def test_operations(client: firebreak.Client) -> None:
    ready = client.ready()
    assert ready.ready and ready.database and ready.collections_loaded and ready.applied_seq >= 0
    assert client.health() == {"status": "ok"}
    assert "firebreak_searches_total" in client.metrics() or "http_server" in client.metrics()
    replicas = client.replicas().replicas
    assert replicas and replicas[0].live and replicas[0].name == ready.replica
    assert client.request("GET", "/v1/replicas")["replicas"][0]["name"] == ready.replica


def test_keys_are_sent_on_every_mutation_and_can_be_chosen(server: Server, collection_name: str) -> None:
    with DroppingProxy(server.url) as proxy, firebreak.Client(proxy.url, server.token) as client:
        client.create_collection(collection_name, DIM, idempotency_key=f"create-{collection_name}")
        client.collection(collection_name)
        client.declare_incident("keys", "SEV-4")
        client.search(collection_name, query="x", tenant="acme")
        sent = {(s.method, s.path): s.headers.get("idempotency-key") for s in proxy.seen}
        assert sent[("POST", "/v1/collections")] == f"create-{collection_name}"
        assert sent[("GET", f"/v1/collections/{collection_name}")] is None
        assert sent[("POST", "/v1/incidents")].startswith("fbpy-")
        assert sent[("POST", f"/v1/collections/{collection_name}/search")] is None


def test_document_ids_are_percent_encoded(server: Server, collection_name: str) -> None:
    with DroppingProxy(server.url) as proxy, firebreak.Client(proxy.url, server.token) as client:
        client.create_collection(collection_name, DIM)
        client.upsert(collection_name, [{"id": "a:b@c", "text": "t", "embedding": vectors(1)[0]}], tenant="acme", progress=False)
        assert client.get(collection_name, "a:b@c").id == "a:b@c"
        with pytest.raises(firebreak.UnknownDocument):
            client.get(collection_name, "x/y z")
        assert proxy.seen[-1].path.endswith("/documents/x%2Fy%20z")


def test_client_reads_url_and_token_from_the_environment(server: Server, monkeypatch) -> None:
    monkeypatch.setenv("FIREBREAK_URL", server.url)
    monkeypatch.setenv("FIREBREAK_TOKEN", server.token)
    with firebreak.Client() as client:
        assert client.url == server.url and client.collections().collections is not None
