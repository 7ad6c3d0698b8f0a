-- Firebreak schema, version 1: the system of record.
-- Applied by `firebreak db migrate` (and at start-up) in one transaction, recorded in
-- firebreak_migrations with this file's SHA-256. Never edit an applied migration: add one.

CREATE TABLE tenants (
    name        text PRIMARY KEY CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$'),
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE collections (
    id                    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name                  text NOT NULL UNIQUE CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$'),
    dimension             integer NOT NULL CHECK (dimension BETWEEN 1 AND 4096),
    metric                text NOT NULL CHECK (metric IN ('cosine', 'ip', 'l2')),
    hnsw_m                integer NOT NULL DEFAULT 16 CHECK (hnsw_m BETWEEN 2 AND 128),
    hnsw_ef_construction  integer NOT NULL DEFAULT 200 CHECK (hnsw_ef_construction BETWEEN 1 AND 10000),
    hnsw_ef_search        integer NOT NULL DEFAULT 64 CHECK (hnsw_ef_search BETWEEN 1 AND 10000),
    created_at            timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE documents (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant          text NOT NULL REFERENCES tenants (name),
    collection_id   bigint NOT NULL REFERENCES collections (id),
    external_id     text NOT NULL CHECK (length(external_id) BETWEEN 1 AND 512),
    text            text NOT NULL CHECK (octet_length(text) <= 1048576),
    embedding       real[] NOT NULL CHECK (
                        cardinality(embedding) BETWEEN 1 AND 4096
                        AND array_position(embedding, 'NaN'::real) IS NULL
                        AND array_position(embedding, 'Infinity'::real) IS NULL
                        AND array_position(embedding, '-Infinity'::real) IS NULL),
    metadata        jsonb NOT NULL DEFAULT '{}' CHECK (pg_column_size(metadata) <= 65536),
    content_sha256  bytea NOT NULL CHECK (length(content_sha256) = 32),
    source          text,
    ingested_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (collection_id, external_id)
);
CREATE INDEX documents_tenant ON documents (collection_id, tenant);

CREATE SEQUENCE incident_numbers;

CREATE TABLE incidents (
    id                  text PRIMARY KEY CHECK (id ~ '^INC-[0-9]{6,}$'),
    title               text NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
    severity            text NOT NULL CHECK (severity IN ('SEV-0', 'SEV-1', 'SEV-2', 'SEV-3', 'SEV-4')),
    taxonomy_class      text NOT NULL,
    status              text NOT NULL CHECK (status IN ('declared', 'contained', 'mitigated', 'resolved', 'closed')),
    reporter            text NOT NULL,
    commander           text,
    tenant              text REFERENCES tenants (name),
    collection          text REFERENCES collections (name),
    traceparent         text,
    snapshot_root_hash  text,
    contained           boolean NOT NULL DEFAULT false,
    detected_at         timestamptz NOT NULL,
    declared_at         timestamptz NOT NULL DEFAULT now()
);

-- Append-only, hash-chained: each event stores its predecessor's hash and the SHA-256 of
-- its own canonical JSON. `firebreak incident verify` recomputes the chain.
CREATE TABLE incident_events (
    incident_id    text NOT NULL REFERENCES incidents (id),
    sequence       integer NOT NULL CHECK (sequence >= 1),
    kind           text NOT NULL,
    actor          text NOT NULL,
    -- The ISO 8601 text the hash covers, kept verbatim (a timestamptz would be re-formatted).
    at             text NOT NULL CHECK (at ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}T'),
    payload        jsonb NOT NULL,
    previous_hash  text NOT NULL,
    hash           text NOT NULL,
    PRIMARY KEY (incident_id, sequence)
);

CREATE TABLE scan_reports (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    collection_id  bigint NOT NULL REFERENCES collections (id),
    tenant         text REFERENCES tenants (name),
    report         jsonb NOT NULL,
    max_z          double precision NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE snapshots (
    id              text PRIMARY KEY,
    collection_id   bigint NOT NULL REFERENCES collections (id),
    parent_id       text REFERENCES snapshots (id),
    status          text NOT NULL CHECK (status IN ('building', 'published', 'verified_clean', 'retired')),
    root_hash       text,
    manifest        jsonb,
    scan_report_id  bigint REFERENCES scan_reports (id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    CHECK (status <> 'verified_clean' OR scan_report_id IS NOT NULL)
);

CREATE TABLE quarantine_entries (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    document_id      bigint NOT NULL REFERENCES documents (id),
    collection_id    bigint NOT NULL REFERENCES collections (id),
    incident_id      text NOT NULL REFERENCES incidents (id),
    reason           text NOT NULL CHECK (length(reason) BETWEEN 1 AND 2000),
    scores           jsonb NOT NULL DEFAULT '{}',
    quarantined_by   text NOT NULL,
    quarantined_at   timestamptz NOT NULL DEFAULT now(),
    released_at      timestamptz,
    released_by      text,
    release_reason   text,
    CHECK ((released_at IS NULL) = (released_by IS NULL) AND (released_at IS NULL) = (release_reason IS NULL))
);
-- At most one active quarantine per document.
CREATE UNIQUE INDEX quarantine_active ON quarantine_entries (document_id) WHERE released_at IS NULL;

CREATE TABLE flags (
    collection_id  bigint NOT NULL REFERENCES collections (id),
    name           text NOT NULL CHECK (name IN ('FF_INDEX_FREEZE', 'FF_TENANT_BLOCK')),
    tenant         text NOT NULL DEFAULT '' ,
    enabled        boolean NOT NULL,
    incident_id    text REFERENCES incidents (id),
    set_by         text NOT NULL,
    set_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (collection_id, name, tenant)
);

CREATE TABLE idempotency_keys (
    key             text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    token_sha256    text NOT NULL,
    request_sha256  text NOT NULL,
    status_code     integer NOT NULL,
    response        jsonb NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (token_sha256, key)
);

CREATE TABLE api_tokens (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    token_sha256  text NOT NULL UNIQUE,
    role          text NOT NULL CHECK (role IN ('reader', 'retrieval_owner', 'incident_commander', 'admin')),
    tenant        text REFERENCES tenants (name),
    created_at    timestamptz NOT NULL DEFAULT now(),
    revoked_at    timestamptz
);

CREATE TABLE audit_log (
    id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at       timestamptz NOT NULL DEFAULT now(),
    actor    text NOT NULL,
    action   text NOT NULL,
    target   text NOT NULL,
    details  jsonb NOT NULL DEFAULT '{}'
);
