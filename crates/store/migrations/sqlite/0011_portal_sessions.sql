-- Roster schema, version 11 (sqlite): the web portal's sessions. Only the SHA-256 hash of a
-- session id is stored (the id itself lives in the browser's cookie alone), so every server on
-- one database shares the sessions and a copy of the database opens none of them. A session
-- holds the user's security stamp of its sign-in: a password reset, a disabled or removed
-- account changes the stamp (or the user) and ends the session at its next request.
CREATE TABLE portal_sessions (
    hash           TEXT PRIMARY KEY,
    user_id        TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    security_stamp TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    last_seen_at   INTEGER NOT NULL
);
CREATE INDEX portal_sessions_by_user ON portal_sessions (user_id);
CREATE INDEX portal_sessions_by_last_seen ON portal_sessions (last_seen_at);
