-- Roster schema, version 1 (SQLite).
-- Ids are canonical lower-case GUID text; times are Unix milliseconds; flags are 0/1.
-- *_key columns hold the lower-cased value that uniqueness, sorting and search use.

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE tenants (
    id                     TEXT PRIMARY KEY,
    kind                   TEXT NOT NULL CHECK (kind IN ('partner', 'customer')),
    partner_id             TEXT REFERENCES tenants (id),
    company_name           TEXT NOT NULL,
    company_name_key       TEXT NOT NULL,
    domain                 TEXT NOT NULL,
    country                TEXT NOT NULL,
    billing                TEXT NOT NULL,
    allow_delegated_access INTEGER NOT NULL,
    created_at             INTEGER NOT NULL
);
CREATE INDEX tenants_by_name ON tenants (partner_id, company_name_key, id);
CREATE INDEX tenants_by_domain ON tenants (partner_id, domain, id);

CREATE TABLE domains (
    name       TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL REFERENCES tenants (id),
    kind       TEXT NOT NULL CHECK (kind IN ('initial', 'managed', 'federated')),
    created_at INTEGER NOT NULL
);
CREATE INDEX domains_by_tenant ON domains (tenant_id);

CREATE TABLE users (
    id                    TEXT PRIMARY KEY,
    tenant_id             TEXT NOT NULL REFERENCES tenants (id),
    upn                   TEXT NOT NULL,
    upn_key               TEXT NOT NULL,
    display_name          TEXT NOT NULL,
    display_name_key      TEXT NOT NULL,
    first_name            TEXT,
    last_name             TEXT,
    usage_location        TEXT,
    immutable_id          TEXT,
    phone_number          TEXT,
    domain_type           TEXT NOT NULL,
    state                 TEXT NOT NULL CHECK (state IN ('active', 'inactive')),
    soft_deleted_at       INTEGER,
    password_hash         TEXT,
    force_change_password INTEGER NOT NULL,
    security_stamp        TEXT NOT NULL,
    version               INTEGER NOT NULL,
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL
);
-- A UPN is unique among a tenant's active users; soft-deleted users keep theirs.
CREATE UNIQUE INDEX users_active_upn ON users (tenant_id, upn_key) WHERE state = 'active';
CREATE INDEX users_by_upn ON users (tenant_id, state, upn_key, id);
CREATE INDEX users_by_display_name ON users (tenant_id, state, display_name_key, id);
CREATE INDEX users_deleted ON users (soft_deleted_at) WHERE state = 'inactive';

CREATE TABLE partner_roles (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role    TEXT NOT NULL,
    PRIMARY KEY (user_id, role)
);

CREATE TABLE sign_in_throttle (
    user_id      TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    failures     INTEGER NOT NULL,
    lockouts     INTEGER NOT NULL,
    locked_until INTEGER,
    recent_wrong TEXT NOT NULL
);

-- Audit records outlive what they describe: no foreign keys.
CREATE TABLE audit_records (
    id             TEXT PRIMARY KEY,
    created_at     INTEGER NOT NULL,
    partner_id     TEXT NOT NULL,
    customer_id    TEXT,
    actor_user_id  TEXT,
    application_id TEXT,
    operation_type TEXT NOT NULL,
    resource_type  TEXT NOT NULL,
    resource_id    TEXT NOT NULL,
    new_value      TEXT NOT NULL,
    correlation_id TEXT NOT NULL,
    request_id     TEXT NOT NULL
);
CREATE INDEX audit_by_time ON audit_records (partner_id, created_at, id);

CREATE TABLE idempotency (
    caller        TEXT NOT NULL,
    request_id    TEXT NOT NULL,
    method        TEXT NOT NULL,
    path          TEXT NOT NULL,
    body_hash     TEXT NOT NULL,
    status        INTEGER,
    response      TEXT,
    created_at    INTEGER NOT NULL,
    PRIMARY KEY (caller, request_id)
);
CREATE INDEX idempotency_by_age ON idempotency (created_at);
