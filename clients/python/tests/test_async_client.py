"""AsyncClient: the same methods as Client (checked by signature), each exercised."""

from __future__ import annotations

import asyncio
import inspect

import numpy as np
import pytest

import firebreak

from .conftest import Server, unique


def public_methods(cls: type) -> dict[str, inspect.Signature]:
    return {name: inspect.signature(fn) for name, fn in inspect.getmembers(cls, inspect.isfunction)
            if not name.startswith("_") and name not in ("close", "aclose")}


def test_same_methods_and_signatures_as_the_sync_client() -> None:
    sync, aio = public_methods(firebreak.Client), public_methods(firebreak.AsyncClient)
    assert set(sync) == set(aio)
    for name, signature in sync.items():
        assert str(signature) == str(aio[name]), f"{name}: {signature} != {aio[name]}"
        assert inspect.iscoroutinefunction(getattr(firebreak.AsyncClient, name)), f"{name} is not async"
    assert {"create_collection", "collection", "upsert", "search", "get", "delete", "quarantine", "release",
            "quarantine_list", "set_flag", "scan", "snapshots", "create_snapshot", "rollback", "rebuild", "job",
            "blast_radius", "declare_incident", "incident_timeline", "create_token"} <= set(aio)


async def test_everything_once(server: Server, aclient: firebreak.AsyncClient) -> None:
    name = unique("aio")
    created = await aclient.create_collection(name, 8)
    assert created.seq and created.meta.status == 201
    rng = np.random.default_rng(1)
    emb = rng.normal(size=(90, 8)).astype(np.float32)
    docs = [{"id": f"a{i}", "text": f"async passage about sockets {i}", "metadata": {"i": i}} for i in range(90)]
    upserted = await aclient.upsert(name, docs, embeddings=emb, tenant="t", batch_size=20, concurrency=3, progress=False)
    assert upserted.ok and upserted.ingested == 90 and len(upserted.batches) == 5
    assert (await aclient.collection(name)).documents == 90
    assert name in [c.name for c in (await aclient.collections()).collections]

    hits = await aclient.search(name, vector=emb[4], k=3, tenant="t", min_seq=upserted.seq)
    assert hits.ids[0] == "a4" and not hits.degraded
    lexical = await aclient.search(name, query="sockets", k=2, tenant="t")
    assert lexical.mode_used == "lexical" and len(lexical.results) == 2
    doc = await aclient.get(name, "a4", tenant="t")
    assert doc.metadata == {"i": 4}

    q = await aclient.quarantine(name, ["a4"], reason="async quarantine", tenant="t")
    assert q.seq and q.quarantined == ["a4"]
    assert "a4" not in (await aclient.search(name, vector=emb[4], k=3, tenant="t", min_seq=q.seq)).ids
    assert [e.id for e in (await aclient.quarantine_list(name)).entries] == ["a4"]
    r = await aclient.release(name, "a4", reason="released", incident_id=q.incident_id)
    assert r.released == ["a4"]
    deleted = await aclient.delete(name, "a5")
    assert deleted.deleted and deleted.seq
    with pytest.raises(firebreak.UnknownDocument):
        await aclient.get(name, "a5")

    flag = await aclient.set_flag(name, "FF_INDEX_FREEZE", True, tenant="t", reason="async freeze")
    scan = await aclient.scan(name, tenant="t", sample_size=300, seed=2)
    assert (await aclient.get_scan(scan.id)).id == scan.id
    await aclient.set_flag(name, "FF_INDEX_FREEZE", False, tenant="t", incident_id=flag.incident_id)
    schedule = await aclient.set_scan_schedule(name, every_seconds=600, policy="alert", enabled=False)
    assert schedule.every_seconds == 600

    golden = await aclient.set_golden_queries(name, [{"tenant": "t", "vector": emb[7], "relevant": ["a7"]}])
    assert golden.queries == 1 and (await aclient.golden_queries(name)).queries == 1

    snapshot = await aclient.create_snapshot(name)
    verified = await aclient.verify_snapshot(name, snapshot.id, threshold=1000.0, sample_size=100)
    assert verified.clean and (await aclient.snapshots(name)).snapshots[0].id == snapshot.id
    started = await aclient.rebuild(name, tenant="t", reason="async rebuild", golden_mrr_drop_max=1.0)
    job = await aclient.wait_for_job(started.job_id, timeout=120)
    assert job.state == "succeeded" and (await aclient.job(started.job_id)).state == "succeeded"
    assert [j.id for j in (await aclient.jobs(collection=name, state="succeeded")).jobs] == [started.job_id]
    scans = await aclient.scans(name, limit=1)
    assert [s.id for s in scans.scans] == [verified.scan_id] and scans.next_before == verified.scan_id
    assert scans.scans[0].snapshot_id == snapshot.id
    assert [s.id for s in (await aclient.scans(name, before=scans.next_before)).scans] == [scan.id]
    with pytest.raises(firebreak.JobFinished):
        await aclient.cancel_job(started.job_id)
    await aclient.upsert(name, [{"id": "late", "text": "late", "embedding": emb[0]}], tenant="t", progress=False)
    rolled = await aclient.rollback(name, snapshot.id, incident_id=started.incident_id, reason="async rollback")
    assert rolled.retired == 1 and rolled.seq

    incident = await aclient.declare_incident("async incident", "SEV-3", collection=name)
    await aclient.assign_commander(incident.id, "carol")
    await aclient.record_decision(incident.id, what="watch", why="low impact")
    await aclient.add_evidence(incident.id, kind="log", sha256="cd" * 32, location="file:///log", summary="seen")
    await aclient.add_action(incident.id, title="follow up", owner="dave", due="2031-01-01", verification="done")
    await aclient.close_action(incident.id, 1, verification_evidence="done it")
    await aclient.write_postmortem(incident.id, summary="async summary", failing_layer="none", root_cause="test",
                                   regression_case="this test")
    moved = await aclient.transition_incident(incident.id, "mitigated", reason="done")
    assert moved.status == "mitigated" and moved.commander == "carol"
    assert (await aclient.incident(incident.id)).events == len((await aclient.incident_timeline(incident.id)).events)
    verification = await aclient.verify_incident(incident.id)
    assert verification.intact
    assert (await aclient.export_incident(incident.id))["chain_head"] == verification.head
    assert "async summary" in await aclient.postmortem(incident.id)
    radius = await aclient.blast_radius(q.incident_id)
    assert radius.incident_id == q.incident_id and radius.documents == 1

    token = await aclient.create_token("reader", tenant="t")
    async with server.async_client(token.token) as reader:
        with pytest.raises(firebreak.Forbidden):
            await reader.delete(name, "a1")
    assert (await aclient.ready()).ready and (await aclient.health()) == {"status": "ok"}
    assert (await aclient.replicas()).replicas and "firebreak" in await aclient.metrics()
    assert (await aclient.openapi())["openapi"].startswith("3.1")
    assert (await aclient.request("GET", f"/v1/collections/{name}"))["name"] == name


async def test_concurrent_searches_share_one_client(aclient: firebreak.AsyncClient) -> None:
    name = unique("aio-par")
    await aclient.create_collection(name, 4)
    rng = np.random.default_rng(2)
    emb = rng.random((20, 4)) + 0.05
    await aclient.upsert(name, [{"id": f"p{i}", "text": f"t{i}", "embedding": emb[i]} for i in range(20)], tenant="t",
                         progress=False)
    results = await asyncio.gather(*(aclient.search(name, vector=emb[i], k=1, tenant="t") for i in range(20)))
    assert [r.ids[0] for r in results] == [f"p{i}" for i in range(20)]


def test_every_client_method_is_exercised_by_the_tests() -> None:
    """Each public method is called somewhere in this suite (against the real service)."""
    import re
    from pathlib import Path

    sources = "\n".join(p.read_text() for p in Path(__file__).parent.glob("test_*.py"))
    uncalled = [name for name in public_methods(firebreak.Client) if not re.search(rf"\.{name}\(", sources)]
    assert uncalled == []


def test_a_callers_httpx_client_can_be_used(server: Server) -> None:
    import httpx

    with httpx.Client(timeout=5) as http:
        client = firebreak.Client(server.url, server.token, http_client=http)
        assert client.ready().ready and client.collections().collections is not None
        client.close()  # the caller's client stays open
        assert not http.is_closed
