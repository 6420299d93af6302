-- Roster schema, version 6 (PostgreSQL): the activity history of partner account users, kept
-- 30 days.
CREATE TABLE activity (
    id      TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    at      BIGINT NOT NULL,
    method  TEXT NOT NULL,
    path    TEXT NOT NULL,
    status  BIGINT NOT NULL
);
CREATE INDEX activity_by_user ON activity (user_id, at, id);
CREATE INDEX activity_by_time ON activity (at);
