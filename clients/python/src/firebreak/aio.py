"""The asyncio client: :class:`AsyncClient`, the methods of :class:`~firebreak.Client` as
coroutines."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

import httpx

from . import models as m
from ._core import (
    Call,
    RetryPolicy,
    build,
    encode_json,
    error_for,
    new_idempotency_key,
    parse,
    problem_of,
    request_headers,
    retry_after_seconds,
    transport_error,
)
from ._upsert import BatchResult, UpsertResult, batch_key, plan_batches, prepare_documents
from .client import _FINISHED, BODY_BYTES_MAX, _ids, _progress, _Settings, _warn_degraded
from .errors import DuplicateDocument, FirebreakError, UnknownDocument

__all__ = ["AsyncClient"]


class AsyncClient(_Settings):
    """An asyncio client of one Firebreak service: the methods of :class:`~firebreak.Client`,
    as coroutines. Use it from one event loop.

    ``url`` and ``token`` default to ``FIREBREAK_URL`` (else ``http://127.0.0.1:7420``) and
    ``FIREBREAK_TOKEN``. Every mutating call sends an ``Idempotency-Key`` (pass
    ``idempotency_key=`` to choose it, e.g. to retry across restarts); every retry
    (connection errors, 502/503/504, ``Retry-After``; see :class:`RetryPolicy`) sends the same
    key and the same bytes, so the service acts once. Errors raise the
    :class:`~firebreak.FirebreakError` subclass of their problem ``code``. Thread-safe.
    """

    def __init__(
        self,
        url: str | None = None,
        token: str | None = None,
        *,
        timeout: float = 60.0,
        max_retries: int | None = None,
        retry: RetryPolicy | None = None,
        warn_degraded: bool = True,
        body_bytes_max: int = BODY_BYTES_MAX,
        headers: Mapping[str, str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        options = self._configure(url, token, timeout=timeout, max_retries=max_retries, retry=retry,
                                  warn_degraded=warn_degraded, body_bytes_max=body_bytes_max, headers=headers)
        self._owns_http = http_client is None
        self._http = http_client or httpx.AsyncClient(transport=transport, **options)
        if http_client is not None:  # a client of the caller's: its transport and limits, our base URL and headers
            self._http.base_url = httpx.URL(self.url)
            self._http.headers.update(options["headers"])

    # -- plumbing ----------------------------------------------------------------------

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"firebreak.AsyncClient({self.url!r})"

    async def _send(self, call: Call[Any]) -> httpx.Response:
        """Sends ``call``, retrying as the policy says; the last answer, or an error."""
        attempt = 0
        while True:
            try:
                response = await self._http.request(call.method, call.path, content=call.content,
                                              params=call.params or None, headers=request_headers(call))
            except httpx.TransportError as exc:
                if attempt >= self.retry.max_retries:
                    raise transport_error(exc, call, self.url, attempt + 1) from exc
                await asyncio.sleep(self.retry.delay(attempt))
                attempt += 1
                continue
            status = response.status_code
            if response.is_success or status in call.ok_statuses:
                response.extensions["firebreak_attempts"] = attempt + 1
                return response
            problem = problem_of(response)
            code = problem.get("code") if problem else None
            if self.retry.retryable_status(status, code) and attempt < self.retry.max_retries:
                await asyncio.sleep(self.retry.delay(attempt, retry_after_seconds(response.headers.get("retry-after"))))
                attempt += 1
                continue
            raise error_for(response, call, attempt + 1)

    async def _run(self, call: Call[Any]) -> Any:
        response = await self._send(call)
        return parse(response, call, response.extensions.get("firebreak_attempts", 1))

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        content: bytes | None = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        idempotency_key: str | Literal[False] | None = None,
    ) -> Any:
        """Any route: the answer's JSON (or text), or the error of its problem. POST, PUT and
        DELETE get an ``Idempotency-Key`` unless ``idempotency_key=False``."""
        method = method.upper()
        call: Call[Any] = Call(method=method, path=path, response=dict, headers=dict(headers or {}),
                               params={k: str(v) for k, v in (params or {}).items() if v is not None})
        if json is not None:
            call.content = encode_json(json)
        elif content is not None:
            call.content = content
            call.headers.setdefault("Content-Type", "application/json")
        if idempotency_key is not False and method in ("POST", "PUT", "DELETE"):
            call.idempotency_key = idempotency_key or new_idempotency_key()
        response = await self._send(call)
        if "json" in response.headers.get("content-type", ""):
            return response.json()
        return response.text

    # -- collections -------------------------------------------------------------------

    async def create_collection(
        self,
        name: str,
        dimension: int,
        metric: m.Metric = "cosine",
        *,
        hnsw: m.HNSW | Mapping[str, int] | None = None,
        idempotency_key: str | None = None,
    ) -> m.Collection:
        """``POST /v1/collections``."""
        body = m.CreateCollection(name=name, dimension=dimension, metric=metric,
                                  hnsw=m.HNSW.model_validate(hnsw) if hnsw is not None else None)
        return await self._run(build("create_collection", body, idempotency_key=idempotency_key))

    async def collections(self) -> m.CollectionList:
        """``GET /v1/collections``."""
        return await self._run(build("collections"))

    async def collection(self, name: str) -> m.Collection:
        """``GET /v1/collections/{name}``: status, counts, mode, flags."""
        return await self._run(build("collection", path_params={"name": name}))

    # -- documents ---------------------------------------------------------------------

    async def upsert(
        self,
        collection: str,
        documents: Iterable[m.NewDocument | Mapping[str, Any]],
        *,
        embeddings: Any = None,
        tenant: str | None = None,
        batch_size: int = 256,
        concurrency: int = 4,
        progress: bool = True,
        replace: bool = False,
        raise_on_error: bool = True,
        idempotency_key: str | None = None,
    ) -> UpsertResult:
        """Ingest documents in batches, ``concurrency`` batches in flight at once.

        Documents are :class:`~firebreak.NewDocument` or mappings; ``embedding`` may be a
        numpy array, or ``embeddings`` a 2-D array (row i for document i). ``tenant`` fills in
        documents without one. Each batch is all or nothing on the service; the result holds
        every batch (``result.batches``, ``result.failures``). With ``raise_on_error`` a failed
        batch raises :class:`~firebreak.UpsertError` (its ``result`` says what was ingested)
        after every batch has run. The service refuses ids already present
        (:class:`~firebreak.DuplicateDocument`); with ``replace=True`` such a batch's present
        ids are deleted and the batch is sent again (not atomic: between the two the old
        versions are gone; a quarantined id is never replaced). ``idempotency_key`` makes the
        batch keys ``<key>-b<index>``, so a rerun of the same upsert acts once.
        """
        docs = prepare_documents(documents, embeddings, tenant)
        batches = plan_batches(docs, batch_size, self.body_bytes_max)
        bar = _progress(len(docs), progress, f"upsert {collection}")
        gate = asyncio.Semaphore(max(1, concurrency))
        failed = 0

        async def one(batch: Any) -> BatchResult:
            nonlocal failed
            outcome = BatchResult(batch.index, batch.ids)
            async with gate:
                try:
                    try:
                        outcome.result = await self._run(batch.call(collection, batch_key(idempotency_key, batch.index)))
                    except DuplicateDocument:
                        if not replace:
                            raise
                        outcome.replaced = await self._delete_present(collection, batch.ids)
                        outcome.result = await self._run(batch.call(collection, batch_key(idempotency_key, batch.index, True)))
                except FirebreakError as error:
                    outcome.error = error
            if outcome.error is not None:
                failed += 1
                bar.set_postfix(failed_batches=failed)
            bar.update(len(batch.ids))
            return outcome

        try:
            results = list(await asyncio.gather(*(one(batch) for batch in batches)))
        finally:
            bar.close()
        result = UpsertResult(sorted(results, key=lambda r: r.index))
        return result.raise_for_failures() if raise_on_error else result

    async def _delete_present(self, collection: str, ids: Sequence[str]) -> list[str]:
        deleted = []
        for doc_id in ids:
            try:
                await self.delete(collection, doc_id)
                deleted.append(doc_id)
            except UnknownDocument:
                pass
        return deleted

    async def get(self, collection: str, id: str, *, tenant: str | None = None, min_seq: int | None = None) -> m.Document:
        """``GET …/documents/{id}``: quarantined, deleted and other tenants' documents are
        :class:`~firebreak.UnknownDocument`."""
        return await self._run(build("get", path_params={"name": collection, "id": id},
                               params={"tenant": tenant, "min_seq": min_seq}))

    async def delete(
        self, collection: str, id: str, *, tenant: str | None = None, idempotency_key: str | None = None
    ) -> m.Deleted:
        """``DELETE …/documents/{id}``: hidden everywhere, kept as evidence."""
        return await self._run(build(
            "delete", path_params={"name": collection, "id": id}, params={"tenant": tenant}, idempotency_key=idempotency_key
        ))

    # -- search ------------------------------------------------------------------------

    async def search(
        self,
        collection: str,
        *,
        vector: Any = None,
        query: str | None = None,
        mode: m.SearchMode | None = None,
        k: int = 10,
        tenant: str | None = None,
        ef: int | None = None,
        min_seq: int | None = None,
        traceparent: str | None = None,
        warn: bool | None = None,
    ) -> m.SearchResult:
        """``POST …/search``: vector (``vector``, a list or numpy array), lexical (``query``)
        or hybrid (both). ``min_seq`` (a write's ``seq``) makes the replica answer only once
        it has applied that write. A degraded answer (``result.degraded``, ``result.notice``)
        also emits :class:`~firebreak.DegradedWarning` unless ``warn=False``."""
        body = m.SearchRequest(mode=mode, vector=vector, query=query, k=k, tenant=tenant, ef=ef, min_seq=min_seq)
        headers = {"traceparent": traceparent} if traceparent else None
        result: m.SearchResult = await self._run(build("search", body, path_params={"name": collection}, headers=headers))
        if self.warn_degraded if warn is None else warn:
            _warn_degraded(result, collection, stacklevel=2)
        return result

    # -- quarantine and flags ----------------------------------------------------------

    async def quarantine(
        self,
        collection: str,
        ids: str | Iterable[str],
        *,
        reason: str,
        incident_id: str | None = None,
        tenant: str | None = None,
        scores: Mapping[str, float] | None = None,
        idempotency_key: str | None = None,
    ) -> m.QuarantineResult:
        """``POST …/quarantine``: withheld on every path before the answer. Without
        ``incident_id`` a SEV-2 incident is declared with the reason as its title."""
        body = m.QuarantineRequest(ids=_ids(ids), reason=reason, incident_id=incident_id, tenant=tenant,
                                   scores=dict(scores) if scores is not None else None)
        return await self._run(build("quarantine", body, path_params={"name": collection}, idempotency_key=idempotency_key))

    async def release(
        self,
        collection: str,
        ids: str | Iterable[str],
        *,
        reason: str,
        incident_id: str | None = None,
        tenant: str | None = None,
        idempotency_key: str | None = None,
    ) -> m.ReleaseResult:
        """``POST …/quarantine/release`` (commanders, admins)."""
        body = m.QuarantineRequest(ids=_ids(ids), reason=reason, incident_id=incident_id, tenant=tenant)
        return await self._run(build("release", body, path_params={"name": collection}, idempotency_key=idempotency_key))

    async def quarantine_list(self, collection: str) -> m.QuarantineList:
        """``GET …/quarantine``."""
        return await self._run(build("quarantine_list", path_params={"name": collection}))

    async def set_flag(
        self,
        collection: str,
        flag: m.FlagName,
        enabled: bool,
        *,
        tenant: str | None = None,
        incident_id: str | None = None,
        reason: str | None = None,
        idempotency_key: str | None = None,
    ) -> m.FlagResult:
        """``PUT …/flags/{flag}``: ``FF_INDEX_FREEZE`` or ``FF_TENANT_BLOCK`` (needs ``tenant``)."""
        body = m.SetFlag(enabled=enabled, tenant=tenant, incident_id=incident_id, reason=reason)
        return await self._run(build("set_flag", body, path_params={"name": collection, "flag": flag},
                               idempotency_key=idempotency_key))

    # -- scans, rebuilds, jobs ---------------------------------------------------------

    async def scan(
        self,
        collection: str,
        *,
        policy: m.ScanPolicy | None = None,
        sample: m.ScanSample | None = None,
        sample_size: int | None = None,
        k: int | None = None,
        threshold: float | None = None,
        budget: float | None = None,
        seed: int | None = None,
        tenant: str | None = None,
        domain_field: str | None = None,
        idempotency_key: str | None = None,
    ) -> m.Scan:
        """``POST …/scans``: HubScan, stored; ``policy`` ``alert`` or ``auto-contain``."""
        body = m.ScanRequest(policy=policy, sample=sample, sample_size=sample_size, k=k, threshold=threshold,
                             budget=budget, seed=seed, tenant=tenant, domain_field=domain_field)
        return await self._run(build("scan", body, path_params={"name": collection}, idempotency_key=idempotency_key))

    async def scans(self, collection: str, *, limit: int | None = None, before: int | None = None) -> m.ScanPage:
        """``GET …/scans``: stored scans, newest first, ``limit`` (1 to 200, default 50) at a
        time; ``before`` is the previous page's ``next_before``. A tenant-scoped token sees only
        its tenant's scans."""
        params = {"limit": limit, "before": before}
        return await self._run(build("scans", path_params={"name": collection}, params=params))

    async def get_scan(self, scan_id: int) -> m.Scan:
        """``GET /v1/scans/{id}``."""
        return await self._run(build("get_scan", path_params={"id": scan_id}))

    async def set_scan_schedule(
        self,
        collection: str,
        *,
        every_seconds: int,
        policy: m.ScanPolicy,
        enabled: bool | None = None,
        sample: m.ScanSample | None = None,
        sample_size: int | None = None,
        k: int | None = None,
        threshold: float | None = None,
        budget: float | None = None,
        seed: int | None = None,
        idempotency_key: str | None = None,
    ) -> m.Schedule:
        """``PUT …/scan-schedule`` (commanders, admins)."""
        body = m.Schedule(every_seconds=every_seconds, policy=policy, enabled=enabled, sample=sample,
                          sample_size=sample_size, k=k, threshold=threshold, budget=budget, seed=seed)
        return await self._run(build("set_scan_schedule", body, path_params={"name": collection},
                               idempotency_key=idempotency_key))

    async def rebuild(
        self,
        collection: str,
        *,
        tenant: str | None = None,
        incident_id: str | None = None,
        reason: str | None = None,
        validate_scan: bool | None = None,
        threshold: float | None = None,
        golden_mrr_drop_max: float | None = None,
        idempotency_key: str | None = None,
    ) -> m.JobStarted:
        """``POST …/rebuild``: 202 with the job; searches of the partition are degraded
        (the fallback answers) until it ends. Follow it with :meth:`job` or :meth:`wait_for_job`."""
        body = m.RebuildRequest(tenant=tenant, incident_id=incident_id, reason=reason, validate_scan=validate_scan,
                                threshold=threshold, golden_mrr_drop_max=golden_mrr_drop_max)
        return await self._run(build("rebuild", body, path_params={"name": collection}, idempotency_key=idempotency_key))

    async def jobs(
        self, *, collection: str | None = None, state: str | None = None, limit: int | None = None
    ) -> m.JobList:
        """``GET /v1/jobs``: newest first, optionally one collection's or one state's (at most
        ``limit``, 1 to 500, default 100); a tenant-scoped token sees only its tenant's."""
        params = {"collection": collection, "state": state, "limit": limit}
        return await self._run(build("jobs", params=params))

    async def job(self, job_id: int) -> m.Job:
        """``GET /v1/jobs/{id}``."""
        return await self._run(build("job", path_params={"id": job_id}))

    async def cancel_job(self, job_id: int, *, idempotency_key: str | None = None) -> m.Job:
        """``DELETE /v1/jobs/{id}`` (commanders, admins)."""
        return await self._run(build("cancel_job", path_params={"id": job_id}, idempotency_key=idempotency_key))

    async def wait_for_job(self, job_id: int, *, timeout: float = 600.0, poll: float = 0.2) -> m.Job:
        """Polls the job until it has finished (succeeded, failed or cancelled); the job.
        :class:`TimeoutError` after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            job = await self.job(job_id)
            if job.state in _FINISHED:
                return job
            if time.monotonic() >= deadline:
                raise TimeoutError(f"job {job_id} is still {job.state} after {timeout} s")
            await asyncio.sleep(poll)

    # -- snapshots and rollback --------------------------------------------------------

    async def snapshots(self, collection: str) -> m.SnapshotList:
        """``GET …/snapshots``, newest first."""
        return await self._run(build("snapshots", path_params={"name": collection}))

    async def create_snapshot(self, collection: str, *, idempotency_key: str | None = None) -> m.Snapshot:
        """``POST …/snapshots``: every partition's graph and BM25 index as served now."""
        return await self._run(build("create_snapshot", path_params={"name": collection}, idempotency_key=idempotency_key))

    async def verify_snapshot(
        self,
        collection: str,
        snapshot_id: str,
        *,
        sample: m.ScanSample | None = None,
        sample_size: int | None = None,
        k: int | None = None,
        threshold: float | None = None,
        budget: float | None = None,
        seed: int | None = None,
        idempotency_key: str | None = None,
    ) -> m.SnapshotVerification:
        """``POST …/snapshots/{id}/verify``: files against the manifest, then a HubScan;
        clean makes it a ``last-clean`` target."""
        body = m.VerifyRequest(sample=sample, sample_size=sample_size, k=k, threshold=threshold, budget=budget, seed=seed)
        return await self._run(build("verify_snapshot", body, path_params={"name": collection, "id": snapshot_id},
                               idempotency_key=idempotency_key))

    async def rollback(
        self,
        collection: str,
        snapshot_id: str,
        *,
        incident_id: str | None = None,
        tenant: str | None = None,
        reason: str | None = None,
        idempotency_key: str | None = None,
    ) -> m.RollbackResult:
        """``POST …/rollback`` to a snapshot id or ``"last-clean"`` (commanders, admins)."""
        body = m.RollbackRequest(snapshot_id=snapshot_id, incident_id=incident_id, tenant=tenant, reason=reason)
        return await self._run(build("rollback", body, path_params={"name": collection}, idempotency_key=idempotency_key))

    # -- golden queries ----------------------------------------------------------------

    async def set_golden_queries(
        self,
        collection: str,
        queries: Iterable[m.GoldenQuery | Mapping[str, Any]],
        *,
        idempotency_key: str | None = None,
    ) -> m.GoldenSummary:
        """``PUT …/golden-queries``: every rebuild is held to their MRR@10."""
        body = m.GoldenQueries(queries=[m.GoldenQuery.model_validate(q) if not isinstance(q, m.GoldenQuery) else q
                                        for q in queries])
        return await self._run(build("set_golden_queries", body, path_params={"name": collection},
                               idempotency_key=idempotency_key))

    async def golden_queries(self, collection: str) -> m.GoldenSummary:
        """``GET …/golden-queries``."""
        return await self._run(build("golden_queries", path_params={"name": collection}))

    # -- incidents ---------------------------------------------------------------------

    async def declare_incident(
        self,
        title: str,
        severity: m.Severity = "SEV-2",
        *,
        taxonomy_class: str | None = None,
        tenant: str | None = None,
        collection: str | None = None,
        traceparent: str | None = None,
        idempotency_key: str | None = None,
    ) -> m.Incident:
        """``POST /v1/incidents``."""
        body = m.DeclareIncident(title=title, severity=severity, taxonomy_class=taxonomy_class, tenant=tenant,
                                 collection=collection, traceparent=traceparent)
        return await self._run(build("declare_incident", body, idempotency_key=idempotency_key))

    async def incidents(
        self, *, status: str | None = None, severity: str | None = None, limit: int | None = None
    ) -> m.IncidentList:
        """``GET /v1/incidents``: newest first, optionally only one status or severity (at most
        ``limit``, 1 to 500, default 100); a tenant-scoped token sees only its tenant's."""
        params = {"status": status, "severity": severity, "limit": limit}
        return await self._run(build("incidents", params=params))

    async def incident(self, incident_id: str) -> m.Incident:
        """``GET /v1/incidents/{id}``."""
        return await self._run(build("incident", path_params={"id": incident_id}))

    async def incident_timeline(self, incident_id: str) -> m.Timeline:
        """``GET /v1/incidents/{id}/timeline``: the hash-chained events."""
        return await self._run(build("incident_timeline", path_params={"id": incident_id}))

    async def verify_incident(self, incident_id: str) -> m.Verification:
        """``GET /v1/incidents/{id}/verify``: is the hash chain intact?"""
        return await self._run(build("verify_incident", path_params={"id": incident_id}))

    async def postmortem(self, incident_id: str) -> str:
        """``GET /v1/incidents/{id}/postmortem``: Markdown."""
        return await self._run(build("postmortem", path_params={"id": incident_id}))

    async def export_incident(self, incident_id: str) -> dict[str, Any]:
        """``GET /v1/incidents/{id}/export``: the signed bundle (as ``firebreak incident export``
        writes it), verifiable offline: its ``chain_head`` is the timeline's head, signed with
        the instance's Ed25519 key (``public_key``)."""
        return await self._run(build("export_incident", path_params={"id": incident_id}))

    async def write_postmortem(
        self,
        incident_id: str,
        *,
        summary: str,
        failing_layer: str,
        root_cause: str,
        regression_case: str,
        evaluation_gaps: str | None = None,
        idempotency_key: str | None = None,
    ) -> m.Incident:
        """``POST /v1/incidents/{id}/postmortem``."""
        body = m.Postmortem(summary=summary, failing_layer=failing_layer, root_cause=root_cause,
                            regression_case=regression_case, evaluation_gaps=evaluation_gaps)
        return await self._run(build("write_postmortem", body, path_params={"id": incident_id}, idempotency_key=idempotency_key))

    async def assign_commander(self, incident_id: str, commander: str, *, idempotency_key: str | None = None) -> m.Incident:
        """``POST /v1/incidents/{id}/commander`` (commanders, admins)."""
        return await self._run(build("assign_commander", m.Commander(commander=commander), path_params={"id": incident_id},
                               idempotency_key=idempotency_key))

    async def transition_incident(
        self, incident_id: str, status: m.IncidentStatus, *, reason: str, idempotency_key: str | None = None
    ) -> m.Incident:
        """``POST /v1/incidents/{id}/transition`` (commanders, admins)."""
        return await self._run(build("transition_incident", m.Transition(status=status, reason=reason),
                               path_params={"id": incident_id}, idempotency_key=idempotency_key))

    async def record_decision(
        self,
        incident_id: str,
        *,
        what: str,
        why: str,
        options_not_taken: Sequence[str] | None = None,
        idempotency_key: str | None = None,
    ) -> m.Incident:
        """``POST /v1/incidents/{id}/decisions``."""
        body = m.Decision(what=what, why=why, options_not_taken=list(options_not_taken) if options_not_taken else None)
        return await self._run(build("record_decision", body, path_params={"id": incident_id}, idempotency_key=idempotency_key))

    async def add_evidence(
        self, incident_id: str, *, kind: str, sha256: str, location: str, summary: str,
        idempotency_key: str | None = None,
    ) -> m.Incident:
        """``POST /v1/incidents/{id}/evidence``."""
        body = m.Evidence(kind=kind, sha256=sha256, location=location, summary=summary)
        return await self._run(build("add_evidence", body, path_params={"id": incident_id}, idempotency_key=idempotency_key))

    async def add_action(
        self, incident_id: str, *, title: str, owner: str, due: str, verification: str,
        idempotency_key: str | None = None,
    ) -> m.Incident:
        """``POST /v1/incidents/{id}/actions``: a follow-up action (``due`` YYYY-MM-DD)."""
        body = m.Action(title=title, owner=owner, due=due, verification=verification)
        return await self._run(build("add_action", body, path_params={"id": incident_id}, idempotency_key=idempotency_key))

    async def close_action(
        self, incident_id: str, number: int, *, verification_evidence: str, idempotency_key: str | None = None
    ) -> m.Incident:
        """``POST /v1/incidents/{id}/actions`` with ``close``: closes action ``number``."""
        body = m.Action(close=number, verification_evidence=verification_evidence)
        return await self._run(build("close_action", body, path_params={"id": incident_id}, idempotency_key=idempotency_key))

    async def blast_radius(self, incident_id: str) -> m.BlastRadius:
        """``GET /v1/incidents/{id}/blast-radius``: who was served what the incident quarantined."""
        return await self._run(build("blast_radius", path_params={"id": incident_id}))

    # -- tokens and operations ---------------------------------------------------------

    async def create_token(self, role: m.Role, *, tenant: str | None = None, idempotency_key: str | None = None) -> m.Token:
        """``POST /v1/tokens`` (admins): the token is shown once."""
        return await self._run(build("create_token", m.CreateToken(role=role, tenant=tenant), idempotency_key=idempotency_key))

    async def replicas(self) -> m.ReplicaList:
        """``GET /v1/replicas``."""
        return await self._run(build("replicas"))

    async def ready(self) -> m.Readiness:
        """``GET /readyz`` (also when it answers 503: ``ready`` is false then)."""
        return await self._run(build("ready"))

    async def health(self) -> dict[str, Any]:
        """``GET /healthz``."""
        return await self._run(build("health"))

    async def metrics(self) -> str:
        """``GET /metrics`` (Prometheus text)."""
        return await self._run(build("metrics"))

    async def openapi(self) -> dict[str, Any]:
        """``GET /openapi.json``: the contract the service serves."""
        return await self._run(build("openapi"))
