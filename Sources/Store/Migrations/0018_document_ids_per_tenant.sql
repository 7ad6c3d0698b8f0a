-- Document ids are unique per tenant, not per collection (issue 17): a tenant-scoped caller
-- ingesting an id another tenant uses must not learn that it exists. Two tenants may now use
-- one id; an unscoped caller names such a document with its tenant.
DROP INDEX documents_live_external_id;
CREATE UNIQUE INDEX documents_live_tenant_external_id ON documents (collection_id, tenant, external_id) WHERE deleted_at IS NULL;
