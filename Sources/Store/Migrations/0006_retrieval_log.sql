-- The retrieval log: which documents each search served, to which tenant, when, under which
-- trace. It answers an incident's blast radius exactly: every logged request that was served
-- a document that is now quarantined. Readers (firebreak_reader) are granted nothing on it.

CREATE TABLE retrieval_log (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    collection_id  bigint NOT NULL REFERENCES collections (id),
    tenant         text NOT NULL,
    trace_id       text NOT NULL CHECK (length(trace_id) BETWEEN 1 AND 64),
    served_at      timestamptz NOT NULL,
    documents      bigint[] NOT NULL
);
-- "Which requests were served any of these documents": array overlap (&&) through GIN.
CREATE INDEX retrieval_log_documents ON retrieval_log USING gin (documents);
-- Retention deletes by age.
CREATE INDEX retrieval_log_served_at ON retrieval_log (served_at);
