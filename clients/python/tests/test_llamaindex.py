"""The LlamaIndex store, alone and under a VectorStoreIndex."""

from __future__ import annotations

import hashlib
import re

import numpy as np
import pytest
from llama_index.core import Document, StorageContext, VectorStoreIndex
from llama_index.core.embeddings import BaseEmbedding
from llama_index.core.llms import MockLLM
from llama_index.core.node_parser import SentenceSplitter
from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode
from llama_index.core.vector_stores.types import (
    MetadataFilter,
    MetadataFilters,
    VectorStoreQuery,
    VectorStoreQueryMode,
)

import firebreak
from firebreak.llamaindex import FirebreakVectorStore

from .conftest import Server, unique

DIM = 64


class HashingEmbedding(BaseEmbedding):
    """Bag of words through the hashing trick: texts sharing words are close."""

    def _vector(self, text: str) -> list[float]:
        v = np.full(DIM, 1e-3)
        for word in re.findall(r"[a-z0-9]+", text.lower()):
            v[int(hashlib.sha256(word.encode()).hexdigest(), 16) % DIM] += 1.0
        return (v / np.linalg.norm(v)).tolist()

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._vector(query)

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._vector(text)

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._vector(query)


DOCS = {
    "passwords": "To reset a password open the account page. Choose reset and follow the mail link.",
    "sockets": "A socket is an endpoint for network communication. Bind the socket, then listen and accept.",
    "signals": "A signal interrupts a process. Install a handler with sigaction to catch the signal.",
}


@pytest.fixture()
def index(server: Server, client: firebreak.Client):
    store = FirebreakVectorStore(unique("li"), client=client, tenant="acme")
    documents = [Document(text=text, doc_id=doc_id, metadata={"topic": doc_id}) for doc_id, text in DOCS.items()]
    built = VectorStoreIndex.from_documents(
        documents, storage_context=StorageContext.from_defaults(vector_store=store), embed_model=HashingEmbedding(),
        transformations=[SentenceSplitter(chunk_size=24, chunk_overlap=0)])
    return built, store


def test_index_over_the_store(client: firebreak.Client, index) -> None:
    built, store = index
    status = client.collection(store.collection)
    assert status.dimension == DIM and status.documents >= 3 and status.tenants == ["acme"]
    found = built.as_retriever(similarity_top_k=2).retrieve("how do I reset my password")
    assert found[0].node.ref_doc_id == "passwords" and "password" in found[0].node.get_content()
    assert found[0].node.metadata["topic"] == "passwords" and found[0].score > found[1].score
    engine = built.as_query_engine(llm=MockLLM(), similarity_top_k=1)
    answer = engine.query("which call installs a signal handler")
    assert answer.source_nodes[0].node.ref_doc_id == "signals"


def test_insert_and_delete_ref_doc(client: firebreak.Client, index) -> None:
    built, store = index
    built.insert(Document(text="Mutexes serialise threads. Lock the mutex before touching shared state.", doc_id="threads"))
    assert built.as_retriever(similarity_top_k=1).retrieve("lock a mutex")[0].node.ref_doc_id == "threads"
    built.delete_ref_doc("sockets")
    remaining = built.as_retriever(similarity_top_k=10).retrieve("socket bind listen accept")
    assert "sockets" not in {n.node.ref_doc_id for n in remaining} and remaining


def test_a_quarantined_node_is_not_retrieved(client: firebreak.Client, index) -> None:
    built, store = index
    top = built.as_retriever(similarity_top_k=1).retrieve("reset a password")[0]
    q = client.quarantine(store.collection, top.node.node_id, reason="poisoned chunk")
    after = built.as_retriever(similarity_top_k=10).retrieve("reset a password")
    assert top.node.node_id not in {n.node.node_id for n in after} and q.quarantined == [top.node.node_id]
    assert store.get_nodes([top.node.node_id]) == []


def test_store_methods(client: firebreak.Client) -> None:
    embed = HashingEmbedding()
    store = FirebreakVectorStore(unique("lis"), client=client, tenant="acme")
    parent = RelatedNodeInfo(node_id="manual")
    nodes = [TextNode(id_=f"n{i}", text=text, metadata={"i": i}, embedding=embed.get_text_embedding(text),
                      relationships={NodeRelationship.SOURCE: parent})
             for i, text in enumerate(["open a file descriptor", "close the file", "map memory pages"])]
    assert store.add(nodes) == ["n0", "n1", "n2"]
    got = store.get_nodes(["n1", "missing"])
    assert [n.node_id for n in got] == ["n1"] and got[0].get_content() == "close the file" and got[0].ref_doc_id == "manual"
    vq = VectorStoreQuery(query_embedding=embed.get_query_embedding("map memory"), similarity_top_k=2)
    result = store.query(vq)
    assert result.ids[0] == "n2" and result.nodes[0].metadata == {"i": 2} and len(result.similarities) == 2
    lexical = store.query(VectorStoreQuery(query_str="descriptor", mode=VectorStoreQueryMode.TEXT_SEARCH, similarity_top_k=3))
    assert lexical.ids == ["n0"]
    hybrid = store.query(VectorStoreQuery(query_str="close file", query_embedding=embed.get_query_embedding("close file"),
                                          mode=VectorStoreQueryMode.HYBRID, similarity_top_k=1))
    assert hybrid.ids == ["n1"]
    only = store.query(VectorStoreQuery(query_embedding=embed.get_query_embedding("file"), similarity_top_k=3, node_ids=["n0"]))
    assert only.ids == ["n0"]
    with pytest.raises(NotImplementedError):
        store.query(VectorStoreQuery(query_embedding=vq.query_embedding,
                                     filters=MetadataFilters(filters=[MetadataFilter(key="i", value=1)])))
    # Replacing by node id.
    store.add([TextNode(id_="n1", text="close it twice", embedding=embed.get_text_embedding("close it twice"))])
    assert store.get_nodes(["n1"])[0].get_content() == "close it twice"
    store.delete_nodes(["n0"])
    assert store.get_nodes(["n0", "n1"])[0].node_id == "n1" and len(store.get_nodes(["n0", "n1"])) == 1
    store.delete("manual")  # n2 (n1 was added again without that source; n0 is gone already)
    assert [n.node_id for n in store.get_nodes(["n0", "n1", "n2"])] == ["n1"]


async def test_async_methods(client: firebreak.Client) -> None:
    embed = HashingEmbedding()
    store = FirebreakVectorStore(unique("lia"), client=client, tenant="acme")
    nodes = [TextNode(id_=f"a{i}", text=text, embedding=embed.get_text_embedding(text),
                      relationships={NodeRelationship.SOURCE: RelatedNodeInfo(node_id="book")})
             for i, text in enumerate(["async network sockets", "async signal handlers"])]
    assert await store.async_add(nodes) == ["a0", "a1"]
    result = await store.aquery(VectorStoreQuery(query_embedding=embed.get_query_embedding("signal handlers"), similarity_top_k=1))
    assert result.ids == ["a1"]
    assert [n.node_id for n in await store.aget_nodes(["a0"])] == ["a0"]
    await store.adelete_nodes(["a0"])
    assert await store.aget_nodes(["a0"]) == []
    await store.adelete("book")
    assert await store.aget_nodes(["a1"]) == []


async def test_async_index(client: firebreak.Client) -> None:
    store = FirebreakVectorStore(unique("liai"), client=client, tenant="acme")
    built = VectorStoreIndex.from_documents(
        [Document(text=t, doc_id=d) for d, t in DOCS.items()], storage_context=StorageContext.from_defaults(vector_store=store),
        embed_model=HashingEmbedding(), transformations=[SentenceSplitter(chunk_size=24, chunk_overlap=0)], use_async=True)
    found = await built.as_retriever(similarity_top_k=1).aretrieve("listen on a network socket")
    assert found[0].node.ref_doc_id == "sockets"
