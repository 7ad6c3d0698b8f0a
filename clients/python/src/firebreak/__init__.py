"""Firebreak: the Python client of the retrieval-index quarantine and rollback service.

    import firebreak
    fb = firebreak.Client("http://127.0.0.1:7420", token)
    fb.create_collection("docs", dimension=384)
    fb.upsert("docs", [{"id": "a", "tenant": "acme", "text": "…", "embedding": vector}])
    result = fb.search("docs", vector=vector, query="reset a password", tenant="acme")

:class:`Client` and :class:`AsyncClient` have the same methods; the models of every request
and response are in :mod:`firebreak.models` (and here); every problem code has its exception
class, all subclasses of :class:`FirebreakError`; a degraded search emits
:class:`DegradedWarning`. The LangChain and LlamaIndex vector stores are in
:mod:`firebreak.langchain` and :mod:`firebreak.llamaindex` (extras ``[langchain]``,
``[llamaindex]``).
"""

from __future__ import annotations

from . import errors, models
from ._core import ENDPOINTS, RetryPolicy
from ._upsert import BatchResult, UpsertResult
from .aio import AsyncClient
from .client import BODY_BYTES_MAX, DEFAULT_URL, Client
from .errors import *  # noqa: F403  (one class per problem code; see errors.__all__)
from .errors import DegradedWarning, FirebreakError, TransportError, UpsertError, error_class
from .models import *  # noqa: F403

__version__ = "0.1.0"

__all__ = [
    "Client",
    "AsyncClient",
    "RetryPolicy",
    "UpsertResult",
    "BatchResult",
    "ENDPOINTS",
    "DEFAULT_URL",
    "BODY_BYTES_MAX",
    "FirebreakError",
    "TransportError",
    "UpsertError",
    "DegradedWarning",
    "error_class",
    "errors",
    "models",
    "__version__",
    *errors.__all__,
    *models.__all__,
]
