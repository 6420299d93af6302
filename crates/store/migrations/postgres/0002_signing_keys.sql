-- Roster schema, version 2 (PostgreSQL): the token-signing keys live in the database, so that
-- every server on one database signs and verifies with the same keys.
CREATE TABLE signing_keys (
    id         TEXT PRIMARY KEY,
    secret     TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
