-- Roster schema, version 4 (SQLite): invitations of outside users (guests) to the partner
-- account.

-- The email address a guest was invited with: it signs in with it.
ALTER TABLE users ADD COLUMN guest_email TEXT;
ALTER TABLE users ADD COLUMN guest_email_key TEXT;
-- One active guest per address and partner.
CREATE UNIQUE INDEX users_guest_email ON users (tenant_id, guest_email_key)
    WHERE guest_email_key IS NOT NULL AND state = 'active';
CREATE INDEX users_by_guest_email ON users (guest_email_key) WHERE guest_email_key IS NOT NULL;

-- One invitation per guest. Only the SHA-256 of the link's token is stored; a resend replaces
-- it. state: 'pending' until redeemed, then 'accepted'.
CREATE TABLE invitations (
    id           TEXT PRIMARY KEY,
    partner_id   TEXT NOT NULL REFERENCES tenants (id),
    user_id      TEXT NOT NULL UNIQUE REFERENCES users (id) ON DELETE CASCADE,
    email        TEXT NOT NULL,
    token_hash   TEXT NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('pending', 'accepted')),
    created_at   INTEGER NOT NULL,
    sent_at      INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    accepted_at  INTEGER
);
CREATE UNIQUE INDEX invitations_by_token ON invitations (token_hash);
CREATE INDEX invitations_by_partner ON invitations (partner_id, created_at, id);
