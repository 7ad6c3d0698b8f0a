-- The service runs as firebreak_service, not as the schema owner (issue 17). Migrations run
-- as the owner; the service's pooled connections switch to this role as they open
-- (`ConnectionPool(sessionRole:)`), so a bug in the service, or a statement it should never
-- send, cannot edit the incident timeline, change the schema or rewrite migration history:
--
-- - every table: SELECT, INSERT, UPDATE, DELETE (the service's own bookkeeping);
-- - incident_events: SELECT and INSERT only (the append-only trigger of 0013 also refuses
--   UPDATE, DELETE and TRUNCATE for everyone but firebreak_maintenance);
-- - firebreak_migrations: SELECT only; no DDL anywhere (it owns nothing);
-- - it may become firebreak_reader (SET LOCAL ROLE), the role row-level security filters.
--
-- A deployment that prefers a login of its own for the service may give this role LOGIN and a
-- password; the owner is made a member so that the switch works with the owner's login alone.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'firebreak_service') THEN
        CREATE ROLE firebreak_service NOLOGIN;
    END IF;
END
$$;
GRANT firebreak_service TO CURRENT_USER;
GRANT firebreak_reader TO firebreak_service;
GRANT USAGE ON SCHEMA public TO firebreak_service;

GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO firebreak_service;
REVOKE INSERT, UPDATE, DELETE ON firebreak_migrations FROM firebreak_service;
REVOKE UPDATE, DELETE, TRUNCATE ON incident_events FROM firebreak_service;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO firebreak_service;
GRANT EXECUTE ON FUNCTION firebreak_is_quarantined(bigint) TO firebreak_service;

-- Tables a later migration creates are the service's to use as well (that migration revokes
-- what the service must not do).
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO firebreak_service;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO firebreak_service;

-- documents has FORCE ROW LEVEL SECURITY: the service writes every row (readers stay filtered
-- by their own policy).
CREATE POLICY service_full_access ON documents TO firebreak_service USING (true) WITH CHECK (true);
