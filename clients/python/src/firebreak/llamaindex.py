"""A LlamaIndex vector store over a Firebreak collection (``pip install firebreak[llamaindex]``).

    from llama_index.core import StorageContext, VectorStoreIndex
    from firebreak.llamaindex import FirebreakVectorStore
    store = FirebreakVectorStore("docs", url=URL, token=TOKEN, tenant="acme")
    index = VectorStoreIndex.from_documents(docs, storage_context=StorageContext.from_defaults(vector_store=store))

Nodes are documents of the store's tenant partition: the node id is the document id, the
node's text its text, and the node (metadata, relationships) is kept in the document's
metadata so queries give the nodes back. Queries run in the store's mode unless the query
asks for one (``HYBRID`` → hybrid, ``TEXT_SEARCH``/``SPARSE`` → lexical). While the partition is
rebuilt, every returned node has ``metadata["firebreak_degraded"] = True`` and
``metadata["firebreak_notice"]``, and a :class:`~firebreak.DegradedWarning` is emitted.

Limits of the service's API: there is no metadata filter and no listing, so ``delete(ref_doc_id)``
deletes the nodes of that document added through this store object (and a node whose id is
``ref_doc_id``); metadata filters are refused with ``NotImplementedError``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

try:
    from llama_index.core.bridge.pydantic import PrivateAttr
    from llama_index.core.schema import BaseNode, MetadataMode, TextNode
    from llama_index.core.vector_stores.types import (
        BasePydanticVectorStore,
        MetadataFilters,
        VectorStoreQuery,
        VectorStoreQueryMode,
        VectorStoreQueryResult,
    )
    from llama_index.core.vector_stores.utils import metadata_dict_to_node, node_to_metadata_dict
except ImportError as error:  # pragma: no cover
    raise ImportError("firebreak.llamaindex needs llama-index-core: pip install 'firebreak[llamaindex]'") from error

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

_LEXICAL = {VectorStoreQueryMode.TEXT_SEARCH, VectorStoreQueryMode.SPARSE}


class FirebreakVectorStore(BasePydanticVectorStore):
    """A ``llama_index.core`` vector store over one Firebreak collection and tenant.

    ``collection`` is created on the first add when missing (``metric``, the nodes'
    dimension) unless ``create_collection=False``. ``client``/``async_client`` or
    ``url``/``token`` (default ``FIREBREAK_URL``, ``FIREBREAK_TOKEN``) say where it is.
    """

    stores_text: bool = True
    flat_metadata: bool = False

    collection: str
    tenant: str | None = None
    mode: m.SearchMode = "vector"
    metric: m.Metric = "cosine"
    create_collection: bool = True
    batch_size: int = 256

    _clients: Clients = PrivateAttr()
    _checked: bool = PrivateAttr(default=False)
    _ref_docs: dict[str, set[str]] = PrivateAttr(default_factory=dict)

    def __init__(
        self,
        collection: str,
        *,
        client: Client | None = None,
        async_client: AsyncClient | None = None,
        url: str | None = None,
        token: str | None = None,
        tenant: str | None = None,
        mode: m.SearchMode = "vector",
        metric: m.Metric = "cosine",
        create_collection: bool = True,
        batch_size: int = 256,
        **kwargs: Any,
    ) -> None:
        super().__init__(collection=collection, tenant=tenant, mode=mode, metric=metric,  # type: ignore[call-arg]
                         create_collection=create_collection, batch_size=batch_size, **kwargs)
        self._clients = Clients(client, async_client, url, token)
        self._ref_docs = {}

    @classmethod
    def class_name(cls) -> str:
        return "FirebreakVectorStore"

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

    def _documents(self, nodes: Sequence[BaseNode]) -> list[dict[str, Any]]:
        documents = []
        for node in nodes:
            embedding = node.get_embedding()
            metadata = node_to_metadata_dict(node, remove_text=True, flat_metadata=self.flat_metadata)
            documents.append({"id": node.node_id, "text": node.get_content(metadata_mode=MetadataMode.NONE),
                              "embedding": embedding, "metadata": metadata})
        return documents

    def _remember(self, nodes: Sequence[BaseNode]) -> None:
        self._forget([node.node_id for node in nodes])  # a node added again belongs to its new document
        for node in nodes:
            if node.ref_doc_id:
                self._ref_docs.setdefault(node.ref_doc_id, set()).add(node.node_id)

    def add(self, nodes: Sequence[BaseNode], **kwargs: Any) -> list[str]:
        """Add (or replace, by node id) nodes with their embeddings; their ids."""
        if not nodes:
            return []
        documents = self._documents(nodes)
        if self.create_collection and not self._checked:
            ensure_collection(self.client, self.collection, len(documents[0]["embedding"]), self.metric)
            self._checked = True
        self.client.upsert(self.collection, documents, tenant=self.tenant, batch_size=self.batch_size,
                           progress=kwargs.get("show_progress", False), replace=True)
        self._remember(nodes)
        return [node.node_id for node in nodes]

    async def async_add(self, nodes: Sequence[BaseNode], **kwargs: Any) -> list[str]:
        if not nodes:
            return []
        documents = self._documents(nodes)
        async with self._clients.session() as client:
            if self.create_collection and not self._checked:
                await aensure_collection(client, self.collection, len(documents[0]["embedding"]), self.metric)
                self._checked = True
            await client.upsert(self.collection, documents, tenant=self.tenant, batch_size=self.batch_size,
                                progress=kwargs.get("show_progress", False), replace=True)
        self._remember(nodes)
        return [node.node_id for node in nodes]

    # -- deleting ----------------------------------------------------------------------

    def _ref_doc_nodes(self, ref_doc_id: str) -> list[str]:
        return sorted(self._ref_docs.pop(ref_doc_id, set()) | {ref_doc_id})

    def delete(self, ref_doc_id: str, **delete_kwargs: Any) -> None:
        """Delete the nodes of ``ref_doc_id`` this store added (see the module's note)."""
        delete_ids(self._clients, self.collection, self._ref_doc_nodes(ref_doc_id))

    async def adelete(self, ref_doc_id: str, **delete_kwargs: Any) -> None:
        async with self._clients.session() as client:
            await adelete_ids(client, self.collection, self._ref_doc_nodes(ref_doc_id))

    def _node_ids(self, node_ids: list[str] | None, filters: MetadataFilters | None) -> list[str]:
        if filters is not None:
            raise NotImplementedError("Firebreak has no metadata filter; pass node_ids")
        if node_ids is None:
            raise ValueError("pass node_ids: Firebreak cannot list a collection's documents")
        return list(node_ids)

    def delete_nodes(self, node_ids: list[str] | None = None, filters: MetadataFilters | None = None,
                     **delete_kwargs: Any) -> None:
        ids = self._node_ids(node_ids, filters)
        delete_ids(self._clients, self.collection, ids)
        self._forget(ids)

    async def adelete_nodes(self, node_ids: list[str] | None = None, filters: MetadataFilters | None = None,
                            **delete_kwargs: Any) -> None:
        ids = self._node_ids(node_ids, filters)
        async with self._clients.session() as client:
            await adelete_ids(client, self.collection, ids)
        self._forget(ids)

    def _forget(self, ids: list[str]) -> None:
        gone = set(ids)
        for ref, members in list(self._ref_docs.items()):
            members -= gone
            if not members:
                del self._ref_docs[ref]

    # -- reading -----------------------------------------------------------------------

    @staticmethod
    def _node(document: m.Document | None, text: str, doc_id: str, extra: dict[str, Any] | None = None) -> BaseNode:
        metadata = dict(document.metadata) if document is not None else {}
        try:
            node = metadata_dict_to_node(metadata, text=text)
        except Exception:  # not written by this store: a plain text node
            node = TextNode(id_=doc_id, text=text, metadata=metadata)
        if extra:
            node.metadata.update(extra)
        return node

    def get_nodes(self, node_ids: list[str] | None = None, filters: MetadataFilters | None = None) -> list[BaseNode]:
        """The nodes with these ids that can be read (quarantined or deleted ones are left out)."""
        ids = self._node_ids(node_ids, filters)
        found = read_documents(self._clients, self.collection, ids, self.tenant)
        return [self._node(d, d.text, d.id) for d in found if d is not None]

    async def aget_nodes(self, node_ids: list[str] | None = None, filters: MetadataFilters | None = None) -> list[BaseNode]:
        ids = self._node_ids(node_ids, filters)
        async with self._clients.session() as client:
            found = await aread_documents(client, self.collection, ids, self.tenant)
        return [self._node(d, d.text, d.id) for d in found if d is not None]

    # -- querying ----------------------------------------------------------------------

    def _search_args(self, query: VectorStoreQuery) -> dict[str, Any]:
        if query.filters is not None:
            raise NotImplementedError("Firebreak has no metadata filter; use a tenant per store")
        if query.mode == VectorStoreQueryMode.HYBRID:
            mode = "hybrid"
        elif query.mode in _LEXICAL:
            mode = "lexical"
        elif query.mode == VectorStoreQueryMode.DEFAULT:
            mode = self.mode
        else:
            raise NotImplementedError(f"query mode {query.mode.value} is not offered by Firebreak")
        vector = query.query_embedding if mode != "lexical" else None
        text = query.query_str if mode != "vector" else None
        if mode == "hybrid" and (vector is None or not text):
            mode = "vector" if vector is not None else "lexical"
        return {"mode": mode, "vector": vector, "query": text, "k": query.similarity_top_k,
                "tenant": self.tenant, "warn": False}

    def _result(self, result: m.SearchResult, stored: list[m.Document | None], query: VectorStoreQuery) -> VectorStoreQueryResult:
        warn_if_degraded(result, self.collection, stacklevel=4)
        wanted = set(query.node_ids) if query.node_ids else None
        wanted_docs = set(query.doc_ids) if query.doc_ids else None
        nodes, scores, ids = [], [], []
        for hit, _, document in hits_with_documents(result, stored):
            node = self._node(document, hit.text, hit.id, mark_degraded({}, result))
            if wanted is not None and node.node_id not in wanted:
                continue
            if wanted_docs is not None and node.ref_doc_id not in wanted_docs:
                continue
            nodes.append(node)
            scores.append(hit.score)
            ids.append(hit.id)
        return VectorStoreQueryResult(nodes=nodes, similarities=scores, ids=ids)

    def query(self, query: VectorStoreQuery, **kwargs: Any) -> VectorStoreQueryResult:
        """Search the store's tenant; the nodes, their scores (higher is better) and ids.
        ``node_ids``/``doc_ids`` narrow the top-k afterwards (not before)."""
        result = self.client.search(self.collection, **self._search_args(query))
        stored = read_documents(self._clients, self.collection, result.ids, self.tenant)
        return self._result(result, stored, query)

    async def aquery(self, query: VectorStoreQuery, **kwargs: Any) -> VectorStoreQueryResult:
        async with self._clients.session() as client:
            result = await client.search(self.collection, **self._search_args(query))
            stored = await aread_documents(client, self.collection, result.ids, self.tenant)
        return self._result(result, stored, query)
