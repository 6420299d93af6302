-- Roster schema, version 5 (PostgreSQL): refresh tokens, stored only as hashes. A token belongs
-- to a family (one sign-in); using it replaces it with a new one of the same family, and a
-- replaced token used again revokes the whole family (it was stolen).
CREATE TABLE refresh_tokens (
    hash           TEXT PRIMARY KEY,
    family         TEXT NOT NULL,
    user_id        TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    security_stamp TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    replaced_at    BIGINT,
    revoked_at     BIGINT
);
CREATE INDEX refresh_tokens_by_family ON refresh_tokens (family);
CREATE INDEX refresh_tokens_by_user ON refresh_tokens (user_id);
