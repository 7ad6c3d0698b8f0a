"""Exceptions and warnings.

Every error the service answers is RFC 9457 problem details with a stable ``code``; each code
has its own exception class here, all subclasses of :class:`FirebreakError`. A code this
client does not know (a newer server) raises :class:`FirebreakError` itself, with the same
details. Errors the client raises without an answer from the server (the connection failed
on every attempt, an upsert with failed batches) are subclasses too, so one
``except firebreak.FirebreakError`` catches everything the client raises about the service.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = [
    "FirebreakError",
    "TransportError",
    "UpsertError",
    "DegradedWarning",
    "error_class",
    "error_from_problem",
    "ERROR_CLASSES",
]


class FirebreakError(Exception):
    """An error answered by (or about) the Firebreak service.

    Attributes carry the problem details: ``status`` (HTTP status, ``None`` when no answer
    arrived), ``code``, ``title``, ``detail``, ``type`` and the whole ``problem`` dict, plus
    the request it answered (``method``, ``url``, ``idempotency_key``), the number of
    ``attempts`` made, the response ``headers`` and ``retry_after`` (seconds) when the
    service sent one.
    """

    #: The problem code this class stands for (``None`` on the base class).
    code_name: str | None = None

    def __init__(
        self,
        detail: str,
        *,
        status: int | None = None,
        code: str | None = None,
        title: str | None = None,
        type: str | None = None,
        problem: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        method: str | None = None,
        url: str | None = None,
        idempotency_key: str | None = None,
        attempts: int = 1,
    ) -> None:
        self.detail = detail
        self.status = status
        self.code = code if code is not None else self.code_name
        self.title = title
        self.type = type
        self.problem: dict[str, Any] = dict(problem) if problem else {}
        self.headers: dict[str, str] = {k.lower(): v for k, v in (headers or {}).items()}
        self.method = method
        self.url = url
        self.idempotency_key = idempotency_key
        self.attempts = attempts
        super().__init__(self._message())

    def _message(self) -> str:
        where = f" ({self.method} {self.url})" if self.method and self.url else ""
        status = f"{self.status} " if self.status is not None else ""
        code = f"{self.code}: " if self.code else ""
        return f"{status}{code}{self.detail}{where}"

    @property
    def retry_after(self) -> float | None:
        """The ``Retry-After`` the service sent, in seconds."""
        value = self.headers.get("retry-after")
        if value is None:
            return None
        try:
            return max(0.0, float(value))
        except ValueError:
            return None

    @property
    def applied_seq(self) -> int | None:
        """``Firebreak-Applied-Seq`` of the answering replica."""
        value = self.headers.get("firebreak-applied-seq")
        return int(value) if value and value.isdigit() else None

    def __reduce__(self):  # keeps the exception picklable across processes
        return (_rebuild, (type(self), self.detail, self.__dict__))


def _rebuild(cls: type[FirebreakError], detail: str, state: dict[str, Any]) -> FirebreakError:
    error = cls.__new__(cls)
    Exception.__init__(error, detail)
    error.__dict__.update(state)
    return error


class TransportError(FirebreakError):
    """No answer: the connection failed (or timed out) on every attempt.

    The original ``httpx`` exception is the ``__cause__``. A mutating request may or may not
    have acted; retrying it with the same ``idempotency_key`` is safe.
    """

    code_name = "transport_error"


class UpsertError(FirebreakError):
    """Some batches of an upsert failed. ``result`` holds every batch: what was ingested and
    which batches failed with which error (``result.failures``)."""

    code_name = "upsert_failed"

    def __init__(self, result: Any) -> None:
        failures = result.failures
        first = failures[0].error if failures else None
        detail = (
            f"{len(failures)} of {len(result.batches)} batches failed "
            f"({len(result.failed_ids)} documents); {result.ingested} documents ingested"
        )
        if first is not None:
            detail += f"; first failure: {first}"
        super().__init__(detail, status=getattr(first, "status", None))
        self.result = result


class DegradedWarning(UserWarning):
    """A search was answered from the fallback (BM25 and an exact vector scan) while a
    partition's graph is rebuilt. ``notice`` is the service's text for the user."""

    def __init__(self, notice: str, *, collection: str | None = None, mode_used: str | None = None) -> None:
        super().__init__(notice)
        self.notice = notice
        self.collection = collection
        self.mode_used = mode_used


# One class per code the service emits: the Engine's error codes (Sources/Engine/Engine.swift),
# the Store's and Incidents' as Sources/Server/Problem.swift maps them, and the Server's own.
# tests/test_errors.py checks this set against the Swift sources.

class InvalidInput(FirebreakError):
    """``invalid_input`` (400): the request names a bad value (detail says which)."""

    code_name = "invalid_input"


class DimensionMismatch(FirebreakError):
    """``dimension_mismatch`` (400): an embedding or vector has the wrong number of dimensions."""

    code_name = "dimension_mismatch"


class InvalidVector(FirebreakError):
    """``invalid_vector`` (400): a vector is not finite, or zero under cosine."""

    code_name = "invalid_vector"


class UnknownCollection(FirebreakError):
    """``unknown_collection`` (404): no such collection."""

    code_name = "unknown_collection"


class UnknownDocument(FirebreakError):
    """``unknown_document`` (404): no such document (or quarantined, deleted, another tenant's)."""

    code_name = "unknown_document"


class DuplicateDocument(FirebreakError):
    """``duplicate_document`` (409): a document id is already present or repeated in the batch."""

    code_name = "duplicate_document"


class DuplicateCollection(FirebreakError):
    """``duplicate_collection`` (409): the collection already exists."""

    code_name = "duplicate_collection"


class CollectionFrozen(FirebreakError):
    """``collection_frozen`` (423): ingestion refused, the partition is frozen or rebuilding."""

    code_name = "collection_frozen"


class DocumentQuarantined(FirebreakError):
    """``document_quarantined`` (409): release the document before deleting it."""

    code_name = "document_quarantined"


class ScanRequired(FirebreakError):
    """``scan_required`` (409): lifting a freeze needs a clean scan stored after it."""

    code_name = "scan_required"


class UnknownJob(FirebreakError):
    """``unknown_job`` (404): no such job."""

    code_name = "unknown_job"


class JobFinished(FirebreakError):
    """``job_finished`` (409): the job has already finished."""

    code_name = "job_finished"


class RebuildRunning(FirebreakError):
    """``rebuild_running`` (409): refused while a partition rebuilds."""

    code_name = "rebuild_running"


class UnknownSnapshot(FirebreakError):
    """``unknown_snapshot`` (404): no such snapshot."""

    code_name = "unknown_snapshot"


class SnapshotInvalid(FirebreakError):
    """``snapshot_invalid`` (409): a snapshot file does not match its manifest."""

    code_name = "snapshot_invalid"


class NoCleanSnapshot(FirebreakError):
    """``no_clean_snapshot`` (409): no verified-clean snapshot for last-clean."""

    code_name = "no_clean_snapshot"


class TenantBlocked(FirebreakError):
    """``tenant_blocked`` (403): the tenant is blocked (FF_TENANT_BLOCK)."""

    code_name = "tenant_blocked"


class QueryTooLong(FirebreakError):
    """``query_too_long`` (400): the query is over 64 KiB."""

    code_name = "query_too_long"


class InvalidUTF8(FirebreakError):
    """``invalid_utf8`` (400): the body is not UTF-8."""

    code_name = "invalid_utf8"


class UnknownIncident(FirebreakError):
    """``unknown_incident`` (404): no such incident."""

    code_name = "unknown_incident"


class IncidentClosed(FirebreakError):
    """``incident_closed`` (409): the incident is closed."""

    code_name = "incident_closed"


class StoreFailed(FirebreakError):
    """``store_failed`` (503): the database failed."""

    code_name = "store_failed"


class Busy(FirebreakError):
    """``busy`` (503): every database connection stayed busy (Retry-After)."""

    code_name = "busy"


class IndexFailed(FirebreakError):
    """``index_failed`` (500): the index failed."""

    code_name = "index_failed"


class CollectionUnavailable(FirebreakError):
    """``collection_unavailable`` (503): this replica could not load the collection at start-up
    (the detail says why); its other collections serve, and a restart tries again."""

    code_name = "collection_unavailable"


class InvalidData(FirebreakError):
    """``invalid_data`` (400): the database refused the data."""

    code_name = "invalid_data"


class ConstraintViolation(FirebreakError):
    """``constraint_violation`` (400): a database constraint refused the write."""

    code_name = "constraint_violation"


class UnknownReference(FirebreakError):
    """``unknown_reference`` (404): a referenced row does not exist."""

    code_name = "unknown_reference"


class StoreUnavailable(FirebreakError):
    """``store_unavailable`` (503): the database is unavailable."""

    code_name = "store_unavailable"


class SigningKeyUnavailable(FirebreakError):
    """``signing_key_unavailable`` (503): the server has no incident signing key to sign an export with."""

    code_name = "signing_key_unavailable"


class TransitionNotAllowed(FirebreakError):
    """``transition_not_allowed`` (409): the incident cannot move to that status."""

    code_name = "transition_not_allowed"


class ActionNotVerified(FirebreakError):
    """``action_not_verified`` (409): an action cannot close without verification evidence."""

    code_name = "action_not_verified"


class SignatureInvalid(FirebreakError):
    """``signature_invalid`` (400): a signature does not verify."""

    code_name = "signature_invalid"


class ReplicaBehind(FirebreakError):
    """``replica_behind`` (503): this replica has not applied min_seq yet (Retry-After)."""

    code_name = "replica_behind"


class BodyTooLarge(FirebreakError):
    """``body_too_large`` (413): the body is over bodyBytesMax."""

    code_name = "body_too_large"


class MalformedJSON(FirebreakError):
    """``malformed_json`` (400): the body is not the JSON expected (detail names the field)."""

    code_name = "malformed_json"


class IdempotencyKeyRequired(FirebreakError):
    """``idempotency_key_required`` (400): mutating requests need an Idempotency-Key."""

    code_name = "idempotency_key_required"


class InvalidIdempotencyKey(FirebreakError):
    """``invalid_idempotency_key`` (400): the Idempotency-Key is over 255 bytes."""

    code_name = "invalid_idempotency_key"


class IdempotencyKeyReused(FirebreakError):
    """``idempotency_key_reused`` (422): the key was used for a different request."""

    code_name = "idempotency_key_reused"


class IdempotencyKeyInUse(FirebreakError):
    """``idempotency_key_in_use`` (409): the first request with this key is still running."""

    code_name = "idempotency_key_in_use"


class IdempotencyKeyCommitted(FirebreakError):
    """``idempotency_key_committed`` (409): the first request with this key acted, its answer was lost. ``seq`` is the change-log position of that effect when
    the service names it; read the resource for the outcome."""

    code_name = "idempotency_key_committed"

    @property
    def seq(self) -> int | None:
        match = re.search(r"at seq (\d+)", self.detail or "")
        return int(match.group(1)) if match else None


class IncidentNotResolvable(FirebreakError):
    """``incident_not_resolvable`` (409): the incident cannot be resolved yet (detail says why)."""

    code_name = "incident_not_resolvable"


class ForensicSnapshotRequired(FirebreakError):
    """``forensic_snapshot_required`` (409): a SEV-0/1 incident on a collection starts with a
    snapshot of what it serves, which only the running service can take."""

    code_name = "forensic_snapshot_required"


class TenantForbidden(FirebreakError):
    """``tenant_forbidden`` (403): the token is scoped to another tenant."""

    code_name = "tenant_forbidden"


class Forbidden(FirebreakError):
    """``forbidden`` (403): the token's role may not do this."""

    code_name = "forbidden"


class UnknownFlag(FirebreakError):
    """``unknown_flag`` (404): no such flag."""

    code_name = "unknown_flag"


class NoGoldenQueries(FirebreakError):
    """``no_golden_queries`` (404): the collection has no golden queries."""

    code_name = "no_golden_queries"


class UnknownScan(FirebreakError):
    """``unknown_scan`` (404): no such scan."""

    code_name = "unknown_scan"


class Unauthorized(FirebreakError):
    """``unauthorized`` (401): no token, or an unknown one."""

    code_name = "unauthorized"


class Overloaded(FirebreakError):
    """``overloaded`` (503): too many requests in flight (Retry-After)."""

    code_name = "overloaded"


class NotFound(FirebreakError):
    """``not_found`` (404): no such route."""

    code_name = "not_found"


class InternalError(FirebreakError):
    """``internal_error`` (500): the service failed."""

    code_name = "internal_error"


class StartFailed(FirebreakError):
    """``start_failed`` (503): the server did not start."""

    code_name = "start_failed"


class ScanReportUnreadable(FirebreakError):
    """``scan_report_unreadable`` (409): a stored scan report from an older build; run a new scan."""

    code_name = "scan_report_unreadable"


class HttpError(FirebreakError):
    """``http_error``: an HTTP-level refusal other than a missing route (e.g. 405)."""

    code_name = "http_error"


class CsrfFailed(FirebreakError):
    """``csrf_failed`` (403): a console form without its CSRF token."""

    code_name = "csrf_failed"


class ConfirmationRequired(FirebreakError):
    """``confirmation_required`` (400): a console action needs its typed confirmation."""

    code_name = "confirmation_required"


#: Problem code → exception class.
ERROR_CLASSES: dict[str, type[FirebreakError]] = {
    cls.code_name: cls
    for cls in list(globals().values())
    if isinstance(cls, type) and issubclass(cls, FirebreakError) and cls.code_name
    and cls not in (TransportError, UpsertError)
}

__all__ += [
    "InvalidInput",
    "DimensionMismatch",
    "InvalidVector",
    "UnknownCollection",
    "UnknownDocument",
    "DuplicateDocument",
    "DuplicateCollection",
    "CollectionFrozen",
    "DocumentQuarantined",
    "ScanRequired",
    "UnknownJob",
    "JobFinished",
    "RebuildRunning",
    "UnknownSnapshot",
    "SnapshotInvalid",
    "NoCleanSnapshot",
    "TenantBlocked",
    "QueryTooLong",
    "InvalidUTF8",
    "UnknownIncident",
    "IncidentClosed",
    "StoreFailed",
    "Busy",
    "IndexFailed",
    "CollectionUnavailable",
    "InvalidData",
    "ConstraintViolation",
    "UnknownReference",
    "StoreUnavailable",
    "TransitionNotAllowed",
    "ActionNotVerified",
    "SignatureInvalid",
    "SigningKeyUnavailable",
    "ReplicaBehind",
    "BodyTooLarge",
    "MalformedJSON",
    "IdempotencyKeyRequired",
    "InvalidIdempotencyKey",
    "IdempotencyKeyReused",
    "IdempotencyKeyInUse",
    "IdempotencyKeyCommitted",
    "IncidentNotResolvable",
    "ForensicSnapshotRequired",
    "TenantForbidden",
    "Forbidden",
    "UnknownFlag",
    "NoGoldenQueries",
    "UnknownScan",
    "Unauthorized",
    "Overloaded",
    "NotFound",
    "InternalError",
    "StartFailed",
    "ScanReportUnreadable",
    "HttpError",
    "CsrfFailed",
    "ConfirmationRequired",
]


def error_class(code: str | None) -> type[FirebreakError]:
    """The exception class of a problem code; :class:`FirebreakError` for an unknown one."""
    return ERROR_CLASSES.get(code or "", FirebreakError)


def error_from_problem(
    status: int,
    problem: Mapping[str, Any] | None,
    *,
    body_text: str = "",
    headers: Mapping[str, str] | None = None,
    method: str | None = None,
    url: str | None = None,
    idempotency_key: str | None = None,
    attempts: int = 1,
) -> FirebreakError:
    """The exception for an error answer (problem details, or whatever body came)."""
    problem = dict(problem or {})
    code = problem.get("code") if isinstance(problem.get("code"), str) else None
    detail = problem.get("detail") if isinstance(problem.get("detail"), str) else None
    if detail is None:
        detail = body_text.strip()[:500] or f"HTTP {status}"
    cls = error_class(code)
    return cls(
        detail,
        status=status,
        code=code,
        title=problem.get("title"),
        type=problem.get("type"),
        problem=problem,
        headers=headers,
        method=method,
        url=url,
        idempotency_key=idempotency_key,
        attempts=attempts,
    )
