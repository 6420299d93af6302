-- Roster schema, version 9 (postgres): seats a partner gave a customer, and the licences of users.

-- Seats of one product (SKU) in one customer: total = active + warning units.
CREATE TABLE subscribed_skus (
    customer_id     TEXT NOT NULL REFERENCES tenants (id),
    sku_id          TEXT NOT NULL,
    total_units     BIGINT NOT NULL,
    suspended_units BIGINT NOT NULL,
    warning_units   BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    PRIMARY KEY (customer_id, sku_id)
);

-- A user's licence of one SKU. Excluded plans are service plan ids, comma-separated. A
-- soft-deleted user's licences are released (released_at set: they take no seat) and come
-- back on restore where seats are free; the purge deletes them with the user.
CREATE TABLE user_licences (
    user_id        TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    customer_id    TEXT NOT NULL REFERENCES tenants (id),
    sku_id         TEXT NOT NULL,
    excluded_plans TEXT NOT NULL,
    assigned_at    BIGINT NOT NULL,
    released_at    BIGINT,
    PRIMARY KEY (user_id, sku_id)
);
CREATE INDEX user_licences_taking_seats ON user_licences (customer_id, sku_id) WHERE released_at IS NULL;
