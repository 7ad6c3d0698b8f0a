-- The incident timeline cannot be edited in place. UPDATE, DELETE and TRUNCATE of
-- incident_events are refused (SQLSTATE 42501, insufficient_privilege) for every role but
-- firebreak_maintenance: a NOLOGIN role an operator assumes (SET ROLE) for a documented repair
-- outside the API. The service itself only ever inserts events. (A superuser can still disable
-- the trigger; `firebreak incident verify` detects any edit made that way.)
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'firebreak_maintenance') THEN
        CREATE ROLE firebreak_maintenance NOLOGIN;
    END IF;
END
$$;
GRANT USAGE ON SCHEMA public TO firebreak_maintenance;
GRANT SELECT, UPDATE, DELETE ON incident_events TO firebreak_maintenance;

CREATE FUNCTION firebreak_refuse_event_edit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_user = 'firebreak_maintenance' THEN
        IF TG_LEVEL = 'STATEMENT' THEN RETURN NULL; END IF;
        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'incident events are append-only: % refused (only firebreak_maintenance may repair them)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER incident_events_append_only BEFORE UPDATE OR DELETE ON incident_events
    FOR EACH ROW EXECUTE FUNCTION firebreak_refuse_event_edit();
CREATE TRIGGER incident_events_no_truncate BEFORE TRUNCATE ON incident_events
    FOR EACH STATEMENT EXECUTE FUNCTION firebreak_refuse_event_edit();
