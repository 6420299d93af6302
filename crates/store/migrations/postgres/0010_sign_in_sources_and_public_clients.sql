-- Roster schema, version 10 (postgres): sign-in lockouts per account and source, the networks each
-- user signed in from, and public applications.

-- The sign-in lockout of one account as seen from one source. `source` is a network the
-- user signed in from before (each familiar network keeps a lockout of its own) or '*' for
-- every other source together. `subject` is a user id, or 'unknown:' and a keyed hash of a
-- user name that has no account, so that a guess costs the same whether the account exists.
-- `attempts` counts every attempt ever counted: an attempt's ticket, so that a success
-- forgets exactly the failures counted before it. Rows unused for a day are forgotten.
CREATE TABLE sign_in_throttles (
    subject      TEXT NOT NULL,
    source       TEXT NOT NULL,
    failures     BIGINT NOT NULL,
    lockouts     BIGINT NOT NULL,
    locked_until BIGINT,
    recent_wrong TEXT NOT NULL,
    attempts     BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    PRIMARY KEY (subject, source)
);
CREATE INDEX sign_in_throttles_by_update ON sign_in_throttles (updated_at);
INSERT INTO sign_in_throttles (subject, source, failures, lockouts, locked_until, recent_wrong, attempts, updated_at)
    SELECT user_id, '*', failures, lockouts, locked_until, recent_wrong, 0, COALESCE(locked_until, 0)
    FROM sign_in_throttle;
DROP TABLE sign_in_throttle;

-- The networks (an IPv4 address, an IPv6 /64) a user signed in from successfully, the most
-- recent few: sign-in attempts from them are its own, apart from everyone else's.
CREATE TABLE sign_in_networks (
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    network      TEXT NOT NULL,
    last_success BIGINT NOT NULL,
    PRIMARY KEY (user_id, network)
);

-- A public client (a script or a desktop tool that cannot keep a secret) gets App+User
-- tokens with its client id alone; a confidential one must send its secret. Applications
-- registered before this version were all used as public clients and stay so.
ALTER TABLE applications ADD COLUMN public_client BIGINT NOT NULL DEFAULT 1;
