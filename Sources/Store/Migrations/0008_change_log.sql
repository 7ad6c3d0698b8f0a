-- The change log (an outbox): every change to a collection's served state appends one row in
-- the same transaction as the change itself. Replicas change their memory only by applying
-- these rows in `seq` order; NOTIFY on firebreak_changes is only the wake-up.
--
-- Ordering: an append takes the transaction-level advisory lock ChangeLog.appendLock right
-- before it inserts, so the row's `seq` is drawn under that lock and the lock is held until
-- commit. A later append therefore draws a larger seq only after every earlier appender has
-- committed or rolled back: the visible rows always form a prefix of seq order (gaps are
-- rolled-back appends, never rows still to come), and a reader that remembers the last seq
-- it applied never skips one.

CREATE TABLE changes (
    seq            bigserial PRIMARY KEY,
    collection_id  bigint NOT NULL REFERENCES collections (id),
    kind           text NOT NULL CHECK (kind ~ '^[a-z_]{1,40}$'),
    version        integer NOT NULL CHECK (version >= 1),
    payload        jsonb NOT NULL,
    -- The replica that made the change.
    origin         text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX changes_by_collection ON changes (collection_id, seq);

-- Serving replicas: each writes its applied position with a heartbeat.
CREATE TABLE replicas (
    name          text PRIMARY KEY CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$'),
    applied_seq   bigint NOT NULL DEFAULT 0,
    started_at    timestamptz NOT NULL DEFAULT now(),
    heartbeat_at  timestamptz NOT NULL DEFAULT now(),
    -- Why the replica stopped applying, when it did (fail-stop): names the row.
    problem       text
);

-- The change-log position a snapshot reflects: replicas start from it and apply what follows.
ALTER TABLE snapshots ADD COLUMN change_seq bigint;
