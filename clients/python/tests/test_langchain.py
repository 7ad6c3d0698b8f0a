"""The LangChain store beyond the standard suite: tenants, modes, retriever, quarantine,
from_texts, MMR, relevance scores."""

from __future__ import annotations

import pytest
from langchain_core.documents import Document
from langchain_core.embeddings import DeterministicFakeEmbedding

import firebreak
from firebreak.langchain import FirebreakVectorStore

from .conftest import Server, unique

TEXTS = ["how to reset a password", "configure the network socket", "kernel signal handling",
         "memory mapped files", "thread synchronisation with mutexes"]


class Counting(DeterministicFakeEmbedding):
    queries: int = 0

    def embed_query(self, text: str) -> list[float]:
        self.queries += 1
        return super().embed_query(text)


@pytest.fixture()
def store(server: Server, client: firebreak.Client) -> FirebreakVectorStore:
    s = FirebreakVectorStore(unique("lc"), Counting(size=16), client=client, tenant="acme")
    s.add_texts(TEXTS, metadatas=[{"n": i} for i in range(len(TEXTS))], ids=[f"t{i}" for i in range(len(TEXTS))])
    return s


def test_the_collection_is_created_with_the_embedding_dimension(client: firebreak.Client, store: FirebreakVectorStore) -> None:
    status = client.collection(store.collection)
    assert status.dimension == 16 and status.metric == "cosine" and status.documents == 5 and status.tenants == ["acme"]


def test_vector_hybrid_lexical(client: firebreak.Client, store: FirebreakVectorStore) -> None:
    found = store.similarity_search_with_score("kernel signal handling", k=2)
    assert found[0][0] == Document(id="t2", page_content="kernel signal handling", metadata={"n": 2})
    assert found[0][1] == pytest.approx(1.0, abs=1e-5) and found[0][1] > found[1][1]
    hybrid = FirebreakVectorStore(store.collection, store.embeddings, client=client, tenant="acme", mode="hybrid")
    assert hybrid.similarity_search("socket", k=1)[0].id == "t1"
    embeddings = Counting(size=16)
    lexical = FirebreakVectorStore(store.collection, embeddings, client=client, tenant="acme", mode="lexical")
    assert [d.id for d in lexical.similarity_search("mutexes", k=3)] == ["t4"]
    assert embeddings.queries == 0  # lexical search needs no embedding
    by_vector = store.similarity_search_by_vector(store.embeddings.embed_query("memory mapped files"), k=1)
    assert by_vector[0].id == "t3" and by_vector[0].metadata == {"n": 3}
    with pytest.raises(ValueError, match="mode"):
        FirebreakVectorStore(store.collection, store.embeddings, client=client, mode="fuzzy")  # type: ignore[arg-type]


def test_tenants_are_separate(client: firebreak.Client, store: FirebreakVectorStore) -> None:
    other = FirebreakVectorStore(store.collection, store.embeddings, client=client, tenant="globex")
    other.add_texts(["how to reset a password"], ids=["g0"])
    assert [d.id for d in other.similarity_search("how to reset a password", k=5)] == ["g0"]
    assert "g0" not in [d.id for d in store.similarity_search("how to reset a password", k=5)]
    assert store.get_by_ids(["g0", "t0"])[0].id == "t0" and len(store.get_by_ids(["g0", "t0"])) == 1


def test_retriever(store: FirebreakVectorStore) -> None:
    retriever = store.as_retriever(search_kwargs={"k": 2})
    docs = retriever.invoke("configure the network socket")
    assert [d.id for d in docs][0] == "t1" and len(docs) == 2
    scored = store.as_retriever(search_type="similarity_score_threshold", search_kwargs={"score_threshold": 0.99, "k": 3})
    assert [d.id for d in scored.invoke("memory mapped files")] == ["t3"]
    mmr = store.as_retriever(search_type="mmr", search_kwargs={"k": 2, "fetch_k": 5})
    picked = mmr.invoke("kernel signal handling")
    assert picked[0].id == "t2" and len(picked) == 2 and len({d.id for d in picked}) == 2


async def test_async_retriever_and_search(store: FirebreakVectorStore) -> None:
    docs = await store.as_retriever(search_kwargs={"k": 1}).ainvoke("thread synchronisation with mutexes")
    assert docs[0].id == "t4" and docs[0].metadata == {"n": 4}
    by_vector = await store.asimilarity_search_by_vector(store.embeddings.embed_query("how to reset a password"), k=1)
    assert by_vector[0].id == "t0"
    mmr = await store.amax_marginal_relevance_search("kernel signal handling", k=2, fetch_k=4)
    assert mmr[0].id == "t2"


def test_a_quarantined_document_is_never_returned(client: firebreak.Client, store: FirebreakVectorStore) -> None:
    q = client.quarantine(store.collection, "t2", reason="poisoned passage")
    found = store.similarity_search("kernel signal handling", k=5, min_seq=q.seq)
    assert "t2" not in [d.id for d in found] and len(found) == 4
    assert store.get_by_ids(["t2"]) == []
    with pytest.raises(firebreak.UpsertError) as caught:
        store.add_texts(["a replacement"], ids=["t2"])  # a quarantined document is not replaced
    assert type(caught.value.result.failures[0].error) is firebreak.DocumentQuarantined
    with pytest.raises(firebreak.DocumentQuarantined):
        client.delete(store.collection, "t2")


def test_options_and_refusals(client: firebreak.Client, store: FirebreakVectorStore) -> None:
    bare = FirebreakVectorStore(store.collection, store.embeddings, client=client, tenant="acme", fetch_metadata=False)
    assert bare.similarity_search("memory mapped files", k=1)[0].metadata == {}
    with pytest.raises(NotImplementedError):
        store.similarity_search("x", k=1, filter={"n": 1})
    with pytest.raises(ValueError):
        store.delete()
    relevance = store.similarity_search_with_relevance_scores("memory mapped files", k=2)
    assert relevance[0][1] == pytest.approx(1.0, abs=1e-5) and all(0 <= s <= 1 for _, s in relevance)
    missing = FirebreakVectorStore(unique("absent"), store.embeddings, client=client, tenant="acme", create_collection=False)
    with pytest.raises(firebreak.UnknownCollection):
        missing.similarity_search("x")


def test_from_texts_and_afrom_texts(server: Server) -> None:
    embeddings = DeterministicFakeEmbedding(size=12)
    name = unique("lcft")
    store = FirebreakVectorStore.from_texts(["alpha", "beta"], embeddings, metadatas=[{"k": "a"}, {"k": "b"}],
                                            ids=["x1", "x2"], collection_name=name, url=server.url,
                                            token=server.token, tenant="acme", metric="l2")
    assert store.client.collection(name).metric == "l2"
    assert store.similarity_search("beta", k=1) == [Document(id="x2", page_content="beta", metadata={"k": "b"})]
    scores = store.similarity_search_with_relevance_scores("beta", k=2)
    assert scores[0][1] == pytest.approx(1.0, abs=1e-5) and 0 < scores[1][1] < scores[0][1]
    store.close()

    async def build() -> FirebreakVectorStore:
        return await FirebreakVectorStore.afrom_texts(["gamma"], embeddings, collection=name, url=server.url,
                                                      token=server.token, tenant="acme")

    import asyncio

    with asyncio.run(build()) as again:
        assert again.get_by_ids(["x1"])[0].page_content == "alpha" and again.client.collection(name).documents == 3


def test_ids_that_need_encoding_are_still_returned(store: FirebreakVectorStore) -> None:
    store.add_texts(["a passage with a slash id"], ids=["man/page/0"], metadatas=[{"src": "man"}])
    found = store.similarity_search("a passage with a slash id", k=1)
    assert found[0].id == "man/page/0" and found[0].page_content == "a passage with a slash id"
    # The id travels percent-encoded in the document path, so its metadata is read back.
    assert found[0].metadata.get("src") == "man", found[0].metadata
