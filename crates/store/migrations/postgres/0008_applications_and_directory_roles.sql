-- Roster schema, version 8 (postgres): applications of a partner, directory role members of a
-- tenant, and the application a refresh token was issued to.

-- An application's client id is its id; its secret is stored only as a SHA-256 hash (the
-- secret is 32 random bytes, so a fast hash is enough). A new secret changes the stamp,
-- which ends every token issued to the application before.
CREATE TABLE applications (
    id             TEXT PRIMARY KEY,
    partner_id     TEXT NOT NULL REFERENCES tenants (id),
    display_name   TEXT NOT NULL,
    secret_hash    TEXT NOT NULL,
    security_stamp TEXT NOT NULL,
    created_by     TEXT,
    created_at     BIGINT NOT NULL
);
CREATE INDEX applications_by_partner ON applications (partner_id, created_at, id);

-- Members of the fixed directory roles (role ids are the well-known template ids). A
-- soft-deleted user keeps its rows, hidden by its state, so that a restore brings its roles
-- back; the purge deletes them with the user.
CREATE TABLE directory_role_members (
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    role_id   TEXT NOT NULL,
    user_id   TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    added_at  BIGINT NOT NULL,
    PRIMARY KEY (user_id, role_id)
);
CREATE INDEX directory_role_members_by_role ON directory_role_members (tenant_id, role_id, user_id);

ALTER TABLE refresh_tokens ADD COLUMN application_id TEXT;
