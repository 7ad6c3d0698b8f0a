-- The service's needs (issue 7).
--
-- Deleting a document keeps its row (a quarantine entry and the incident evidence point at
-- it): `deleted_at` marks it gone, row-level security hides it, and its external id may be
-- used again by a new document.

ALTER TABLE documents ADD COLUMN deleted_at timestamptz;
ALTER TABLE documents DROP CONSTRAINT documents_collection_id_external_id_key;
CREATE UNIQUE INDEX documents_live_external_id ON documents (collection_id, external_id) WHERE deleted_at IS NULL;

DROP POLICY reader_sees_own_tenant_unquarantined ON documents;
CREATE POLICY reader_sees_own_tenant_live_unquarantined ON documents FOR SELECT TO firebreak_reader
    USING (tenant = current_setting('firebreak.tenant', true)
           AND deleted_at IS NULL
           AND NOT firebreak_is_quarantined(id));

-- The owner switches to the reader role for reads (SET LOCAL ROLE), so RLS applies to them.
GRANT firebreak_reader TO CURRENT_USER;

-- Scan reports may come from the service's own scans later; the last one is shown per collection.
CREATE INDEX scan_reports_latest ON scan_reports (collection_id, created_at DESC);
