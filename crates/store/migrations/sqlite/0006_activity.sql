-- Roster schema, version 6 (SQLite): the activity history of partner account users, kept
-- 30 days.
CREATE TABLE activity (
    id      TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    at      INTEGER NOT NULL,
    method  TEXT NOT NULL,
    path    TEXT NOT NULL,
    status  INTEGER NOT NULL
);
CREATE INDEX activity_by_user ON activity (user_id, at, id);
CREATE INDEX activity_by_time ON activity (at);
