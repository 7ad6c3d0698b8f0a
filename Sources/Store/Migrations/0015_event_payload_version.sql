-- The shape an event's payload was written in: 1 for round 1's flat text (every value a
-- string), 2 for the typed payloads (numbers as numbers, lists as arrays, documents by
-- external id). The hash chain covers the version from 2 on; version-1 events keep the bytes
-- (and hashes) they were written with.
ALTER TABLE incident_events ADD COLUMN payload_version smallint NOT NULL DEFAULT 1;
