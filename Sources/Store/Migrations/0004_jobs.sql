-- Background jobs (rebuilds): their state survives the process, so a restart can say what
-- happened to a job it interrupted.

CREATE TABLE jobs (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind           text NOT NULL CHECK (kind IN ('rebuild')),
    collection_id  bigint NOT NULL REFERENCES collections (id),
    tenant         text REFERENCES tenants (name),
    incident_id    text NOT NULL REFERENCES incidents (id),
    state          text NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    progress       double precision NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 1),
    error          text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    started_at     timestamptz,
    finished_at    timestamptz
);
CREATE INDEX jobs_open ON jobs (collection_id) WHERE state IN ('queued', 'running');
