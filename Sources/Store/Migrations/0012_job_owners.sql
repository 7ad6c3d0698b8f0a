-- A job belongs to the replica that runs it and heart-beats while it runs. A replica's start
-- fails only its own interrupted jobs (and ones nobody heart-beats); a job whose heartbeat
-- stopped (its replica died) is failed by whichever replica notices.
ALTER TABLE jobs ADD COLUMN owner text;
ALTER TABLE jobs ADD COLUMN heartbeat_at timestamptz NOT NULL DEFAULT now();
