-- Row-level security: the service reads documents as firebreak_reader, a role that owns no
-- table. With FORCE ROW LEVEL SECURITY the policies hold for every role but superusers:
-- a reader sees only the rows of the tenant named by the transaction-local setting
-- `firebreak.tenant`, and never a document under an active quarantine. Without the
-- setting it sees nothing.

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'firebreak_reader') THEN
        CREATE ROLE firebreak_reader LOGIN;
    END IF;
END
$$;

GRANT USAGE ON SCHEMA public TO firebreak_reader;
GRANT SELECT ON tenants, collections, documents TO firebreak_reader;

-- Runs with the owner's rights, so the reader needs no access to quarantine_entries.
CREATE FUNCTION firebreak_is_quarantined(document bigint) RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$ SELECT EXISTS (SELECT 1 FROM quarantine_entries q WHERE q.document_id = document AND q.released_at IS NULL) $$;
REVOKE ALL ON FUNCTION firebreak_is_quarantined(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION firebreak_is_quarantined(bigint) TO firebreak_reader;

ALTER TABLE documents ENABLE ROW LEVEL SECURITY;
ALTER TABLE documents FORCE ROW LEVEL SECURITY;

CREATE POLICY reader_sees_own_tenant_unquarantined ON documents FOR SELECT TO firebreak_reader
    USING (tenant = current_setting('firebreak.tenant', true) AND NOT firebreak_is_quarantined(id));

-- The schema owner (the role running this migration) keeps full access for writes.
CREATE POLICY owner_full_access ON documents TO CURRENT_USER USING (true) WITH CHECK (true);
