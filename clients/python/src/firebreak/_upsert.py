"""Upsert: documents normalised, planned into batches, and every batch's outcome kept."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import models as m
from ._core import Call, build, encode_json
from .errors import FirebreakError

__all__ = ["BatchResult", "UpsertResult", "Batch", "prepare_documents", "plan_batches"]

INGEST_BATCH_MAX = 1000


@dataclass(frozen=True)
class Batch:
    """One request's worth of documents, serialized once (a retry sends the same bytes)."""

    index: int
    ids: list[str]
    content: bytes

    def call(self, collection: str, idempotency_key: str | None) -> Call[m.IngestResult]:
        call = build("upsert", None, path_params={"name": collection}, idempotency_key=idempotency_key)
        call.content = self.content
        return call


@dataclass
class BatchResult:
    """The outcome of one batch: ``result`` when it was ingested, else ``error``."""

    index: int
    ids: list[str]
    result: m.IngestResult | None = None
    error: FirebreakError | None = None
    replaced: list[str] = field(default_factory=list)
    """Ids deleted first because they were present (``replace=True``)."""

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class UpsertResult:
    """Every batch of an upsert, in order: nothing is dropped silently."""

    batches: list[BatchResult]

    @property
    def ok(self) -> bool:
        return all(batch.ok for batch in self.batches)

    @property
    def failures(self) -> list[BatchResult]:
        return [batch for batch in self.batches if not batch.ok]

    @property
    def ingested(self) -> int:
        return sum(batch.result.ingested for batch in self.batches if batch.result is not None)

    @property
    def ids(self) -> list[str]:
        """Ids ingested, in the order given."""
        return [i for batch in self.batches if batch.result is not None for i in batch.result.ids]

    @property
    def failed_ids(self) -> list[str]:
        return [i for batch in self.failures for i in batch.ids]

    @property
    def seq(self) -> int | None:
        """The highest seq of the batches ingested: a search with ``min_seq=seq`` sees them all."""
        seqs = [batch.result.seq for batch in self.batches if batch.result is not None and batch.result.seq is not None]
        return max(seqs) if seqs else None

    @property
    def screened(self) -> list[m.Screened]:
        return [s for batch in self.batches if batch.result is not None for s in batch.result.screened]

    @property
    def held(self) -> list[str]:
        return [h for batch in self.batches if batch.result is not None for h in batch.result.held]

    @property
    def incident_ids(self) -> list[str]:
        found = [batch.result.incident_id for batch in self.batches if batch.result is not None and batch.result.incident_id]
        return list(dict.fromkeys(found))

    def raise_for_failures(self) -> UpsertResult:
        """Raise :class:`~firebreak.UpsertError` when a batch failed; else return self."""
        if not self.ok:
            from .errors import UpsertError

            raise UpsertError(self)
        return self


def _document(value: Any, index: int, embedding: Any, tenant: str | None) -> m.NewDocument:
    if isinstance(value, m.NewDocument):
        data = value.model_dump(exclude_none=True)
    elif isinstance(value, Mapping):
        data = dict(value)
    else:
        raise TypeError(f"documents[{index}] must be a firebreak.NewDocument or a mapping, not {type(value).__name__}")
    if embedding is not None:
        if data.get("embedding") is not None:
            raise ValueError(f"documents[{index}] has an embedding and one is given in embeddings too")
        data["embedding"] = embedding
    if tenant is not None and data.get("tenant") is None:
        data["tenant"] = tenant
    try:
        return m.NewDocument.model_validate(data)
    except ValueError as error:
        raise ValueError(f"documents[{index}] ({data.get('id')!r}): {error}") from error


def prepare_documents(
    documents: Iterable[m.NewDocument | Mapping[str, Any]],
    embeddings: Any = None,
    tenant: str | None = None,
) -> list[m.NewDocument]:
    """Documents as the API wants them. ``embeddings`` (a 2-D array or a sequence of
    vectors, row i for document i) fills in documents without an embedding; ``tenant`` those
    without a tenant. Ids repeated within one upsert are refused here."""
    items = list(documents)
    rows: Sequence[Any] | None = None
    if embeddings is not None:
        shape = getattr(embeddings, "shape", None)
        if shape is not None and len(shape) != 2:
            raise ValueError(f"embeddings must be 2-D (one row per document), got shape {shape}")
        rows = embeddings
        if len(rows) != len(items):
            raise ValueError(f"{len(items)} documents but {len(rows)} embeddings")
    prepared = [_document(item, i, None if rows is None else rows[i], tenant) for i, item in enumerate(items)]
    seen: set[str] = set()
    for i, doc in enumerate(prepared):
        if doc.id in seen:
            raise ValueError(f"documents[{i}]: id {doc.id!r} appears twice in this upsert")
        seen.add(doc.id)
    return prepared


def plan_batches(documents: list[m.NewDocument], batch_size: int, body_bytes_max: int) -> list[Batch]:
    """Batches of at most ``batch_size`` documents, each under ``body_bytes_max`` bytes (a
    batch over it is halved until it fits; one document over it is sent alone, and the
    service answers 413 for it)."""
    if not 1 <= batch_size <= INGEST_BATCH_MAX:
        raise ValueError(f"batch_size must be in 1...{INGEST_BATCH_MAX}, got {batch_size}")
    wires = [doc.wire() for doc in documents]
    planned: list[tuple[list[str], bytes]] = []

    def add(start: int, end: int) -> None:
        content = encode_json({"documents": wires[start:end]})
        if len(content) > body_bytes_max and end - start > 1:
            middle = (start + end) // 2
            add(start, middle)
            add(middle, end)
            return
        planned.append(([d.id for d in documents[start:end]], content))

    for start in range(0, len(documents), batch_size):
        add(start, min(len(documents), start + batch_size))
    return [Batch(index, ids, content) for index, (ids, content) in enumerate(planned)]


def batch_key(prefix: str | None, index: int, replace_round: bool = False) -> str | None:
    if prefix is None:
        return None
    return f"{prefix}-b{index}{'-r' if replace_round else ''}"
