"""Retries: the same Idempotency-Key and bytes on every attempt, so a lost answer is replayed
and the service acts once; 502/503/504 and Retry-After; bounded backoff."""

from __future__ import annotations

import json
import socket
import threading
import time
from typing import Any

import httpx
import numpy as np
import pytest

import firebreak
from firebreak import RetryPolicy

from .conftest import Server, start_server, stop_server, unique
from .proxy import DroppingProxy, Seen, drop_first

FAST = RetryPolicy(max_retries=3, backoff=0.05, backoff_max=0.2)


def problem(status: int, code: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    body = json.dumps({"type": f"https://firebreak.dev/problems/{code}", "title": "Proxy", "status": status,
                       "detail": f"the proxy says {code}", "code": code}).encode()
    return (status, headers or {}, body)


def docs(n: int, prefix: str) -> list[dict[str, Any]]:
    rng = np.random.default_rng(n)
    return [{"id": f"{prefix}{i}", "text": f"text {i}", "embedding": rng.random(4) + 0.1} for i in range(n)]


def test_a_lost_ingest_answer_is_replayed_and_the_service_ingests_once(server: Server, collection_name: str) -> None:
    with server.client() as direct:
        direct.create_collection(collection_name, 4)
    with DroppingProxy(server.url, drop_first("POST", "/documents")) as proxy, \
            firebreak.Client(proxy.url, server.token, retry=FAST) as client:
        result = client.upsert(collection_name, docs(40, "a"), tenant="t", progress=False)
        attempts = proxy.requests("POST", f"/v1/collections/{collection_name}/documents")
        assert [a.action for a in attempts] == ["drop", "forward"]
        assert attempts[0].status == 201  # the service answered the first: it had acted
        assert attempts[0].headers["idempotency-key"] == attempts[1].headers["idempotency-key"]
        assert attempts[0].body == attempts[1].body
        batch = result.batches[0].result
        assert batch.meta.replayed and batch.meta.attempts == 2 and batch.ingested == 40
    with server.client() as direct:
        assert direct.collection(collection_name).documents == 40


def test_a_lost_quarantine_answer_gives_the_first_answer_not_a_second_action(server: Server, collection_name: str) -> None:
    with server.client() as direct:
        direct.create_collection(collection_name, 4)
        direct.upsert(collection_name, docs(5, "q"), tenant="t", progress=False)
    with DroppingProxy(server.url, drop_first("POST", "/quarantine")) as proxy, \
            firebreak.Client(proxy.url, server.token, retry=FAST) as client:
        q = client.quarantine(collection_name, ["q1", "q2"], reason="lost answer test")
        # A second action would answer already_quarantined; the replay is the first answer.
        assert sorted(q.quarantined) == ["q1", "q2"] and q.already_quarantined == []
        assert q.meta.replayed and q.meta.attempts == 2 and q.seq is not None
        assert len({s.headers["idempotency-key"] for s in proxy.requests("POST")}) == 1
    with server.client() as direct:
        entries = direct.quarantine_list(collection_name).entries
        assert sorted(e.id for e in entries) == ["q1", "q2"]
        assert len([e for e in direct.incident_timeline(q.incident_id).events if "quarantine" in e.kind]) == 1


def test_a_lost_incident_answer_declares_one_incident(server: Server) -> None:
    title = unique("lost-incident")
    with DroppingProxy(server.url, drop_first("POST", "/v1/incidents")) as proxy, \
            firebreak.Client(proxy.url, server.token, retry=FAST) as client:
        incident = client.declare_incident(title, "SEV-3")
        assert incident.meta.replayed and [s.action for s in proxy.requests("POST")] == ["drop", "forward"]
    with server.client() as direct:
        following = direct.declare_incident(unique("next"), "SEV-4")
    assert int(following.id.split("-")[1]) == int(incident.id.split("-")[1]) + 1


def test_a_refused_connection_is_retried(server: Server) -> None:
    state = {"refused": 0}

    def refuse_once(seen: Seen, index: int) -> str:
        if state["refused"] == 0:
            state["refused"] = 1
            return "refuse"
        return "forward"

    with DroppingProxy(server.url, refuse_once) as proxy, firebreak.Client(proxy.url, server.token, retry=FAST) as client:
        incident = client.declare_incident(unique("refused"), "SEV-4")
        assert not incident.meta.replayed and incident.meta.attempts == 2
        assert len({s.headers["idempotency-key"] for s in proxy.seen}) == 1


@pytest.mark.parametrize("status,code", [(502, "bad_gateway"), (503, "overloaded"), (504, "gateway_timeout")])
def test_gateway_and_overload_answers_are_retried_with_the_same_key(server: Server, status: int, code: str) -> None:
    state = {"n": 0}

    def fail_twice(seen: Seen, index: int) -> Any:
        state["n"] += 1
        return problem(status, code) if state["n"] <= 2 else "forward"

    with DroppingProxy(server.url, fail_twice) as proxy, firebreak.Client(proxy.url, server.token, retry=FAST) as client:
        incident = client.declare_incident(unique("gw"), "SEV-4")
        assert incident.meta.attempts == 3
        assert [s.action for s in proxy.seen] == ["answer", "answer", "forward"]
        assert len({s.headers["idempotency-key"] for s in proxy.seen}) == 1


def test_retry_after_is_honoured(server: Server) -> None:
    state = {"n": 0}

    def busy_once(seen: Seen, index: int) -> Any:
        state["n"] += 1
        return problem(503, "busy", {"Retry-After": "1"}) if state["n"] == 1 else "forward"

    with DroppingProxy(server.url, busy_once) as proxy, firebreak.Client(proxy.url, server.token, retry=FAST) as client:
        started = time.monotonic()
        client.collections()
        assert time.monotonic() - started >= 1.0
        assert len(proxy.seen) == 2


def test_idempotency_key_in_use_is_waited_out(server: Server) -> None:
    state = {"n": 0}

    def running_once(seen: Seen, index: int) -> Any:
        state["n"] += 1
        return problem(409, "idempotency_key_in_use") if state["n"] == 1 else "forward"

    with DroppingProxy(server.url, running_once) as proxy, firebreak.Client(proxy.url, server.token, retry=FAST) as client:
        client.declare_incident(unique("inuse"), "SEV-4")
        assert len(proxy.seen) == 2


def test_client_errors_are_not_retried(server: Server) -> None:
    with DroppingProxy(server.url, lambda seen, index: problem(400, "invalid_input")) as proxy, \
            firebreak.Client(proxy.url, server.token, retry=FAST) as client:
        with pytest.raises(firebreak.InvalidInput) as caught:
            client.declare_incident("x", "SEV-4")
        assert len(proxy.seen) == 1 and caught.value.attempts == 1


def test_retries_are_bounded(server: Server) -> None:
    with DroppingProxy(server.url, lambda seen, index: problem(503, "overloaded", {"Retry-After": "0"})) as proxy, \
            firebreak.Client(proxy.url, server.token, retry=FAST) as client:
        started = time.monotonic()
        with pytest.raises(firebreak.Overloaded) as caught:
            client.declare_incident("never", "SEV-4")
        assert len(proxy.seen) == 4 and caught.value.attempts == 4 and caught.value.status == 503
        assert time.monotonic() - started < 2.0
        assert caught.value.idempotency_key == proxy.seen[0].headers["idempotency-key"]


def test_no_server_is_a_transport_error_after_the_retries() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    with firebreak.Client(f"http://127.0.0.1:{port}", "fbk_x", retry=FAST) as client:
        with pytest.raises(firebreak.TransportError) as caught:
            client.declare_incident("x", "SEV-4")
    error = caught.value
    assert isinstance(error, firebreak.FirebreakError) and error.attempts == 4 and error.status is None
    assert isinstance(error.__cause__, httpx.ConnectError) and error.idempotency_key


def test_backoff_is_exponential_jittered_and_capped() -> None:
    policy = RetryPolicy(max_retries=10, backoff=0.1, backoff_max=1.0, retry_after_max=3.0)
    for attempt in range(8):
        ceiling = min(1.0, 0.1 * 2 ** attempt)
        delays = [policy.delay(attempt) for _ in range(200)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(set(delays)) > 1  # jitter
    assert policy.delay(0, retry_after=2.0) >= 2.0
    assert policy.delay(0, retry_after=60.0) <= 3.0
    assert firebreak._core.retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert firebreak._core.retry_after_seconds("2") == 2.0


async def test_the_async_client_replays_a_lost_answer(server: Server, collection_name: str) -> None:
    with server.client() as direct:
        direct.create_collection(collection_name, 4)
    with DroppingProxy(server.url, drop_first("POST", "/documents")) as proxy:
        async with firebreak.AsyncClient(proxy.url, server.token, retry=FAST) as client:
            result = await client.upsert(collection_name, docs(30, "z"), tenant="t", progress=False, batch_size=10,
                                         concurrency=3)
            assert result.ingested == 30 and sum(b.result.meta.replayed for b in result.batches) == 1
            assert len(proxy.requests("POST")) == 4
    with server.client() as direct:
        assert direct.collection(collection_name).documents == 30


@pytest.fixture(scope="module")
def narrow_server() -> Any:
    """A second service that lets one request in at a time (503 overloaded beyond) and makes
    a read demanding an unapplied seq wait 2.5 s (so one such read holds the only slot)."""
    started = start_server(["--concurrent-requests-max", "1", "--consistency-wait-ms", "2500"])
    try:
        yield started
    finally:
        stop_server(started)


def test_a_real_overload_is_retried_after_retry_after(narrow_server: Server) -> None:
    name = unique("narrow")
    with narrow_server.client() as client:
        client.create_collection(name, 4)
    held: dict[str, Any] = {}

    def hold() -> None:
        with narrow_server.client(max_retries=0) as holder:
            try:
                holder.search(name, vector=[1.0, 0.0, 0.0, 0.0], min_seq=10**12)
            except firebreak.FirebreakError as error:
                held["error"] = error

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        time.sleep(0.3)
        with narrow_server.client(max_retries=0) as impatient:
            with pytest.raises(firebreak.Overloaded) as caught:
                impatient.collections()
        assert caught.value.status == 503 and caught.value.retry_after == 1.0
        with narrow_server.client(retry=RetryPolicy(max_retries=6, backoff=0.05, backoff_max=0.2)) as patient:
            started = time.monotonic()
            listed = patient.collections()
            waited = time.monotonic() - started
        assert name in [c.name for c in listed.collections]
        assert listed.meta.attempts >= 2 and waited >= 0.9 * (listed.meta.attempts - 1)  # Retry-After: 1 each time
    finally:
        thread.join()
    assert type(held["error"]) is firebreak.ReplicaBehind
