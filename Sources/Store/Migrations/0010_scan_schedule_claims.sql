-- One replica runs each scheduled scan per period: a replica claims a run by moving
-- `next_run_at` forward in one UPDATE; the others see the claim and skip it.
ALTER TABLE scan_schedules ADD COLUMN next_run_at timestamptz;
UPDATE scan_schedules SET next_run_at = now() + make_interval(secs => every_seconds);
ALTER TABLE scan_schedules ALTER COLUMN next_run_at SET NOT NULL;
