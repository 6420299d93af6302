-- Roster schema, version 5 (postgres): delegated access relationships.
-- (Filled in by the change that builds it.)
SELECT 1;
