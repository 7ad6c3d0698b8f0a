"""The ingest wire form of an embedding: base64 of little-endian float32 (no server needed)."""
from __future__ import annotations

import base64

import numpy as np
import pytest

import firebreak
from firebreak.models import embedding_b64


def test_the_wire_carries_base64_float32_that_decodes_to_the_same_vector() -> None:
    vector = np.random.default_rng(7).standard_normal(384).astype(np.float32)
    body = firebreak.NewDocument(id="d", text="t", embedding=vector).wire()
    assert "embedding" not in body
    decoded = np.frombuffer(base64.b64decode(body["embedding_b64"]), dtype="<f4")
    np.testing.assert_array_equal(decoded, vector)
    assert len(body["embedding_b64"]) < len(",".join(map(str, vector.tolist()))) / 2


def test_a_given_base64_embedding_is_sent_as_it_is() -> None:
    given = embedding_b64([1.0, -2.5])
    assert firebreak.NewDocument(id="d", text="t", embedding_b64=given).wire()["embedding_b64"] == given


def test_a_value_beyond_float32_is_refused_not_sent_as_infinity() -> None:
    with pytest.raises(ValueError, match="float32"):
        embedding_b64([1.0, 1e39])
