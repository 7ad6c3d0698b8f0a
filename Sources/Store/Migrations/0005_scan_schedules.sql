-- Scheduled HubScan per collection, and what to do when it flags documents.

CREATE TABLE scan_schedules (
    collection_id  bigint PRIMARY KEY REFERENCES collections (id),
    every_seconds  integer NOT NULL CHECK (every_seconds BETWEEN 10 AND 604800),
    policy         text NOT NULL CHECK (policy IN ('alert', 'auto-contain')),
    options        jsonb NOT NULL DEFAULT '{}',
    enabled        boolean NOT NULL DEFAULT true,
    set_by         text NOT NULL,
    set_at         timestamptz NOT NULL DEFAULT now()
);
