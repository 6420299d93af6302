-- Roster schema, version 5 (sqlite): delegated access relationships.
-- (Filled in by the change that builds it.)
SELECT 1;
