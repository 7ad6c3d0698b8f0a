-- Console sessions live in PostgreSQL (issue 22): every replica behind a load balancer knows
-- every session, so the console needs no sticky sessions, and a restart signs nobody out.
-- The cookie's session id is never stored, only its SHA-256 (a copy of this table does not
-- sign anyone in); the API token is never stored either, only its digest, re-checked against
-- api_tokens on every request.
CREATE TABLE console_sessions (
    id_sha256     text PRIMARY KEY CHECK (id_sha256 ~ '^[0-9a-f]{64}$'),
    csrf          text NOT NULL CHECK (csrf ~ '^[0-9a-f]{64}$'),
    token_digest  text NOT NULL,
    expires_at    timestamptz NOT NULL,
    -- The one-line notice the session's next page shows once.
    notice        text,
    -- One-time keys of the forms this session submitted (newest last, bounded by the service).
    form_keys     text[] NOT NULL DEFAULT '{}'
);
CREATE INDEX console_sessions_expiry ON console_sessions (expires_at);
