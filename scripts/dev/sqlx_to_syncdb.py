#!/usr/bin/env python3
"""One-off helper for issue 17 (removed when the move is done): rewrites a store module's
sqlx query chains on `self.conn` into SyncDb calls. What it cannot rewrite it leaves, and
the compiler names it.

    sqlx::query(SQL).bind(A).bind(B).fetch_optional(&mut *self.conn).await?
 -> self.query_opt(SQL, &[Param::from(A), Param::from(B)])?
"""
import re, sys

METHODS = {
    "fetch_optional": "self.query_opt",
    "fetch_one": "self.query_one",
    "fetch_all": "self.sql.query",
    "execute": "self.sql.execute",
}

def balanced(s, i):
    """s[i] == '('; returns the index after the matching ')'."""
    depth = 0
    j = i
    in_str = None
    while j < len(s):
        c = s[j]
        if in_str:
            if c == '\\':
                j += 2
                continue
            if c == in_str:
                in_str = None
        elif c == '"':
            in_str = '"'
        elif c == '(':
            depth += 1
        elif c == ')':
            depth -= 1
            if depth == 0:
                return j + 1
        j += 1
    raise ValueError("unbalanced")

def convert(src):
    out = []
    i = 0
    while True:
        k = src.find("sqlx::query(", i)
        if k < 0:
            out.append(src[i:])
            break
        start_args = k + len("sqlx::query")
        end_args = balanced(src, start_args)
        sql = src[start_args + 1:end_args - 1]
        j = end_args
        binds = []
        ok = True
        while True:
            m = re.match(r"\s*\.bind\(", src[j:])
            if not m:
                break
            b0 = j + m.end() - 1
            b1 = balanced(src, b0)
            binds.append(src[b0 + 1:b1 - 1].strip())
            j = b1
        m = re.match(r"\s*\.(fetch_optional|fetch_one|fetch_all|execute)\(&mut \*self\.conn\)\s*\.await", src[j:])
        if not m:
            out.append(src[i:end_args])
            i = end_args
            continue
        method = METHODS[m.group(1)]
        j += m.end()
        params = ", ".join(f"Param::from({b})" for b in binds)
        out.append(src[i:k])
        out.append(f"{method}({sql.strip().rstrip(',').strip()}, &[{params}])")
        i = j
    s = "".join(out)
    s = s.replace("impl Db<'_> {", "impl SyncDb<'_> {")
    s = re.sub(r"\bpub async fn\b", "pub fn", s)
    s = re.sub(r"\bpub\(crate\) async fn\b", "pub(crate) fn", s)
    s = re.sub(r"\basync fn\b", "fn", s)
    s = re.sub(r"\)\s*\.await", ")", s)
    s = re.sub(r"\bself\.backend\b(?!\()", "self.backend()", s)
    s = re.sub(r"(\w+)\.rows_affected\(\)", r"\1", s)
    return s

for path in sys.argv[1:]:
    src = open(path).read()
    open(path, "w").write(convert(src))
    print("converted", path)
