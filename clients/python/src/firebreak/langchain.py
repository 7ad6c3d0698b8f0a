"""A LangChain vector store over a Firebreak collection (``pip install firebreak[langchain]``).

    from firebreak.langchain import FirebreakVectorStore
    store = FirebreakVectorStore("docs", embeddings, url=URL, token=TOKEN, tenant="acme", mode="hybrid")
    store.add_texts(["…"], metadatas=[{"source": "kb"}])
    retriever = store.as_retriever(search_kwargs={"k": 5})

Searches go to the store's tenant partition in the store's mode (``vector``, ``hybrid`` or
``lexical``). While the partition is rebuilt the service answers from its fallback: every
returned document then has ``metadata["firebreak_degraded"] = True`` and
``metadata["firebreak_notice"]`` (the text to show the user), and a
:class:`~firebreak.DegradedWarning` is emitted. Quarantined documents are never returned.

Adding a document whose id is present replaces it (delete, then ingest: not atomic); a
quarantined document cannot be replaced (:class:`~firebreak.DocumentQuarantined`).
Search hits carry no metadata on the wire, so each returned document's metadata is read back
(one request per hit, in parallel); ``fetch_metadata=False`` skips that.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any

try:
    from langchain_core.documents import Document as LCDocument
    from langchain_core.embeddings import Embeddings
    from langchain_core.vectorstores import VectorStore
    from langchain_core.vectorstores.utils import maximal_marginal_relevance
except ImportError as error:  # pragma: no cover
    raise ImportError("firebreak.langchain needs langchain-core: pip install 'firebreak[langchain]'") from error

import numpy as np

from . import models as m
from ._stores import (
    Clients,
    adelete_ids,
    aensure_collection,
    aread_documents,
    delete_ids,
    ensure_collection,
    hits_with_documents,
    mark_degraded,
    read_documents,
    warn_if_degraded,
)
from .aio import AsyncClient
from .client import Client

__all__ = ["FirebreakVectorStore"]

_MODES = ("vector", "hybrid", "lexical")


class FirebreakVectorStore(VectorStore):
    """A ``langchain_core`` vector store over one Firebreak collection and tenant.

    Args:
        collection: the collection's name. Created on the first add when missing (with the
            embeddings' dimension and ``metric``) unless ``create_collection=False``.
        embedding: the LangChain embeddings (the collection's dimension must match).
        client / async_client: clients to use; else one is made from ``url`` and ``token``
            (default ``FIREBREAK_URL`` and ``FIREBREAK_TOKEN``).
        tenant: the partition documents go to and searches read (required for unscoped
            tokens when adding; ``None`` with a scoped token means its own tenant).
        mode: ``vector`` (default), ``hybrid`` (vector and BM25 fused) or ``lexical``.
        fetch_metadata: read each hit's metadata back (default ``True``).
    """

    def __init__(
        self,
        collection: str,
        embedding: Embeddings,
        *,
        client: Client | None = None,
        async_client: AsyncClient | None = None,
        url: str | None = None,
        token: str | None = None,
        tenant: str | None = None,
        mode: m.SearchMode = "vector",
        metric: m.Metric = "cosine",
        create_collection: bool = True,
        fetch_metadata: bool = True,
        batch_size: int = 256,
    ) -> None:
        if mode not in _MODES:
            raise ValueError(f"mode must be one of {_MODES}, got {mode!r}")
        self.collection = collection
        self.embedding = embedding
        self.tenant = tenant
        self.mode: m.SearchMode = mode
        self.metric: m.Metric = metric
        self.create_collection = create_collection
        self.fetch_metadata = fetch_metadata
        self.batch_size = batch_size
        self._clients = Clients(client, async_client, url, token)
        self._collection_checked = False
        self._metric_known: str | None = None

    @property
    def embeddings(self) -> Embeddings:
        return self.embedding

    @property
    def client(self) -> Client:
        return self._clients.sync

    def close(self) -> None:
        """Close the client this store made (clients passed in are left open)."""
        self._clients.close()

    def __enter__(self):  # noqa: ANN204
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- adding ------------------------------------------------------------------------

    def _documents(self, texts: Sequence[str], metadatas: Sequence[dict[str, Any] | None] | None,
                   ids: Sequence[str | None] | None, vectors: Sequence[Sequence[float]]) -> tuple[list[str], list[dict[str, Any]]]:
        if metadatas is not None and len(metadatas) != len(texts):
            raise ValueError(f"{len(texts)} texts but {len(metadatas)} metadatas")
        if ids is not None and len(ids) != len(texts):
            raise ValueError(f"{len(texts)} texts but {len(ids)} ids")
        final_ids: list[str] = []
        for i in range(len(texts)):
            given = ids[i] if ids is not None else None
            final_ids.append(given if given else str(uuid.uuid4()))
        documents = [
            {"id": final_ids[i], "text": text, "embedding": vectors[i],
             "metadata": dict(metadatas[i] or {}) if metadatas is not None else {}}
            for i, text in enumerate(texts)
        ]
        return final_ids, documents

    def add_texts(
        self,
        texts: Iterable[str],
        metadatas: list[dict[str, Any]] | None = None,
        *,
        ids: list[str] | None = None,
        **kwargs: Any,
    ) -> list[str]:
        """Embed and add (or replace, by id) texts; the ids, generated where not given."""
        texts = list(texts)
        if not texts:
            return []
        vectors = self.embedding.embed_documents(texts)
        final_ids, documents = self._documents(texts, metadatas, ids, vectors)
        if self.create_collection and not self._collection_checked:
            ensure_collection(self.client, self.collection, len(vectors[0]), self.metric)
            self._collection_checked = True
        self.client.upsert(self.collection, documents, tenant=kwargs.get("tenant", self.tenant),
                           batch_size=kwargs.get("batch_size", self.batch_size), progress=False, replace=True)
        return final_ids

    async def aadd_texts(
        self,
        texts: Iterable[str],
        metadatas: list[dict[str, Any]] | None = None,
        *,
        ids: list[str] | None = None,
        **kwargs: Any,
    ) -> list[str]:
        texts = list(texts)
        if not texts:
            return []
        vectors = await self.embedding.aembed_documents(texts)
        final_ids, documents = self._documents(texts, metadatas, ids, vectors)
        async with self._clients.session() as client:
            if self.create_collection and not self._collection_checked:
                await aensure_collection(client, self.collection, len(vectors[0]), self.metric)
                self._collection_checked = True
            await client.upsert(self.collection, documents, tenant=kwargs.get("tenant", self.tenant),
                                batch_size=kwargs.get("batch_size", self.batch_size), progress=False, replace=True)
        return final_ids

    async def aadd_documents(self, documents: list[LCDocument], **kwargs: Any) -> list[str]:
        if "ids" not in kwargs:
            ids = [doc.id for doc in documents]
            if any(ids):
                kwargs["ids"] = ids
        return await self.aadd_texts([d.page_content for d in documents], [d.metadata for d in documents], **kwargs)

    # -- deleting and reading ----------------------------------------------------------

    def delete(self, ids: list[str] | None = None, **kwargs: Any) -> bool | None:
        """Delete documents by id (ids not present are ignored). Deleting everything is not
        offered: the service keeps deleted rows as evidence and has no bulk delete."""
        if ids is None:
            raise ValueError("FirebreakVectorStore.delete needs ids")
        delete_ids(self._clients, self.collection, ids)
        return True

    async def adelete(self, ids: list[str] | None = None, **kwargs: Any) -> bool | None:
        if ids is None:
            raise ValueError("FirebreakVectorStore.adelete needs ids")
        async with self._clients.session() as client:
            await adelete_ids(client, self.collection, ids)
        return True

    @staticmethod
    def _lc(document: m.Document) -> LCDocument:
        return LCDocument(id=document.id, page_content=document.text, metadata=dict(document.metadata))

    def get_by_ids(self, ids: Sequence[str], /) -> list[LCDocument]:
        """The documents with these ids that can be read (quarantined, deleted or other
        tenants' ones are left out)."""
        found = read_documents(self._clients, self.collection, list(ids), self.tenant)
        return [self._lc(d) for d in found if d is not None]

    async def aget_by_ids(self, ids: Sequence[str], /) -> list[LCDocument]:
        async with self._clients.session() as client:
            found = await aread_documents(client, self.collection, list(ids), self.tenant)
        return [self._lc(d) for d in found if d is not None]

    # -- searching ---------------------------------------------------------------------

    def _request(self, query: str | None, vector: Sequence[float] | None, k: int, kwargs: dict[str, Any]) -> dict[str, Any]:
        if kwargs.get("filter") is not None:
            raise NotImplementedError("Firebreak searches have no metadata filter; use a tenant per store")
        mode = kwargs.get("mode", self.mode if query is not None else "vector")
        return {
            "mode": mode,
            "vector": vector if mode != "lexical" else None,
            "query": query if mode != "vector" else None,
            "k": k,
            "tenant": kwargs.get("tenant", self.tenant),
            "min_seq": kwargs.get("min_seq"),
            "ef": kwargs.get("ef"),
            "warn": False,
        }

    def _mode_for(self, kwargs: dict[str, Any]) -> str:
        return kwargs.get("mode", self.mode)

    def _results(self, result: m.SearchResult, stored: list[m.Document | None] | None) -> list[tuple[LCDocument, float]]:
        warn_if_degraded(result, self.collection, stacklevel=4)
        if stored is None:
            pairs: list[tuple[m.SearchHit, dict[str, Any] | None, m.Document | None]] = [(h, {}, None) for h in result.results]
        else:
            pairs = hits_with_documents(result, stored)
        return [
            (LCDocument(id=hit.id, page_content=hit.text, metadata=mark_degraded(dict(metadata or {}), result)), hit.score)
            for hit, metadata, _ in pairs
        ]

    def _search(self, query: str | None, vector: Sequence[float] | None, k: int, kwargs: dict[str, Any]) -> list[tuple[LCDocument, float]]:
        result = self.client.search(self.collection, **self._request(query, vector, k, kwargs))
        stored = None
        if kwargs.get("fetch_metadata", self.fetch_metadata) and result.results:
            stored = read_documents(self._clients, self.collection, result.ids, kwargs.get("tenant", self.tenant))
        return self._results(result, stored)

    async def _asearch(self, query: str | None, vector: Sequence[float] | None, k: int, kwargs: dict[str, Any]) -> list[tuple[LCDocument, float]]:
        async with self._clients.session() as client:
            result = await client.search(self.collection, **self._request(query, vector, k, kwargs))
            stored = None
            if kwargs.get("fetch_metadata", self.fetch_metadata) and result.results:
                stored = await aread_documents(client, self.collection, result.ids, kwargs.get("tenant", self.tenant))
        return self._results(result, stored)

    def similarity_search_with_score(self, query: str, k: int = 4, **kwargs: Any) -> list[tuple[LCDocument, float]]:
        """Documents and scores, best first: similarities for vector search (1 − cosine
        distance, the inner product, or −squared L2), BM25 for lexical, reciprocal-rank fusion
        for hybrid. Keyword arguments: ``tenant``, ``mode``, ``min_seq``, ``ef``, ``fetch_metadata``."""
        vector = None if self._mode_for(kwargs) == "lexical" else self.embedding.embed_query(query)
        return self._search(query, vector, k, kwargs)

    async def asimilarity_search_with_score(self, query: str, k: int = 4, **kwargs: Any) -> list[tuple[LCDocument, float]]:
        vector = None if self._mode_for(kwargs) == "lexical" else await self.embedding.aembed_query(query)
        return await self._asearch(query, vector, k, kwargs)

    def similarity_search(self, query: str, k: int = 4, **kwargs: Any) -> list[LCDocument]:
        return [doc for doc, _ in self.similarity_search_with_score(query, k, **kwargs)]

    async def asimilarity_search(self, query: str, k: int = 4, **kwargs: Any) -> list[LCDocument]:
        return [doc for doc, _ in await self.asimilarity_search_with_score(query, k, **kwargs)]

    def similarity_search_by_vector(self, embedding: list[float], k: int = 4, **kwargs: Any) -> list[LCDocument]:
        return [doc for doc, _ in self.similarity_search_with_score_by_vector(embedding, k, **kwargs)]

    async def asimilarity_search_by_vector(self, embedding: list[float], k: int = 4, **kwargs: Any) -> list[LCDocument]:
        return [doc for doc, _ in await self.asimilarity_search_with_score_by_vector(embedding, k, **kwargs)]

    def similarity_search_with_score_by_vector(self, embedding: list[float], k: int = 4, **kwargs: Any) -> list[tuple[LCDocument, float]]:
        kwargs = {**kwargs, "mode": "vector"}
        return self._search(None, embedding, k, kwargs)

    async def asimilarity_search_with_score_by_vector(self, embedding: list[float], k: int = 4, **kwargs: Any) -> list[tuple[LCDocument, float]]:
        kwargs = {**kwargs, "mode": "vector"}
        return await self._asearch(None, embedding, k, kwargs)

    def _similarity_search_with_relevance_scores(self, query: str, k: int = 4, **kwargs: Any) -> list[tuple[LCDocument, float]]:
        fn = self._select_relevance_score_fn()
        return [(doc, fn(score)) for doc, score in self.similarity_search_with_score(query, k, **{**kwargs, "mode": "vector"})]

    async def _asimilarity_search_with_relevance_scores(self, query: str, k: int = 4, **kwargs: Any) -> list[tuple[LCDocument, float]]:
        fn = self._select_relevance_score_fn()
        return [(doc, fn(score)) for doc, score in await self.asimilarity_search_with_score(query, k, **{**kwargs, "mode": "vector"})]

    def _select_relevance_score_fn(self) -> Callable[[float], float]:
        """Relevance from vector scores (relevance searches run in vector mode): the cosine
        similarity (or inner product) clamped to 0…1, 1 / (1 + distance) for L2 (the score is
        −distance²)."""
        if self._metric_known is None:
            self._metric_known = self.client.collection(self.collection).metric
        if self._metric_known == "l2":
            return lambda score: 1.0 / (1.0 + math.sqrt(max(0.0, -score)))
        return lambda score: min(1.0, max(0.0, score))

    # -- maximal marginal relevance ----------------------------------------------------

    def _mmr(self, query_vector: Sequence[float], stored: list[m.Document | None], result: m.SearchResult,
             k: int, lambda_mult: float) -> list[LCDocument]:
        warn_if_degraded(result, self.collection, stacklevel=4)
        pairs = [(hit, doc) for hit, doc in zip(result.results, stored, strict=True) if doc is not None]
        if not pairs:
            return []
        chosen = maximal_marginal_relevance(np.asarray(query_vector, dtype=np.float32),
                                            [doc.embedding for _, doc in pairs], lambda_mult=lambda_mult, k=k)
        return [LCDocument(id=pairs[i][1].id, page_content=pairs[i][1].text,
                           metadata=mark_degraded(dict(pairs[i][1].metadata), result)) for i in chosen]

    def max_marginal_relevance_search_by_vector(self, embedding: list[float], k: int = 4, fetch_k: int = 20,
                                                lambda_mult: float = 0.5, **kwargs: Any) -> list[LCDocument]:
        result = self.client.search(self.collection, **self._request(None, embedding, fetch_k, {**kwargs, "mode": "vector"}))
        stored = read_documents(self._clients, self.collection, result.ids, kwargs.get("tenant", self.tenant))
        return self._mmr(embedding, stored, result, k, lambda_mult)

    async def amax_marginal_relevance_search_by_vector(self, embedding: list[float], k: int = 4, fetch_k: int = 20,
                                                       lambda_mult: float = 0.5, **kwargs: Any) -> list[LCDocument]:
        async with self._clients.session() as client:
            result = await client.search(self.collection, **self._request(None, embedding, fetch_k, {**kwargs, "mode": "vector"}))
            stored = await aread_documents(client, self.collection, result.ids, kwargs.get("tenant", self.tenant))
        return self._mmr(embedding, stored, result, k, lambda_mult)

    def max_marginal_relevance_search(self, query: str, k: int = 4, fetch_k: int = 20, lambda_mult: float = 0.5,
                                      **kwargs: Any) -> list[LCDocument]:
        return self.max_marginal_relevance_search_by_vector(self.embedding.embed_query(query), k, fetch_k, lambda_mult, **kwargs)

    async def amax_marginal_relevance_search(self, query: str, k: int = 4, fetch_k: int = 20, lambda_mult: float = 0.5,
                                             **kwargs: Any) -> list[LCDocument]:
        vector = await self.embedding.aembed_query(query)
        return await self.amax_marginal_relevance_search_by_vector(vector, k, fetch_k, lambda_mult, **kwargs)

    # -- construction ------------------------------------------------------------------

    @classmethod
    def from_texts(
        cls,
        texts: list[str],
        embedding: Embeddings,
        metadatas: list[dict[str, Any]] | None = None,
        *,
        ids: list[str] | None = None,
        collection: str | None = None,
        collection_name: str | None = None,
        **kwargs: Any,
    ) -> FirebreakVectorStore:
        """A store over ``collection`` (or ``collection_name``; default ``langchain``), created
        when missing, with the texts added. Other keyword arguments go to the constructor."""
        store = cls(collection or collection_name or "langchain", embedding, **kwargs)
        store.add_texts(texts, metadatas, ids=ids)
        return store

    @classmethod
    async def afrom_texts(
        cls,
        texts: list[str],
        embedding: Embeddings,
        metadatas: list[dict[str, Any]] | None = None,
        *,
        ids: list[str] | None = None,
        collection: str | None = None,
        collection_name: str | None = None,
        **kwargs: Any,
    ) -> FirebreakVectorStore:
        store = cls(collection or collection_name or "langchain", embedding, **kwargs)
        await store.aadd_texts(texts, metadatas, ids=ids)
        return store
