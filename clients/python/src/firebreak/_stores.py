"""What the LangChain and LlamaIndex vector stores share: a sync client and an async one per
event loop, document reads in parallel, deletes that tolerate missing ids, the degraded
marks."""

from __future__ import annotations

import asyncio
import contextlib
import warnings
from collections.abc import AsyncIterator, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from . import models as m
from .aio import AsyncClient
from .client import Client
from .errors import DegradedWarning, UnknownCollection, UnknownDocument

#: Metadata keys a degraded answer's documents carry.
DEGRADED_KEY = "firebreak_degraded"
NOTICE_KEY = "firebreak_notice"
_READ_CONCURRENCY = 8


class Clients:
    """A sync :class:`Client`, and async clients, made from whichever was given.

    An httpx async client belongs to one event loop, so unless an :class:`AsyncClient` was
    given (used as it is; its owner closes it), each async store call opens its own for the
    call's duration (``async with clients.session() as client``): nothing outlives its loop.
    """

    def __init__(self, client: Client | None, async_client: AsyncClient | None,
                 url: str | None, token: str | None) -> None:
        self._owns_sync = client is None
        self._sync = client
        self._given_async = async_client
        self._url, self._token = url, token
        self._pool: ThreadPoolExecutor | None = None

    def close(self) -> None:
        """Closes what was made here (a client given by the caller stays open)."""
        if self._owns_sync and self._sync is not None:
            self._sync.close()
            self._sync = None
        if self._pool is not None:
            self._pool.shutdown(wait=False)
            self._pool = None

    @property
    def sync(self) -> Client:
        if self._sync is None:
            if self._given_async is not None:
                self._sync = Client(**self._given_async._twin_options())
            else:
                self._sync = Client(self._url, self._token)
        return self._sync

    @contextlib.asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncClient]:
        if self._given_async is not None:
            yield self._given_async
            return
        options = self._sync._twin_options() if self._sync is not None else {"url": self._url, "token": self._token}
        async with AsyncClient(**options) as client:
            yield client

    def map(self, fn: Any, items: Sequence[Any]) -> list[Any]:
        """``fn`` over ``items`` on a few threads (order kept)."""
        if len(items) <= 1:
            return [fn(item) for item in items]
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=_READ_CONCURRENCY, thread_name_prefix="firebreak-read")
        return list(self._pool.map(fn, items))


def read_documents(clients: Clients, collection: str, ids: Sequence[str], tenant: str | None) -> list[m.Document | None]:
    """The stored documents (``None`` where there is none to read), in order."""

    def one(doc_id: str) -> m.Document | None:
        try:
            return clients.sync.get(collection, doc_id, tenant=tenant)
        except UnknownDocument:
            return None

    return clients.map(one, list(ids))


async def aread_documents(client: AsyncClient, collection: str, ids: Sequence[str], tenant: str | None) -> list[m.Document | None]:
    gate = asyncio.Semaphore(_READ_CONCURRENCY)

    async def one(doc_id: str) -> m.Document | None:
        async with gate:
            try:
                return await client.get(collection, doc_id, tenant=tenant)
            except UnknownDocument:
                return None

    return list(await asyncio.gather(*(one(i) for i in ids)))


def delete_ids(clients: Clients, collection: str, ids: Iterable[str]) -> None:
    def one(doc_id: str) -> None:
        try:
            clients.sync.delete(collection, doc_id)
        except UnknownDocument:
            pass

    clients.map(one, list(ids))


async def adelete_ids(client: AsyncClient, collection: str, ids: Iterable[str]) -> None:
    gate = asyncio.Semaphore(_READ_CONCURRENCY)

    async def one(doc_id: str) -> None:
        async with gate:
            try:
                await client.delete(collection, doc_id)
            except UnknownDocument:
                pass

    await asyncio.gather(*(one(i) for i in ids))


def hits_with_documents(result: m.SearchResult, stored: list[m.Document | None]) -> list[tuple[m.SearchHit, dict[str, Any] | None, m.Document | None]]:
    """Each hit with its metadata. A hit whose document can no longer be read (quarantined or
    deleted since the search answered) is left out."""
    out: list[tuple[m.SearchHit, dict[str, Any] | None, m.Document | None]] = []
    for hit, document in zip(result.results, stored, strict=True):
        if document is None:
            continue
        else:
            out.append((hit, dict(document.metadata), document))
    return out


def mark_degraded(metadata: dict[str, Any], result: m.SearchResult) -> dict[str, Any]:
    if result.degraded:
        metadata[DEGRADED_KEY] = True
        metadata[NOTICE_KEY] = result.notice
    return metadata


def warn_if_degraded(result: m.SearchResult, collection: str, stacklevel: int) -> None:
    if result.degraded:
        notice = result.notice or "results come from the fallback while the index is rebuilt"
        warnings.warn(DegradedWarning(notice, collection=collection, mode_used=result.mode_used), stacklevel=stacklevel + 1)


def ensure_collection(client: Client, collection: str, dimension: int, metric: m.Metric) -> None:
    from .errors import DuplicateCollection

    try:
        client.collection(collection)
    except UnknownCollection:
        try:
            client.create_collection(collection, dimension, metric)
        except DuplicateCollection:
            pass


async def aensure_collection(client: AsyncClient, collection: str, dimension: int, metric: m.Metric) -> None:
    from .errors import DuplicateCollection

    try:
        await client.collection(collection)
    except UnknownCollection:
        try:
            await client.create_collection(collection, dimension, metric)
        except DuplicateCollection:
            pass
