"""Pydantic models of every request and response body of the Firebreak API.

Each class named like a schema in ``docs/openapi.json``'s ``components.schemas`` is that
schema (same field names, the same ones required); ``tests/test_models_contract.py`` checks
them against the document, so the two cannot drift. Inline objects of the document have
their own classes here (``LastScan``, ``Containment``, ``FlaggedDocument``, ``GoldenQuery``).

Responses accept fields they do not know (the API may add fields; ``model_extra`` keeps
them). Requests refuse unknown fields, so a misspelt key fails before anything is sent.
Value constraints (patterns, ranges) are left to the service, which names the problem with a
stable code.
"""

from __future__ import annotations

import array
import base64
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, PrivateAttr, field_validator, model_validator

__all__ = [
    "RequestModel",
    "ResponseModel",
    "ResponseMeta",
    "Problem",
    "HNSW",
    "CreateCollection",
    "Flag",
    "LastScan",
    "Collection",
    "CollectionList",
    "NewDocument",
    "IngestRequest",
    "WriteRefusal",
    "UnloadedCollection",
    "Screened",
    "IngestResult",
    "Document",
    "Deleted",
    "SearchRequest",
    "SearchHit",
    "SearchResult",
    "QuarantineRequest",
    "QuarantineResult",
    "ReleaseResult",
    "QuarantineEntry",
    "QuarantineList",
    "SetFlag",
    "FlagResult",
    "DeclareIncident",
    "Incident",
    "IncidentList",
    "Event",
    "Timeline",
    "Verification",
    "Transition",
    "Decision",
    "Evidence",
    "Action",
    "Commander",
    "Postmortem",
    "ScanRequest",
    "Containment",
    "FlaggedDocument",
    "Scan",
    "ScanSummary",
    "ScanPage",
    "Schedule",
    "RebuildRequest",
    "JobStarted",
    "Job",
    "JobList",
    "CreateToken",
    "Token",
    "Snapshot",
    "SnapshotList",
    "VerifyRequest",
    "SnapshotVerification",
    "RollbackRequest",
    "RollbackResult",
    "Exposure",
    "BlastRadius",
    "GoldenQuery",
    "GoldenQueries",
    "GoldenSummary",
    "Readiness",
    "Replica",
    "ReplicaList",
    "Metric",
    "SearchMode",
    "Severity",
    "IncidentStatus",
    "Role",
    "FlagName",
    "ScanPolicy",
    "ScanSample",
    "as_vector",
]

Metric = Literal["cosine", "ip", "l2"]
SearchMode = Literal["vector", "lexical", "hybrid"]
Severity = Literal["SEV-0", "SEV-1", "SEV-2", "SEV-3", "SEV-4"]
IncidentStatus = Literal["declared", "contained", "mitigated", "resolved", "closed"]
Role = Literal["reader", "retrieval_owner", "incident_commander", "admin"]
FlagName = Literal["FF_INDEX_FREEZE", "FF_TENANT_BLOCK"]
ScanPolicy = Literal["alert", "auto-contain"]
ScanSample = Literal["documents", "centroids", "mixed", "queries"]


def as_vector(value: Any) -> list[float]:
    """A vector as the wire wants it: a list of finite floats (float32 values).

    Accepts lists, tuples and numpy arrays (any float dtype; float16 is widened). JSON cannot
    carry NaN or infinity, so they are refused here rather than sent as something else.
    """
    if hasattr(value, "tolist") and hasattr(value, "dtype"):  # numpy without importing it
        if getattr(value, "ndim", 1) != 1:
            raise ValueError(f"a vector must be one-dimensional, got shape {getattr(value, 'shape', '?')}")
        if value.dtype.kind not in "fiu":
            raise ValueError(f"a vector must be numeric, got dtype {value.dtype}")
        floats = value.astype("float32", copy=False).tolist()
    elif isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise ValueError("a vector must be a sequence of numbers")
    else:
        floats = [float(x) for x in value]
    for index, x in enumerate(floats):
        if not math.isfinite(x):
            raise ValueError(f"vector component {index} is {x}; only finite numbers can be sent")
    return floats


def embedding_b64(floats: Sequence[float]) -> str:
    """``floats`` as the ingest body's ``embedding_b64``: base64 of little-endian float32.

    About 2.7x smaller than the JSON array and parsed without a float parser on either side.
    A value beyond float32's range is refused here, not sent as infinity.
    """
    packed = array.array("f", floats)
    for index, x in enumerate(packed):
        if not math.isfinite(x):
            raise ValueError(f"vector component {index} is {floats[index]}, beyond float32's range")
    if sys.byteorder != "little":
        packed.byteswap()
    return base64.b64encode(packed.tobytes()).decode("ascii")


class RequestModel(BaseModel):
    """A request body: unknown fields are refused; ``None`` fields are left out on the wire."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    def wire(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)


@dataclass(frozen=True)
class ResponseMeta:
    """How a response arrived: HTTP status, whether it was an idempotent replay of the
    stored answer (``Idempotent-Replayed``), the seq headers, the key sent and the attempts."""

    status: int
    replayed: bool = False
    seq: int | None = None
    applied_seq: int | None = None
    idempotency_key: str | None = None
    attempts: int = 1


class ResponseModel(BaseModel):
    """A response body: fields the client does not know are kept in ``model_extra``."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)
    _meta: ResponseMeta | None = PrivateAttr(default=None)

    @property
    def meta(self) -> ResponseMeta | None:
        """How this answer arrived (``None`` when built by hand)."""
        return self._meta



# -- Problems and collections ------------------------------------------------------------


class Problem(ResponseModel):
    """RFC 9457 problem details; every error is one."""

    type: str
    title: str
    status: int
    detail: str
    code: str


class HNSW(ResponseModel):
    """Graph parameters (defaults m 16, ef_construction 200, ef_search 64)."""

    m: int | None = None
    ef_construction: int | None = None
    ef_search: int | None = None


class CreateCollection(RequestModel):
    name: str
    dimension: int
    metric: Metric
    hnsw: HNSW | None = None


class Flag(ResponseModel):
    flag: str
    tenant: str | None = None


class LastScan(ResponseModel):
    """``Collection.last_scan``."""

    at: str | None = None
    max_z: float | None = None


class Collection(ResponseModel):
    name: str
    dimension: int
    metric: str
    hnsw: HNSW
    mode: str
    """``serving``, ``rebuilding`` or ``frozen``."""
    active_snapshot: str | None = None
    documents: int
    quarantined: int
    tenants: list[str]
    flags: list[Flag]
    last_scan: LastScan | None = None
    write_refusal: str | None = None
    """Why the collection refuses writes until its replica is restarted; None while it takes them."""
    seq: int | None = None


class CollectionList(ResponseModel):
    collections: list[Collection]


# -- Documents ---------------------------------------------------------------------------


class NewDocument(RequestModel):
    """A document to ingest. ``embedding`` may be a numpy array; ``tenant`` is required
    unless the token is scoped to one."""

    id: str
    tenant: str | None = None
    text: str
    embedding: list[float] | None = None
    embedding_b64: str | None = None
    """The embedding as base64 of little-endian float32 values (the server accepts either form)."""
    metadata: dict[str, Any] | None = None

    @field_validator("embedding", mode="before")
    @classmethod
    def _vector(cls, value: Any) -> list[float] | None:
        return None if value is None else as_vector(value)

    @model_validator(mode="after")
    def _one_embedding(self) -> "NewDocument":
        if (self.embedding is None) == (self.embedding_b64 is None):
            raise ValueError("give embedding or embedding_b64 (exactly one)")
        return self

    def wire(self) -> dict[str, Any]:
        """The ingest body's form: the embedding travels as ``embedding_b64``."""
        body = super().wire()
        if self.embedding is not None:
            del body["embedding"]
            body["embedding_b64"] = embedding_b64(self.embedding)
        return body


class IngestRequest(RequestModel):
    documents: list[NewDocument]


class Screened(ResponseModel):
    """A new document the ingest screen scored at or above the newest scan's threshold."""

    id: str
    tenant: str
    would_enter_top_k: int
    z: float
    threshold: float
    scan_id: int


class IngestResult(ResponseModel):
    ingested: int
    ids: list[str]
    screened: list[Screened]
    held: list[str]
    incident_id: str | None = None
    seq: int | None = None


class Document(ResponseModel):
    id: str
    tenant: str
    text: str
    embedding: list[float]
    metadata: dict[str, Any]
    content_sha256: str
    ingested_at: str


class Deleted(ResponseModel):
    id: str
    deleted: bool
    seq: int | None = None


# -- Search ------------------------------------------------------------------------------


class SearchRequest(RequestModel):
    mode: SearchMode | None = None
    vector: list[float] | None = None
    query: str | None = None
    k: int | None = None
    tenant: str | None = None
    ef: int | None = None
    min_seq: int | None = None

    @field_validator("vector", mode="before")
    @classmethod
    def _vector(cls, value: Any) -> list[float] | None:
        return None if value is None else as_vector(value)


class SearchHit(ResponseModel):
    id: str
    score: float
    text: str
    tenant: str


class SearchResult(ResponseModel):
    """A search's answer. ``degraded`` is true while a partition's graph is rebuilt and the
    answer came from the fallback; ``notice`` then says so in words for the user."""

    mode_used: str
    degraded: bool
    notice: str | None = None
    snapshot: str | None = None
    results: list[SearchHit]
    took_ms: float
    empty_reason: str | None = None
    seq: int | None = None

    @property
    def ids(self) -> list[str]:
        return [hit.id for hit in self.results]


# -- Quarantine and flags ----------------------------------------------------------------


class QuarantineRequest(RequestModel):
    ids: list[str]
    reason: str
    incident_id: str | None = None
    tenant: str | None = None
    scores: dict[str, float] | None = None


class QuarantineResult(ResponseModel):
    incident_id: str
    quarantined: list[str]
    already_quarantined: list[str]
    seq: int | None = None


class ReleaseResult(ResponseModel):
    incident_id: str
    released: list[str]
    not_quarantined: list[str]
    seq: int | None = None


class QuarantineEntry(ResponseModel):
    id: str
    tenant: str
    incident_id: str
    reason: str
    quarantined_by: str
    quarantined_at: str


class QuarantineList(ResponseModel):
    entries: list[QuarantineEntry]


class SetFlag(RequestModel):
    enabled: bool
    incident_id: str | None = None
    tenant: str | None = None
    reason: str | None = None


class FlagResult(ResponseModel):
    flag: str
    enabled: bool
    tenant: str | None = None
    incident_id: str
    seq: int | None = None


# -- Incidents ---------------------------------------------------------------------------


class DeclareIncident(RequestModel):
    title: str
    severity: Severity
    taxonomy_class: str | None = None
    tenant: str | None = None
    collection: str | None = None
    traceparent: str | None = None


class Incident(ResponseModel):
    id: str
    title: str
    severity: str
    taxonomy_class: str
    status: str
    reporter: str
    commander: str | None = None
    tenant: str | None = None
    collection: str | None = None
    traceparent: str | None = None
    snapshot_root_hash: str | None = None
    contained: bool
    detected_at: str
    events: int
    seq: int | None = None


class IncidentList(ResponseModel):
    """``GET /v1/incidents``: newest first."""

    incidents: list[Incident]


class Event(ResponseModel):
    """One event of an incident's hash-chained timeline."""

    sequence: int
    kind: str
    actor: str
    at: str
    #: The kind's fields. Version 2: typed values (numbers, lists, documents as
    #: ``{"external_id": ..., "row_id": ...}``); version 1 (older events): every value a string.
    payload: dict[str, Any]
    payload_version: Literal[1, 2]
    previous_hash: str
    hash: str


class Timeline(ResponseModel):
    incident_id: str
    events: list[Event]


class Verification(ResponseModel):
    intact: bool
    events: int
    head: str
    first_bad_sequence: int | None = None
    problem: str | None = None


class Transition(RequestModel):
    status: IncidentStatus
    reason: str


class Decision(RequestModel):
    what: str
    why: str
    options_not_taken: list[str] | None = None


class Evidence(RequestModel):
    kind: str
    sha256: str
    location: str
    summary: str


class Action(RequestModel):
    """Add an action (title, owner, due, verification) or close one (close,
    verification_evidence)."""

    title: str | None = None
    owner: str | None = None
    due: str | None = None
    verification: str | None = None
    close: int | None = None
    verification_evidence: str | None = None


class Commander(RequestModel):
    commander: str


class Postmortem(RequestModel):
    summary: str
    failing_layer: str
    root_cause: str
    evaluation_gaps: str | None = None
    regression_case: str


# -- Scans, rebuilds, jobs ---------------------------------------------------------------


class ScanRequest(RequestModel):
    policy: ScanPolicy | None = None
    sample: ScanSample | None = None
    sample_size: int | None = None
    k: int | None = None
    threshold: float | None = None
    budget: float | None = None
    seed: int | None = None
    tenant: str | None = None
    domain_field: str | None = None


class Containment(ResponseModel):
    """``Scan.containment``: what a policy did."""

    incident_id: str | None = None
    quarantined: list[str] | None = None
    frozen_tenants: list[str] | None = None
    rebuild_jobs: list[int] | None = None


class FlaggedDocument(ResponseModel):
    """An entry of ``Scan.flagged``."""

    id: str | None = None
    tenant: str | None = None
    z: float | None = None
    score: float | None = None
    detectors: dict[str, Any] | None = None
    explanation: dict[str, Any] | None = None


class Scan(ResponseModel):
    containment: Containment | None = None
    id: int
    tenant: str | None = None
    max_z: float
    threshold: float
    flagged: list[FlaggedDocument]
    report: dict[str, Any]
    seq: int | None = None


class ScanSummary(ResponseModel):
    """One stored scan as ``GET …/scans`` lists it (the report itself: :meth:`Client.get_scan`)."""

    id: int
    tenant: str | None = None
    """``None``: the whole collection was scanned."""
    max_z: float
    threshold: float
    flagged: int
    """How many documents the report flags."""
    snapshot_id: str | None = None
    """The snapshot scanned; ``None`` for a scan of the served index."""
    created_at: str


class ScanPage(ResponseModel):
    """``GET /v1/collections/{name}/scans``: newest first; pass ``next_before`` as ``before``
    for the next page (``None``: this was the last)."""

    scans: list[ScanSummary]
    next_before: int | None = None


class Schedule(ResponseModel):
    """A scan schedule: the request of ``PUT …/scan-schedule`` and its answer."""

    every_seconds: int
    policy: ScanPolicy
    enabled: bool | None = None
    sample: ScanSample | None = None
    sample_size: int | None = None
    k: int | None = None
    threshold: float | None = None
    budget: float | None = None
    seed: int | None = None
    seq: int | None = None

    def wire(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True, exclude={"seq"})


class RebuildRequest(RequestModel):
    tenant: str | None = None
    incident_id: str | None = None
    reason: str | None = None
    validate_scan: bool | None = None
    threshold: float | None = None
    golden_mrr_drop_max: float | None = None


class JobStarted(ResponseModel):
    job_id: int
    incident_id: str | None = None
    seq: int | None = None


class Job(ResponseModel):
    id: int
    kind: str
    state: str
    """``queued``, ``running``, ``succeeded``, ``failed`` or ``cancelled``."""
    progress: float
    eta_seconds: float | None = None
    error: str | None = None
    collection: str | None = None
    tenant: str | None = None
    incident_id: str
    created_at: str
    seq: int | None = None

    @property
    def finished(self) -> bool:
        return self.state not in ("queued", "running")


class JobList(ResponseModel):
    """``GET /v1/jobs``: newest first."""

    jobs: list[Job]


# -- Tokens ------------------------------------------------------------------------------


class CreateToken(RequestModel):
    role: Role
    tenant: str | None = None


class Token(ResponseModel):
    token: str
    role: str
    tenant: str | None = None
    seq: int | None = None


# -- Snapshots and rollback --------------------------------------------------------------


class Snapshot(ResponseModel):
    id: str
    root_hash: str
    status: str
    parent: str | None = None
    documents: int | None = None
    tenants: list[str] | None = None
    created_at: str | None = None
    scan_report_id: int | None = None
    seconds: float | None = None
    seq: int | None = None


class SnapshotList(ResponseModel):
    snapshots: list[Snapshot]


class VerifyRequest(RequestModel):
    sample: ScanSample | None = None
    sample_size: int | None = None
    k: int | None = None
    threshold: float | None = None
    budget: float | None = None
    seed: int | None = None


class SnapshotVerification(ResponseModel):
    id: str
    root_hash: str
    status: str
    clean: bool
    scan_id: int
    max_z: float
    threshold: float
    flagged: int
    seq: int | None = None


class RollbackRequest(RequestModel):
    snapshot_id: str
    incident_id: str | None = None
    tenant: str | None = None
    reason: str | None = None


class RollbackResult(ResponseModel):
    snapshot_id: str
    root_hash: str
    incident_id: str
    tenants: list[str]
    documents: int
    retired: int
    seconds: float
    phases: dict[str, float]
    seq: int | None = None


# -- Retrieval log -----------------------------------------------------------------------


class Exposure(ResponseModel):
    tenant: str
    requests: int
    first: str
    last: str
    trace_ids: list[str]


class BlastRadius(ResponseModel):
    incident_id: str
    documents: int
    requests: int
    tenants: list[Exposure]


# -- Golden queries ----------------------------------------------------------------------


class GoldenQuery(RequestModel):
    """An entry of ``GoldenQueries.queries``; ``vector`` may be a numpy array."""

    tenant: str
    vector: list[float]
    relevant: list[str]

    @field_validator("vector", mode="before")
    @classmethod
    def _vector(cls, value: Any) -> list[float]:
        return as_vector(value)


class GoldenQueries(RequestModel):
    queries: list[GoldenQuery]


class GoldenSummary(ResponseModel):
    queries: int
    baseline_mrr: float
    by_tenant: dict[str, float]
    set_at: str | None = None
    seq: int | None = None


# -- Operations --------------------------------------------------------------------------


class WriteRefusal(ResponseModel):
    collection: str
    reason: str


class UnloadedCollection(ResponseModel):
    collection: str
    reason: str


class Readiness(ResponseModel):
    ready: bool
    applied_seq: int
    head_seq: int
    replica: str
    database: bool
    collections_loaded: bool
    problem: str | None = None
    write_refusals: list[WriteRefusal]
    """Collections on this replica that refuse writes until it is restarted."""
    unloaded_collections: list[UnloadedCollection]
    """Collections this replica could not load at start-up: not served until a restart loads them."""


class Replica(ResponseModel):
    name: str
    applied_seq: int
    silent_seconds: float
    live: bool
    problem: str | None = None


class ReplicaList(ResponseModel):
    replicas: list[Replica]
