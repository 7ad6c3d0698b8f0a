"""schemathesis hooks for scripts/api-fuzz.

Deterministic generation sends one Idempotency-Key value with many different bodies, and the
service rightly answers 422 idempotency_key_reused: the handlers behind it would never see the
generated data. A key the contract allows (1..255 printable ASCII characters) is replaced by a
fresh one per request; a malformed key is left alone, so its refusal is still exercised.
"""
import uuid

import schemathesis

KEY = "Idempotency-Key"
KEY_BYTES_MAX = 255


@schemathesis.hook
def before_call(context, case, kwargs):
    headers = case.headers
    if not headers:
        return
    key = headers.get(KEY)
    if isinstance(key, str) and 1 <= len(key) <= KEY_BYTES_MAX and key.isascii() and key.isprintable():
        headers[KEY] = "fuzz-" + uuid.uuid4().hex
