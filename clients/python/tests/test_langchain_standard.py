"""LangChain's own standard suite for vector stores, against the real service."""

from __future__ import annotations

import pytest
from langchain_tests.integration_tests import VectorStoreIntegrationTests

from firebreak.langchain import FirebreakVectorStore

from .conftest import unique


class TestFirebreakStandard(VectorStoreIntegrationTests):
    @pytest.fixture()
    def vectorstore(self, server):  # type: ignore[override]
        """An empty store: a fresh collection of the fake embedding's dimension."""
        embeddings = self.get_embeddings()
        name = unique("lcstd")
        with server.client() as client:
            client.create_collection(name, dimension=len(embeddings.embed_query("probe")), metric="cosine")
            yield FirebreakVectorStore(name, embeddings, client=client, tenant="lc")
