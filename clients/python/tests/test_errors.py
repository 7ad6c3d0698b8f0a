"""One exception class per problem code: the set checked against the Swift sources, and every
class the tests can make the real service answer, triggered (the rebuild-window ones,
``collection_frozen`` by a rebuild, ``rebuild_running`` and ``incident_not_resolvable``, are in
test_degraded.py; ``overloaded`` is in test_retries.py)."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import firebreak
from firebreak.errors import ERROR_CLASSES, FirebreakError

from .conftest import REPO, Server, unique

SOURCES = REPO / "Sources"


def swift_codes() -> set[str]:
    """Every problem code the service can answer: the cases of the Swift ``ProblemCode`` enum,
    through which the server names every code (a Swift test checks the engine's and the
    incidents' error codes all have a case)."""
    source = (SOURCES / "FirebreakAPI" / "ProblemCode.swift").read_text()
    block = source[source.index("enum ProblemCode"):]
    block = block[: block.index("\n}")]
    codes: set[str] = set()
    for name, raw in re.findall(r"^\s*case (\w+)(?: = \"([a-z_0-9]+)\")?$", block, re.MULTILINE):
        codes.add(raw or name)
    return codes


def test_every_code_in_the_swift_sources_has_its_class() -> None:
    codes = swift_codes()
    assert len(codes) >= 45, f"the source scan found too few codes ({sorted(codes)}); did the layout change?"
    missing = sorted(code for code in codes if firebreak.error_class(code) is FirebreakError)
    assert missing == [], f"codes without an exception class: {missing}"
    stale = sorted(set(ERROR_CLASSES) - codes)
    assert stale == [], f"classes of codes the service no longer emits: {stale}"


def test_classes_are_distinct_subclasses_named_for_their_codes() -> None:
    assert len(set(ERROR_CLASSES.values())) == len(ERROR_CLASSES)
    for code, cls in ERROR_CLASSES.items():
        assert issubclass(cls, FirebreakError) and cls is not FirebreakError
        assert cls.code_name == code
        assert getattr(firebreak, cls.__name__) is cls
    assert firebreak.DimensionMismatch.code_name == "dimension_mismatch"
    assert firebreak.CollectionFrozen.code_name == "collection_frozen"
    assert firebreak.Forbidden.code_name == "forbidden"


def test_an_unknown_code_maps_to_the_base_class_with_its_details() -> None:
    error = firebreak.errors.error_from_problem(
        418, {"type": "https://firebreak.dev/problems/brand-new", "title": "Teapot", "status": 418,
              "detail": "something new", "code": "brand_new"}, headers={"Retry-After": "3"})
    assert type(error) is FirebreakError
    assert (error.status, error.code, error.detail, error.title, error.retry_after) == (418, "brand_new", "something new", "Teapot", 3.0)
    plain = firebreak.errors.error_from_problem(502, None, body_text="<html>bad gateway</html>")
    assert type(plain) is FirebreakError and plain.status == 502 and "bad gateway" in plain.detail


def test_idempotency_key_committed_names_the_seq() -> None:
    error = firebreak.errors.error_from_problem(409, {"code": "idempotency_key_committed", "detail": (
        "the request with this Idempotency-Key took effect at seq 41, but its response was not stored")})
    assert isinstance(error, firebreak.IdempotencyKeyCommitted) and error.seq == 41


# -- against the service -----------------------------------------------------------------


def expect(cls: type[FirebreakError], status: int, fn: Callable[[], Any]) -> FirebreakError:
    with pytest.raises(FirebreakError) as caught:
        fn()
    error = caught.value
    assert type(error) is cls, f"expected {cls.__name__}, got {type(error).__name__}: {error}"
    assert error.status == status and error.code == cls.code_name
    assert error.problem["code"] == cls.code_name and error.problem["status"] == status
    assert error.detail and error.title and error.type.endswith(cls.code_name.replace("_", "-"))
    return error


VEC = [0.1, 0.2, 0.3, 0.4]


@pytest.fixture(scope="module")
def setup(server: Server) -> dict[str, Any]:
    with server.client() as client:
        name = unique("err")
        client.create_collection(name, 4)
        docs = [{"id": f"d{i}", "text": f"alpha beta document {i}", "embedding": np.random.default_rng(i).random(4) + 0.1}
                for i in range(20)]
        client.upsert(name, docs, tenant="t1", progress=False)
        reader = client.create_token("reader").token
        scoped = client.create_token("retrieval_owner", tenant="t1").token
        owner = client.create_token("retrieval_owner").token
        return {"name": name, "reader": reader, "scoped": scoped, "owner": owner}


def test_invalid_input(client: firebreak.Client, setup: dict[str, Any]) -> None:
    error = expect(firebreak.InvalidInput, 400, lambda: client.search(setup["name"], vector=VEC, k=0, tenant="t1"))
    assert "k must be" in error.detail


def test_dimension_mismatch(client: firebreak.Client, setup: dict[str, Any]) -> None:
    expect(firebreak.DimensionMismatch, 400, lambda: client.search(setup["name"], vector=[1.0, 2.0, 3.0], tenant="t1"))
    result = client.upsert(setup["name"], [{"id": "short", "text": "x", "embedding": [1.0, 2.0, 3.0]}], tenant="t1",
                           progress=False, raise_on_error=False)
    assert type(result.failures[0].error) is firebreak.DimensionMismatch


def test_invalid_vector(client: firebreak.Client, setup: dict[str, Any]) -> None:
    expect(firebreak.InvalidVector, 400, lambda: client.search(setup["name"], vector=[0.0, 0.0, 0.0, 0.0], tenant="t1"))


def test_non_finite_vectors_are_refused_before_sending(client: firebreak.Client, setup: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="finite"):
        client.search(setup["name"], vector=[1.0, float("nan"), 0.0, 0.0])
    with pytest.raises(ValueError, match="finite"):
        client.upsert(setup["name"], [{"id": "inf", "text": "x", "embedding": np.array([1, np.inf, 0, 0])}], tenant="t1")


def test_unknown_collection_document_incident_job_scan_snapshot(client: firebreak.Client, setup: dict[str, Any]) -> None:
    expect(firebreak.UnknownCollection, 404, lambda: client.collection("no-such-collection"))
    expect(firebreak.UnknownDocument, 404, lambda: client.get(setup["name"], "no-such-doc"))
    expect(firebreak.UnknownIncident, 404, lambda: client.incident("INC-999999"))
    expect(firebreak.UnknownJob, 404, lambda: client.job(999999999))
    expect(firebreak.UnknownScan, 404, lambda: client.get_scan(999999999))
    expect(firebreak.UnknownSnapshot, 404, lambda: client.rollback(setup["name"], "s-nope", reason="test"))
    expect(firebreak.UnknownFlag, 404, lambda: client.set_flag(setup["name"], "FF_BOGUS", True))  # type: ignore[arg-type]
    expect(firebreak.NotFound, 404, lambda: client.request("GET", "/v1/no-such-route"))


def test_duplicates(client: firebreak.Client, setup: dict[str, Any]) -> None:
    expect(firebreak.DuplicateCollection, 409, lambda: client.create_collection(setup["name"], 4))
    with pytest.raises(firebreak.UpsertError) as caught:
        client.upsert(setup["name"], [{"id": "d1", "text": "again", "embedding": VEC}], tenant="t1", progress=False)
    failure = caught.value.result.failures[0].error
    assert type(failure) is firebreak.DuplicateDocument and failure.status == 409
    assert isinstance(caught.value, FirebreakError) and caught.value.result.ingested == 0


def test_ids_are_unique_per_tenant(client: firebreak.Client) -> None:
    name = unique("ids")
    client.create_collection(name, 4)
    client.upsert(name, [{"id": "shared", "text": "one's", "embedding": VEC}], tenant="one", progress=False)
    client.upsert(name, [{"id": "shared", "text": "two's", "embedding": VEC}], tenant="two", progress=False)
    error = expect(firebreak.InvalidInput, 400, lambda: client.get(name, "shared"))
    assert "one, two" in error.detail
    assert client.get(name, "shared", tenant="two").text == "two's"
    client.delete(name, "shared", tenant="one")
    expect(firebreak.UnknownDocument, 404, lambda: client.get(name, "shared", tenant="one"))
    assert client.get(name, "shared").text == "two's"


def test_document_quarantined(client: firebreak.Client, setup: dict[str, Any]) -> None:
    q = client.quarantine(setup["name"], "d2", reason="test: quarantined documents cannot be deleted")
    expect(firebreak.DocumentQuarantined, 409, lambda: client.delete(setup["name"], "d2"))
    client.release(setup["name"], "d2", reason="done", incident_id=q.incident_id)


def test_frozen_then_scan_required(client: firebreak.Client, setup: dict[str, Any]) -> None:
    name = unique("frz")
    client.create_collection(name, 4)
    client.upsert(name, [{"id": "a", "text": "a", "embedding": VEC}], tenant="t1", progress=False)
    flag = client.set_flag(name, "FF_INDEX_FREEZE", True, tenant="t1", reason="test freeze")
    result = client.upsert(name, [{"id": "b", "text": "b", "embedding": VEC}], tenant="t1", progress=False,
                           raise_on_error=False)
    error = result.failures[0].error
    assert type(error) is firebreak.CollectionFrozen and error.status == 423
    expect(firebreak.ScanRequired, 409, lambda: client.set_flag(name, "FF_INDEX_FREEZE", False, tenant="t1",
                                                                incident_id=flag.incident_id))


def test_tenant_blocked(client: firebreak.Client, setup: dict[str, Any]) -> None:
    name = unique("blk")
    client.create_collection(name, 4)
    client.upsert(name, [{"id": "a", "text": "a", "embedding": VEC}], tenant="tb", progress=False)
    client.set_flag(name, "FF_TENANT_BLOCK", True, tenant="tb", reason="test block")
    result = client.upsert(name, [{"id": "b", "text": "b", "embedding": VEC}], tenant="tb", progress=False,
                           raise_on_error=False)
    assert type(result.failures[0].error) is firebreak.TenantBlocked and result.failures[0].error.status == 403


def test_query_too_long(client: firebreak.Client, setup: dict[str, Any]) -> None:
    expect(firebreak.QueryTooLong, 400, lambda: client.search(setup["name"], query="a " * 40000, tenant="t1"))


def test_body_problems(client: firebreak.Client, setup: dict[str, Any]) -> None:
    path = "/v1/incidents"
    expect(firebreak.InvalidUTF8, 400, lambda: client.request("POST", path, content=b'{"title":"\xff\xfe"}'))
    error = expect(firebreak.MalformedJSON, 400, lambda: client.request("POST", path, content=b'{"title":'))
    assert "JSON" in error.detail
    error = expect(firebreak.MalformedJSON, 400, lambda: client.request("POST", path, json={"severity": "SEV-3"}))
    assert "title" in error.detail
    big = b'{"title":"' + b"x" * (17 * 1024 * 1024) + b'"}'
    expect(firebreak.BodyTooLarge, 413, lambda: client.request("POST", path, content=big))


def test_idempotency_problems(client: firebreak.Client, setup: dict[str, Any]) -> None:
    expect(firebreak.IdempotencyKeyRequired, 400,
           lambda: client.request("POST", "/v1/incidents", json={"title": "t", "severity": "SEV-4"}, idempotency_key=False))
    expect(firebreak.InvalidIdempotencyKey, 400, lambda: client.declare_incident("t", "SEV-4", idempotency_key="k" * 300))
    key = unique("key")
    client.declare_incident("first", "SEV-4", idempotency_key=key)
    expect(firebreak.IdempotencyKeyReused, 422, lambda: client.declare_incident("second", "SEV-4", idempotency_key=key))


def test_idempotency_key_in_use(server: Server, setup: dict[str, Any]) -> None:
    """The same key while its first request still runs (a scan takes a while)."""
    name = unique("inuse")
    with server.client() as client:
        client.create_collection(name, 16)
        rng = np.random.default_rng(7)
        client.upsert(name, [{"id": f"d{i}", "text": f"t {i}", "embedding": rng.normal(size=16)} for i in range(5000)],
                      tenant="t1", progress=False, batch_size=1000)
    with server.client(max_retries=0) as client:
        for _ in range(5):
            key = unique("scan")
            first: dict[str, Any] = {}

            def run(first: dict[str, Any] = first, key: str = key) -> None:
                try:
                    first["result"] = client.scan(name, sample_size=200000, k=50, tenant="t1", idempotency_key=key)
                except FirebreakError as error:  # pragma: no cover - shown if it happens
                    first["error"] = error

            thread = threading.Thread(target=run)
            thread.start()
            time.sleep(0.15)
            try:
                client.scan(name, sample_size=200000, k=50, tenant="t1", idempotency_key=key)
                in_use = None
            except firebreak.IdempotencyKeyInUse as error:
                in_use = error
            thread.join()
            if in_use is not None:
                assert in_use.status == 409 and in_use.idempotency_key == key
                assert "result" in first
                # Once the first has finished the same key replays its answer.
                again = client.scan(name, sample_size=200000, k=50, tenant="t1", idempotency_key=key)
                assert again.id == first["result"].id and again.meta.replayed
                return
        pytest.fail("the scan never outlasted 150 ms; could not observe idempotency_key_in_use")


def test_roles_and_tenants(server: Server, setup: dict[str, Any]) -> None:
    with server.client(setup["reader"]) as reader:
        assert reader.search(setup["name"], vector=VEC, tenant="t1").results  # readers search
        expect(firebreak.Forbidden, 403, lambda: reader.create_collection(unique("nope"), 4))
        expect(firebreak.Forbidden, 403, lambda: reader.quarantine(setup["name"], "d3", reason="no"))
    with server.client(setup["scoped"]) as scoped:
        expect(firebreak.TenantForbidden, 403, lambda: scoped.search(setup["name"], vector=VEC, tenant="t2"))
        expect(firebreak.TenantForbidden, 403, lambda: scoped.create_collection(unique("nope"), 4))
        # A scoped token acts for its own tenant: another tenant's documents do not exist for it.
        assert {h.tenant for h in scoped.search(setup["name"], vector=VEC, k=50).results} == {"t1"}
    with server.client(setup["owner"]) as owner:
        expect(firebreak.Forbidden, 403, lambda: owner.create_token("admin"))
        expect(firebreak.Forbidden, 403, lambda: owner.release(setup["name"], "d3", reason="owners may not release"))
    with server.client("fbk_" + "0" * 64) as stranger:
        error = expect(firebreak.Unauthorized, 401, lambda: stranger.collections())
        assert "www-authenticate" in error.headers
    with firebreak.Client(server.url, "") as anonymous:
        expect(firebreak.Unauthorized, 401, lambda: anonymous.collections())


def test_snapshot_problems(server: Server, client: firebreak.Client) -> None:
    name = unique("snap")
    client.create_collection(name, 4)
    client.upsert(name, [{"id": f"d{i}", "text": f"doc {i}", "embedding": np.random.default_rng(i).random(4) + 0.1}
                         for i in range(30)], tenant="t1", progress=False)
    expect(firebreak.NoCleanSnapshot, 409, lambda: client.rollback(name, "last-clean", reason="test"))
    snapshot = client.create_snapshot(name)
    folder = next(p for p in server.snapshot_dir.rglob(snapshot.id) if p.is_dir())
    victim = next(p for p in sorted(folder.rglob("*")) if p.is_file() and "manifest" not in p.name)
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0xFF
    victim.write_bytes(bytes(data))
    error = expect(firebreak.SnapshotInvalid, 409, lambda: client.verify_snapshot(name, snapshot.id))
    assert victim.name in error.detail


def test_incident_problems(client: firebreak.Client, setup: dict[str, Any]) -> None:
    incident = client.declare_incident(unique("closing"), "SEV-4")
    expect(firebreak.TransitionNotAllowed, 409, lambda: client.transition_incident(incident.id, "closed", reason="too soon"))
    client.add_action(incident.id, title="add a regression test", owner="qa", due="2030-01-01", verification="test passes")
    expect(firebreak.ActionNotVerified, 409, lambda: client.close_action(incident.id, 1, verification_evidence=""))
    client.close_action(incident.id, 1, verification_evidence="CI run 42")
    for status in ("mitigated", "resolved", "closed"):
        client.transition_incident(incident.id, status, reason=f"to {status}")
    expect(firebreak.IncidentClosed, 409, lambda: client.quarantine(setup["name"], "d4", reason="late",
                                                                   incident_id=incident.id))


def test_job_finished_and_no_golden_queries(client: firebreak.Client) -> None:
    name = unique("job")
    client.create_collection(name, 4)
    client.upsert(name, [{"id": f"d{i}", "text": f"doc {i}", "embedding": np.random.default_rng(i).random(4) + 0.1}
                         for i in range(30)], tenant="t1", progress=False)
    expect(firebreak.NoGoldenQueries, 404, lambda: client.golden_queries(name))
    job = client.wait_for_job(client.rebuild(name, tenant="t1", reason="test").job_id)
    assert job.state == "succeeded"
    expect(firebreak.JobFinished, 409, lambda: client.cancel_job(job.id))


def test_replica_behind(server: Server, setup: dict[str, Any]) -> None:
    with server.client(max_retries=0) as client:
        error = expect(firebreak.ReplicaBehind, 503,
                       lambda: client.search(setup["name"], vector=VEC, tenant="t1", min_seq=10**12))
        assert error.retry_after == 1.0
        expect(firebreak.ReplicaBehind, 503, lambda: client.get(setup["name"], "d1", min_seq=10**12))


def test_errors_pickle_with_their_details(client: firebreak.Client) -> None:
    import pickle

    with pytest.raises(firebreak.UnknownCollection) as caught:
        client.collection("no-such-collection")
    again = pickle.loads(pickle.dumps(caught.value))
    assert type(again) is firebreak.UnknownCollection and again.status == 404 and again.detail == caught.value.detail
