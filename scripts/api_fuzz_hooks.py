"""schemathesis hooks for scripts/api-fuzz: two adjustments to generated requests.

- Idempotency-Key. Deterministic generation sends one key value with many different bodies,
  and the service rightly answers 422 idempotency_key_reused: the handlers behind it would
  never see the generated data. A key the contract allows (1..255 printable ASCII characters)
  is replaced by a fresh one per request; a malformed key is left alone, so its refusal is
  still exercised.
- min_seq. A generated position is far beyond anything written; the service rightly waits
  for it and answers 503 replica_behind (documented, with Retry-After), which
  not_a_server_error cannot tell from a fault. A non-negative integer min_seq becomes 0
  (applied already); malformed and negative ones are left alone, so their 400 is exercised.
"""
import uuid

import schemathesis

KEY = "Idempotency-Key"
KEY_BYTES_MAX = 255


def _fresh_key(headers):
    key = headers.get(KEY) if headers else None
    if isinstance(key, str) and 1 <= len(key) <= KEY_BYTES_MAX and key.isascii() and key.isprintable():
        headers[KEY] = "fuzz-" + uuid.uuid4().hex


def _applied(value):
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
        return 0  # JSON numbers: the service reads 12809.0 as the position 12809
    if isinstance(value, str) and value.isdigit():
        return "0"
    return value


@schemathesis.hook
def before_call(context, case, kwargs):
    _fresh_key(case.headers)
    for part in (case.query, case.body):
        if isinstance(part, dict) and "min_seq" in part:
            part["min_seq"] = _applied(part["min_seq"])
