-- Which replica is building a snapshot (issue 17). A process killed while it wrote a snapshot
-- leaves the row `building` forever; at its next start the same replica (replica names are
-- unique among the processes serving one database) retires the rows it was building.
ALTER TABLE snapshots ADD COLUMN builder text;
