"""While a partition's graph is rebuilt: degraded answers with the notice, DegradedWarning,
the degraded marks in both integrations, and what the service refuses meanwhile
(ingest: collection_frozen; rollback: rebuild_running; resolving: incident_not_resolvable).

A rebuild of 3,000 documents lasts most of a second here; every check runs inside one, and
a round whose rebuild ended before all checks had run starts another (up to six)."""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from langchain_core.embeddings import Embeddings
from llama_index.core.vector_stores.types import VectorStoreQuery

import firebreak
from firebreak.langchain import FirebreakVectorStore as LangChainStore
from firebreak.llamaindex import FirebreakVectorStore as LlamaIndexStore

from .conftest import Server, unique

DIM = 64
N = 3000
NOTICE = ("Document collection index is rebuilding; results come from keyword search and an exact vector scan, "
          "and may be slower or less complete.")


def degraded_warnings() -> Any:
    """Records DegradedWarnings without requiring one: a check whose rebuild ended just before
    its request sees a normal answer (no warning) and returns False, as the others do."""
    recorder = warnings.catch_warnings(record=True)
    return recorder


def warned(caught: list[warnings.WarningMessage]) -> bool:
    return any(issubclass(w.category, firebreak.DegradedWarning) for w in caught)


class Fixed(Embeddings):
    """Every text embeds to one vector (the first document's)."""

    def __init__(self, vector: np.ndarray) -> None:
        self.vector = vector.tolist()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self.vector for _ in texts]

    def embed_query(self, text: str) -> list[float]:
        return self.vector


@pytest.fixture(scope="module")
def rebuildable(server: Server) -> dict[str, Any]:
    name = unique("deg")
    rng = np.random.default_rng(11)
    emb = rng.normal(size=(N, DIM)).astype(np.float32)
    with server.client() as client:
        client.create_collection(name, DIM, hnsw={"ef_construction": 400})
        client.upsert(name, [{"id": f"d{i}", "text": f"kernel word{i % 40} passage {i}", "metadata": {"i": i}}
                             for i in range(N)], embeddings=emb, tenant="t", progress=False, batch_size=1000)
        snapshot = client.create_snapshot(name)
    return {"name": name, "emb": emb, "snapshot": snapshot.id}


class Window:
    """Runs checks while rebuilds run; each check returns True once it saw the rebuild."""

    def __init__(self, client: firebreak.Client, name: str) -> None:
        self.client = client
        self.name = name
        self.job_id: int | None = None
        self.incident_id: str | None = None

    def rebuilding(self) -> bool:
        assert self.job_id is not None
        return not self.client.job(self.job_id).finished

    def run(self, checks: dict[str, Callable[[Window], bool]], rounds: int = 6) -> None:
        pending = dict(checks)
        for _ in range(rounds):
            incident = self.client.declare_incident(unique("rebuild"), "SEV-2", collection=self.name)
            self.client.transition_incident(incident.id, "mitigated", reason="graph rebuild follows")
            self.incident_id = incident.id
            self.job_id = self.client.rebuild(self.name, tenant="t", incident_id=incident.id, reason="degraded test").job_id
            for label, check in list(pending.items()):
                if check(self):
                    del pending[label]
            self.client.wait_for_job(self.job_id, timeout=120)
            if not pending:
                return
        pytest.fail(f"rebuilds ended before these checks could run in one: {sorted(pending)}")


def test_degraded_answers_everywhere(server: Server, rebuildable: dict[str, Any]) -> None:
    name, emb = rebuildable["name"], rebuildable["emb"]
    client = server.client(retry=firebreak.RetryPolicy(max_retries=0))
    lc = LangChainStore(name, Fixed(emb[0]), client=client, tenant="t")
    lc_hybrid = LangChainStore(name, Fixed(emb[0]), client=client, tenant="t", mode="hybrid")
    li = LlamaIndexStore(name, client=client, tenant="t")
    seen: dict[str, Any] = {}

    def search(window: Window) -> bool:
        with degraded_warnings() as caught:
            warnings.simplefilter("always")
            result = client.search(name, vector=emb[0], k=5, tenant="t")
        if not result.degraded:
            return False
        assert result.notice == NOTICE and result.mode_used == "vector" and len(result.results) == 5
        assert result.results[0].id == "d0"  # the exact scan still finds it
        assert warned(caught)
        warning = [w for w in caught if issubclass(w.category, firebreak.DegradedWarning)][0].message
        assert isinstance(warning, firebreak.DegradedWarning) and warning.notice == NOTICE and warning.collection == name
        seen["search"] = result
        return True

    def quiet(window: Window) -> bool:
        with warnings.catch_warnings():
            warnings.simplefilter("error", firebreak.DegradedWarning)
            result = client.search(name, vector=emb[0], k=5, tenant="t", warn=False)
            if not result.degraded:
                return False
            with pytest.raises(firebreak.DegradedWarning):  # an application can make it an error
                client.search(name, vector=emb[0], k=5, tenant="t")
        return True

    def lexical_is_not_degraded(window: Window) -> bool:
        result = client.search(name, query="kernel", k=3, tenant="t")
        if not window.rebuilding():
            return False
        assert result.mode_used == "lexical" and not result.degraded
        return True

    def mode(window: Window) -> bool:
        status = client.collection(name)
        return status.mode == "rebuilding"

    def ingest_refused(window: Window) -> bool:
        result = client.upsert(name, [{"id": unique("late"), "text": "late", "embedding": emb[1]}], tenant="t",
                               progress=False, raise_on_error=False)
        if result.ok:
            return False
        error = result.failures[0].error
        assert type(error) is firebreak.CollectionFrozen and error.status == 423
        return True

    def rollback_refused(window: Window) -> bool:
        try:
            client.rollback(name, rebuildable["snapshot"], reason="during a rebuild")
        except firebreak.RebuildRunning as error:
            assert error.status == 409
            return True
        return False

    def not_resolvable(window: Window) -> bool:
        try:
            client.transition_incident(window.incident_id, "resolved", reason="too soon")
        except firebreak.IncidentNotResolvable as error:
            assert error.status == 409 and ("fallback" in error.detail or "rebuild" in error.detail)
            return True
        return False

    def langchain(window: Window) -> bool:
        with degraded_warnings() as caught:
            warnings.simplefilter("always")
            found = lc.similarity_search_with_score("anything", k=3)
        docs = [d for d, _ in found]
        if not docs[0].metadata.get("firebreak_degraded"):
            return False
        assert warned(caught)
        assert all(d.metadata["firebreak_degraded"] is True and d.metadata["firebreak_notice"] == NOTICE for d in docs)
        assert docs[0].id == "d0" and docs[0].metadata["i"] == 0
        with degraded_warnings() as caught:
            warnings.simplefilter("always")
            hybrid = lc_hybrid.similarity_search("kernel", k=3)
        if not hybrid[0].metadata.get("firebreak_degraded"):
            return False  # the rebuild ended between the two searches: another round
        assert warned(caught) and all(d.metadata["firebreak_degraded"] for d in hybrid)
        return True

    def llamaindex(window: Window) -> bool:
        with degraded_warnings() as caught:
            warnings.simplefilter("always")
            result = li.query(VectorStoreQuery(query_embedding=emb[0].tolist(), similarity_top_k=3))
        if not result.nodes[0].metadata.get("firebreak_degraded"):
            return False
        assert warned(caught)
        assert all(n.metadata["firebreak_notice"] == NOTICE for n in result.nodes) and result.ids[0] == "d0"
        return True

    def async_client(window: Window) -> bool:
        async def go() -> firebreak.SearchResult:
            async with server.async_client() as aclient:
                return await aclient.search(name, vector=emb[0], k=3, tenant="t")

        with degraded_warnings() as caught:
            warnings.simplefilter("always")
            result = asyncio.run(go())
        if not result.degraded:
            return False
        assert warned(caught)
        return True

    try:
        Window(client, name).run({
            "search": search, "quiet": quiet, "lexical": lexical_is_not_degraded, "mode": mode,
            "ingest": ingest_refused, "rollback": rollback_refused, "resolve": not_resolvable,
            "langchain": langchain, "llamaindex": llamaindex, "async": async_client,
        })
    finally:
        client.close()
    # Afterwards: served from the new graph again.
    with server.client() as after:
        result = after.search(name, vector=emb[0], k=5, tenant="t")
        assert not result.degraded and result.notice is None and after.collection(name).mode == "serving"


def test_a_running_rebuild_can_be_cancelled(server: Server, rebuildable: dict[str, Any]) -> None:
    with server.client() as client:
        for _ in range(5):
            started = client.rebuild(rebuildable["name"], tenant="t", reason="to be cancelled")
            try:
                job = client.cancel_job(started.job_id)
            except firebreak.JobFinished:
                continue
            assert job.id == started.job_id  # a cancel appends no change: no seq
            final = client.wait_for_job(started.job_id, timeout=60)
            assert final.state == "cancelled"
            assert not client.search(rebuildable["name"], vector=rebuildable["emb"][0], tenant="t", k=3).degraded
            return
        pytest.fail("every rebuild finished before it could be cancelled")
