-- Roster schema, version 7 (sqlite): granular delegated admin relationships between a partner
-- and a customer, and the partner's security groups assigned to them.
-- Roles are stored as their directory role ids, comma-separated. The stored status is one of
-- created, approval_pending, active, terminated; expiry is computed from activated_at,
-- duration_days and auto_extend against the clock.

CREATE TABLE delegated_relationships (
    id               TEXT PRIMARY KEY,
    partner_id       TEXT NOT NULL REFERENCES tenants (id),
    customer_id      TEXT NOT NULL REFERENCES tenants (id),
    display_name     TEXT NOT NULL,
    display_name_key TEXT NOT NULL,
    duration_days    INTEGER NOT NULL,
    roles            TEXT NOT NULL,
    auto_extend      INTEGER NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('created', 'approval_pending', 'active', 'terminated')),
    created_at       INTEGER NOT NULL,
    activated_at     INTEGER,
    terminated_at    INTEGER
);
-- A display name is unique per partner.
CREATE UNIQUE INDEX delegated_relationships_by_name ON delegated_relationships (partner_id, display_name_key);
CREATE INDEX delegated_relationships_by_customer ON delegated_relationships (customer_id, created_at, id);

CREATE TABLE delegated_access_assignments (
    id              TEXT PRIMARY KEY,
    relationship_id TEXT NOT NULL REFERENCES delegated_relationships (id),
    group_id        TEXT NOT NULL REFERENCES security_groups (id) ON DELETE CASCADE,
    roles           TEXT NOT NULL,
    created_at      INTEGER NOT NULL
);
CREATE UNIQUE INDEX delegated_access_assignments_by_group ON delegated_access_assignments (relationship_id, group_id);
CREATE INDEX delegated_access_assignments_by_group_id ON delegated_access_assignments (group_id);
