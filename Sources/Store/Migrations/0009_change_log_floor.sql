-- Retention of the change log: rows below `below` have been deleted. A replica whose applied
-- position is below it can no longer catch up by replay (the rows it needs are gone) and stops
-- (fail-stop) instead of skipping them; a restart loads a snapshot and reconciles instead.
CREATE TABLE change_log_floor (
    id     integer PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    below  bigint NOT NULL CHECK (below >= 0)
);
INSERT INTO change_log_floor (id, below) VALUES (1, 0);
