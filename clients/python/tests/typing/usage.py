"""Type-checked (not run) by tests/test_typing.py: what an application writes."""

from __future__ import annotations

import numpy as np

import firebreak
from firebreak.langchain import FirebreakVectorStore as LangChainStore
from firebreak.llamaindex import FirebreakVectorStore as LlamaIndexStore


def sync(fb: firebreak.Client) -> int:
    collection: firebreak.Collection = fb.create_collection("docs", 4)
    upserted: firebreak.UpsertResult = fb.upsert("docs", [{"id": "a", "text": "t", "embedding": np.ones(4)}], tenant="t")
    result: firebreak.SearchResult = fb.search("docs", vector=np.ones(4), k=3, min_seq=upserted.seq)
    hit: firebreak.SearchHit = result.results[0]
    q: firebreak.QuarantineResult = fb.quarantine("docs", [hit.id], reason="r")
    job: firebreak.Job = fb.wait_for_job(fb.rebuild("docs").job_id)
    events: list[firebreak.Event] = fb.incident_timeline(q.incident_id).events
    try:
        fb.get("docs", "missing")
    except firebreak.UnknownDocument as error:
        status: int | None = error.status
        assert status == 404
    return collection.dimension + len(events) + int(job.progress) + (q.seq or 0)


async def asynchronous(fb: firebreak.AsyncClient) -> bool:
    result: firebreak.SearchResult = await fb.search("docs", query="reset", tenant="t")
    incident: firebreak.Incident = await fb.declare_incident("title", "SEV-1")
    token: firebreak.Token = await fb.create_token("reader", tenant="t")
    return result.degraded and bool(incident.id) and bool(token.token)


def stores(fb: firebreak.Client) -> None:
    lc = LangChainStore("docs", embedding=None, client=fb, tenant="t", mode="hybrid")  # type: ignore[arg-type]
    li = LlamaIndexStore("docs", client=fb, tenant="t")
    lc.close()
    li.close()
