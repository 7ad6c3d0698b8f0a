-- A snapshot taken as forensic evidence of an incident: the served state of the collection when
-- a SEV-0 or SEV-1 incident was declared on it, before any quarantine or rollback of that
-- incident changed what is served. Retention never retires it while that incident is open.
ALTER TABLE snapshots ADD COLUMN forensic_incident_id text REFERENCES incidents (id);
CREATE INDEX snapshots_forensic_incident ON snapshots (forensic_incident_id) WHERE forensic_incident_id IS NOT NULL;
