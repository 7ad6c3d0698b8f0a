"""What the sync and async clients share: the route table, request building, answer parsing
and the retry policy. No I/O here."""

from __future__ import annotations

import email.utils
import json
import random
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel

from . import models as m
from .errors import FirebreakError, TransportError, error_from_problem

T = TypeVar("T")

#: Characters a path segment may carry as they are (RFC 3986 pchar less "%").
_PATH_SAFE = "-._~!$&'()*+,;=:@"


def segment(value: str | int) -> str:
    """One path segment, percent-encoded."""
    return quote(str(value), safe=_PATH_SAFE)


@dataclass(frozen=True)
class Endpoint:
    """One route of the API and the models of its bodies (``None``: no body; ``str``: text)."""

    method: str
    path: str
    request: type[BaseModel] | None
    response: type[Any] | None
    mutating: bool

    def url(self, **params: str | int) -> str:
        return self.path.format(**{k: segment(v) for k, v in params.items()})


def _e(method: str, path: str, request: type[BaseModel] | None, response: type[Any] | None,
       mutating: bool | None = None) -> Endpoint:
    return Endpoint(method, path, request, response, method != "GET" if mutating is None else mutating)


#: Client method → route. ``tests/test_models_contract.py`` checks that this covers every
#: operation of docs/openapi.json with the models the document names.
ENDPOINTS: dict[str, Endpoint] = {
    "create_collection": _e("POST", "/v1/collections", m.CreateCollection, m.Collection),
    "collections": _e("GET", "/v1/collections", None, m.CollectionList),
    "collection": _e("GET", "/v1/collections/{name}", None, m.Collection),
    "upsert": _e("POST", "/v1/collections/{name}/documents", m.IngestRequest, m.IngestResult),
    "get": _e("GET", "/v1/collections/{name}/documents/{id}", None, m.Document),
    "delete": _e("DELETE", "/v1/collections/{name}/documents/{id}", None, m.Deleted),
    "search": _e("POST", "/v1/collections/{name}/search", m.SearchRequest, m.SearchResult, mutating=False),
    "quarantine": _e("POST", "/v1/collections/{name}/quarantine", m.QuarantineRequest, m.QuarantineResult),
    "quarantine_list": _e("GET", "/v1/collections/{name}/quarantine", None, m.QuarantineList),
    "release": _e("POST", "/v1/collections/{name}/quarantine/release", m.QuarantineRequest, m.ReleaseResult),
    "set_flag": _e("PUT", "/v1/collections/{name}/flags/{flag}", m.SetFlag, m.FlagResult),
    "scan": _e("POST", "/v1/collections/{name}/scans", m.ScanRequest, m.Scan),
    "set_scan_schedule": _e("PUT", "/v1/collections/{name}/scan-schedule", m.Schedule, m.Schedule),
    "scans": _e("GET", "/v1/collections/{name}/scans", None, m.ScanPage),
    "get_scan": _e("GET", "/v1/scans/{id}", None, m.Scan),
    "rebuild": _e("POST", "/v1/collections/{name}/rebuild", m.RebuildRequest, m.JobStarted),
    "jobs": _e("GET", "/v1/jobs", None, m.JobList),
    "job": _e("GET", "/v1/jobs/{id}", None, m.Job),
    "cancel_job": _e("DELETE", "/v1/jobs/{id}", None, m.Job),
    "declare_incident": _e("POST", "/v1/incidents", m.DeclareIncident, m.Incident),
    "incidents": _e("GET", "/v1/incidents", None, m.IncidentList),
    "incident": _e("GET", "/v1/incidents/{id}", None, m.Incident),
    "incident_timeline": _e("GET", "/v1/incidents/{id}/timeline", None, m.Timeline),
    "verify_incident": _e("GET", "/v1/incidents/{id}/verify", None, m.Verification),
    "postmortem": _e("GET", "/v1/incidents/{id}/postmortem", None, str),
    "export_incident": _e("GET", "/v1/incidents/{id}/export", None, dict),
    "write_postmortem": _e("POST", "/v1/incidents/{id}/postmortem", m.Postmortem, m.Incident),
    "assign_commander": _e("POST", "/v1/incidents/{id}/commander", m.Commander, m.Incident),
    "transition_incident": _e("POST", "/v1/incidents/{id}/transition", m.Transition, m.Incident),
    "record_decision": _e("POST", "/v1/incidents/{id}/decisions", m.Decision, m.Incident),
    "add_evidence": _e("POST", "/v1/incidents/{id}/evidence", m.Evidence, m.Incident),
    "add_action": _e("POST", "/v1/incidents/{id}/actions", m.Action, m.Incident),
    "close_action": _e("POST", "/v1/incidents/{id}/actions", m.Action, m.Incident),
    "blast_radius": _e("GET", "/v1/incidents/{id}/blast-radius", None, m.BlastRadius),
    "create_token": _e("POST", "/v1/tokens", m.CreateToken, m.Token),
    "create_snapshot": _e("POST", "/v1/collections/{name}/snapshots", None, m.Snapshot),
    "snapshots": _e("GET", "/v1/collections/{name}/snapshots", None, m.SnapshotList),
    "verify_snapshot": _e("POST", "/v1/collections/{name}/snapshots/{id}/verify", m.VerifyRequest, m.SnapshotVerification),
    "rollback": _e("POST", "/v1/collections/{name}/rollback", m.RollbackRequest, m.RollbackResult),
    "set_golden_queries": _e("PUT", "/v1/collections/{name}/golden-queries", m.GoldenQueries, m.GoldenSummary),
    "golden_queries": _e("GET", "/v1/collections/{name}/golden-queries", None, m.GoldenSummary),
    "replicas": _e("GET", "/v1/replicas", None, m.ReplicaList),
    "health": _e("GET", "/healthz", None, dict),
    "ready": _e("GET", "/readyz", None, m.Readiness),
    "metrics": _e("GET", "/metrics", None, str),
    "openapi": _e("GET", "/openapi.json", None, dict),
}


@dataclass
class Call(Generic[T]):
    """One request, ready to send (and to send again, byte for byte, on a retry)."""

    method: str
    path: str
    response: Any
    content: bytes | None = None
    params: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    idempotency_key: str | None = None
    #: Statuses answered with a body of ``response`` instead of an error (readyz's 503).
    ok_statuses: tuple[int, ...] = ()


def new_idempotency_key() -> str:
    return f"fbpy-{uuid.uuid4().hex}"


def encode_json(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def build(
    name: str,
    body: BaseModel | Mapping[str, Any] | None = None,
    *,
    path_params: Mapping[str, str | int] | None = None,
    params: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
    idempotency_key: str | None = None,
) -> Call[Any]:
    """The call of client method ``name``: the route, the body serialized once, and an
    ``Idempotency-Key`` for a mutating route (``idempotency_key`` or a new one)."""
    endpoint = ENDPOINTS[name]
    content: bytes | None = None
    if body is not None:
        payload = body.wire() if isinstance(body, (m.RequestModel, m.Schedule)) else (
            body.model_dump(mode="json", exclude_none=True) if isinstance(body, BaseModel) else dict(body))
        content = encode_json(payload)
    elif endpoint.method in ("POST", "PUT") and endpoint.mutating:
        content = b"{}"
    call: Call[Any] = Call(
        method=endpoint.method,
        path=endpoint.url(**(path_params or {})),
        response=endpoint.response,
        content=content,
        params={k: str(v) for k, v in (params or {}).items() if v is not None},
        headers=dict(headers or {}),
    )
    if endpoint.mutating:
        call.idempotency_key = idempotency_key or new_idempotency_key()
    if name == "ready":
        call.ok_statuses = (503,)
    return call


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded exponential backoff with jitter.

    A request is retried on a connection error or timeout, on 502/503/504 (and 429), and on
    409 ``idempotency_key_in_use`` (its first attempt is still running on the service), at
    most ``max_retries`` times. The n-th retry waits a random time between half and all of
    ``min(backoff_max, backoff * 2**n)``, and at least the answer's ``Retry-After`` (capped at
    ``retry_after_max``). A mutating request keeps its ``Idempotency-Key`` on every attempt, so
    the service acts at most once and a retry gets the stored answer.
    """

    max_retries: int = 4
    backoff: float = 0.2
    backoff_max: float = 5.0
    retry_after_max: float = 30.0
    statuses: frozenset[int] = frozenset({429, 502, 503, 504})

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        ceiling = min(self.backoff_max, self.backoff * (2 ** attempt))
        wait = ceiling / 2 + random.uniform(0, ceiling / 2)
        if retry_after is not None:
            wait = max(wait, min(retry_after, self.retry_after_max))
        return wait

    def retryable_status(self, status: int, code: str | None) -> bool:
        return status in self.statuses or (status == 409 and code == "idempotency_key_in_use")


def retry_after_seconds(value: str | None) -> float | None:
    """``Retry-After`` as seconds: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def problem_of(response: httpx.Response) -> dict[str, Any] | None:
    try:
        data = response.json()
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def error_for(response: httpx.Response, call: Call[Any], attempts: int) -> FirebreakError:
    return error_from_problem(
        response.status_code,
        problem_of(response),
        body_text=response.text,
        headers=dict(response.headers),
        method=call.method,
        url=str(response.request.url) if response.request else call.path,
        idempotency_key=call.idempotency_key,
        attempts=attempts,
    )


def transport_error(exc: Exception, call: Call[Any], base_url: str, attempts: int) -> TransportError:
    error = TransportError(
        f"no answer after {attempts} attempt{'s' if attempts != 1 else ''}: {type(exc).__name__}: {exc}",
        method=call.method,
        url=base_url.rstrip("/") + call.path,
        idempotency_key=call.idempotency_key,
        attempts=attempts,
    )
    error.__cause__ = exc
    return error


def _header_int(response: httpx.Response, name: str) -> int | None:
    value = response.headers.get(name)
    return int(value) if value and value.strip().isdigit() else None


def parse(response: httpx.Response, call: Call[Any], attempts: int) -> Any:
    """The value of a successful answer: a model (with ``meta`` and ``seq`` filled in), text
    or JSON."""
    target = call.response
    if target is str:
        return response.text
    if target is None:
        return None
    data = response.json()
    if target is dict or not (isinstance(target, type) and issubclass(target, BaseModel)):
        return data
    value = target.model_validate(data)
    seq = _header_int(response, "firebreak-seq")
    if isinstance(value, m.ResponseModel):
        value._meta = m.ResponseMeta(
            status=response.status_code,
            replayed=response.headers.get("idempotent-replayed", "").lower() == "true",
            seq=seq,
            applied_seq=_header_int(response, "firebreak-applied-seq"),
            idempotency_key=call.idempotency_key,
            attempts=attempts,
        )
        if seq is not None and "seq" in type(value).model_fields and getattr(value, "seq", None) is None:
            setattr(value, "seq", seq)  # noqa: B010 (typed as ResponseModel here)
    return value


def request_headers(call: Call[Any]) -> dict[str, str]:
    headers = dict(call.headers)
    if call.content is not None:
        headers.setdefault("Content-Type", "application/json")
    if call.idempotency_key is not None:
        headers["Idempotency-Key"] = call.idempotency_key
    return headers


USER_AGENT = "firebreak-python"
