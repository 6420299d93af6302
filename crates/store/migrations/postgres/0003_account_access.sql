-- Roster schema, version 3 (PostgreSQL): the partner account's users, custom permissions and
-- security groups.
ALTER TABLE users ADD COLUMN is_guest BIGINT NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN password_recovery_email TEXT;
ALTER TABLE users ADD COLUMN is_directory_global_admin BIGINT NOT NULL DEFAULT 0;

-- A directory user of a partner tenant with a row here may use the Roster account; its roles
-- are in partner_roles, or its custom permissions (JSON {area: level}) here.
CREATE TABLE account_access (
    user_id            TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    custom_permissions TEXT,
    granted_at         BIGINT NOT NULL
);
INSERT INTO account_access (user_id, custom_permissions, granted_at)
    SELECT DISTINCT user_id, NULL, 0 FROM partner_roles;

CREATE TABLE security_groups (
    id               TEXT PRIMARY KEY,
    partner_id       TEXT NOT NULL REFERENCES tenants (id),
    display_name     TEXT NOT NULL,
    display_name_key TEXT COLLATE "C" NOT NULL,
    description      TEXT,
    created_at       BIGINT NOT NULL
);
CREATE UNIQUE INDEX security_groups_by_name ON security_groups (partner_id, display_name_key);

CREATE TABLE group_members (
    group_id TEXT NOT NULL REFERENCES security_groups (id) ON DELETE CASCADE,
    user_id  TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_members_by_user ON group_members (user_id);

-- Account roles given to every member of a group.
CREATE TABLE group_roles (
    group_id TEXT NOT NULL REFERENCES security_groups (id) ON DELETE CASCADE,
    role     TEXT NOT NULL,
    PRIMARY KEY (group_id, role)
);
