-- Idempotency keys are claimed before their request acts: a row `in_flight` (a second request
-- with the key, on any replica, gets 409 while it exists), marked `committed` inside the
-- action's own transaction, and `completed` with the exact response bytes first sent. Keys
-- expire after 24 hours. Rows of the previous layout become completed rows (their jsonb
-- response as text: byte-identical replays start with the rows written from now on).
ALTER TABLE idempotency_keys RENAME TO idempotency_keys_v1;
ALTER TABLE idempotency_keys_v1 RENAME CONSTRAINT idempotency_keys_pkey TO idempotency_keys_v1_pkey;

CREATE TABLE idempotency_keys (
    token_sha256    text NOT NULL,
    key             text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    request_sha256  text NOT NULL,
    state           text NOT NULL CHECK (state IN ('in_flight', 'committed', 'completed')),
    claimed_at      timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz NOT NULL DEFAULT now() + interval '24 hours',
    -- The change-log position the action's effect is visible at, when it appended one.
    seq             bigint,
    status_code     integer,
    content_type    text,
    response        bytea,
    PRIMARY KEY (token_sha256, key),
    CHECK (state <> 'completed' OR (status_code IS NOT NULL AND content_type IS NOT NULL AND response IS NOT NULL))
);
CREATE INDEX idempotency_keys_by_expiry ON idempotency_keys (expires_at);

INSERT INTO idempotency_keys (token_sha256, key, request_sha256, state, claimed_at, expires_at, status_code, content_type, response)
SELECT token_sha256, key, request_sha256, 'completed', created_at, created_at + interval '24 hours', status_code,
       CASE WHEN status_code >= 400 THEN 'application/problem+json' ELSE 'application/json' END,
       convert_to(response::text, 'UTF8')
FROM idempotency_keys_v1;
DROP TABLE idempotency_keys_v1;
