"""Schemathesis hooks for Roster's generated-input test (crates/cli/tests/schemathesis.rs).

A continuation token only exists as the answer of an earlier page: generated text is never
one, so a generated request that pages (a token, or seekOperation=Next, which needs one) is
refused with 400 however well it fits the document. Those requests are left out here; paging
is covered by the API tests, and the token parser by its property test
(crates/service/src/paging.rs).
"""

import schemathesis

PAGING_QUERY = {"seekoperation", "continuationtoken"}
PAGING_HEADERS = {"ms-continuationtoken"}


@schemathesis.hook
def filter_case(ctx, case):
    query = {k.lower() for k in (case.query or {})}
    headers = {k.lower() for k in (case.headers or {})}
    return not (query & PAGING_QUERY or headers & PAGING_HEADERS)
