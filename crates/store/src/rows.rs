//! Conversions between stored columns and domain values.

use roster_domain::listing::{After, SortDirection, TextMatch};
use roster_domain::{CustomerId, PartnerId, Timestamp, UserId};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::{Result, StoreError};

pub(crate) fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("{what}: '{value}'"))
}

pub(crate) fn text(row: &AnyRow, col: &str) -> Result<String> {
    Ok(row.try_get::<String, _>(col)?)
}

pub(crate) fn opt_text(row: &AnyRow, col: &str) -> Result<Option<String>> {
    Ok(row.try_get::<Option<String>, _>(col)?)
}

pub(crate) fn int(row: &AnyRow, col: &str) -> Result<i64> {
    Ok(row.try_get::<i64, _>(col)?)
}

pub(crate) fn opt_int(row: &AnyRow, col: &str) -> Result<Option<i64>> {
    Ok(row.try_get::<Option<i64>, _>(col)?)
}

pub(crate) fn flag(row: &AnyRow, col: &str) -> Result<bool> {
    Ok(int(row, col)? != 0)
}

pub(crate) fn time(row: &AnyRow, col: &str) -> Result<Timestamp> {
    Ok(Timestamp::from_unix_millis(int(row, col)?))
}

pub(crate) fn opt_time(row: &AnyRow, col: &str) -> Result<Option<Timestamp>> {
    Ok(opt_int(row, col)?.map(Timestamp::from_unix_millis))
}

macro_rules! id_reader {
    ($fn:ident, $opt:ident, $ty:ty) => {
        pub(crate) fn $fn(row: &AnyRow, col: &str) -> Result<$ty> {
            let s = text(row, col)?;
            s.parse().map_err(|_| corrupt(col, &s))
        }
        #[allow(dead_code)]
        pub(crate) fn $opt(row: &AnyRow, col: &str) -> Result<Option<$ty>> {
            match opt_text(row, col)? {
                None => Ok(None),
                Some(s) => s.parse().map(Some).map_err(|_| corrupt(col, &s)),
            }
        }
    };
}

id_reader!(user_id, opt_user_id, UserId);
id_reader!(customer_id, opt_customer_id, CustomerId);
id_reader!(partner_id, opt_partner_id, PartnerId);

/// Escapes `%`, `_` and `\` for a `LIKE ... ESCAPE '\'` pattern.
pub(crate) fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A `SELECT` of one keyset page: a base query and its text parameters, to which a search,
/// a start position and the order are added in the SQL both dialects accept.
pub(crate) struct PageQuery {
    sql: String,
    binds: Vec<String>,
}

impl PageQuery {
    /// `sql` ends with a `WHERE` clause whose `$n` parameters are `binds`, in order.
    pub(crate) fn new(sql: String, binds: Vec<String>) -> Self {
        Self { sql, binds }
    }

    fn bind(&mut self, value: String) -> usize {
        self.binds.push(value);
        self.binds.len()
    }

    /// A case-insensitive search on a lower-cased `column`.
    pub(crate) fn search(&mut self, column: &str, op: TextMatch, folded_value: &str) {
        let escaped = like_escape(folded_value);
        let pattern = match op {
            TextMatch::StartsWith => format!("{escaped}%"),
            TextMatch::Substring => format!("%{escaped}%"),
        };
        let n = self.bind(pattern);
        self.sql
            .push_str(&format!(" AND {column} LIKE ${n} ESCAPE '\\'"));
    }

    /// Runs the query, ordered by (`key`, id), starting strictly after `after`; fetches one
    /// row more than `size` so that the caller can tell whether a next page exists.
    pub(crate) async fn fetch(
        mut self,
        conn: &mut AnyConnection,
        key: &str,
        direction: SortDirection,
        after: Option<&After>,
        size: u32,
    ) -> Result<Vec<AnyRow>> {
        let (cmp, dir) = match direction {
            SortDirection::Ascending => (">", "ASC"),
            SortDirection::Descending => ("<", "DESC"),
        };
        if let Some(a) = after {
            let k = self.bind(a.key.clone());
            let i = self.bind(a.id.clone());
            self.sql
                .push_str(&format!(" AND ({key}, id) {cmp} (${k}, ${i})"));
        }
        let limit = self.binds.len() + 1;
        self.sql
            .push_str(&format!(" ORDER BY {key} {dir}, id {dir} LIMIT ${limit}"));
        let mut query = sqlx::query(&self.sql);
        for b in self.binds {
            query = query.bind(b);
        }
        Ok(query.bind(i64::from(size) + 1).fetch_all(conn).await?)
    }
}
