//! Conversions between stored columns and domain values.

use roster_domain::listing::{After, SortDirection, TextMatch};
use roster_domain::{CustomerId, PartnerId, Timestamp, UserId};

use crate::{Result, StoreError};

pub(crate) fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("{what}: '{value}'"))
}

/// Where a row's columns are read from ([`crate::sql::Row`]).
pub(crate) trait Columns {
    fn text_or_null(&self, col: &str) -> Result<Option<String>>;
    fn int_or_null(&self, col: &str) -> Result<Option<i64>>;
}

pub(crate) fn text(row: &impl Columns, col: &str) -> Result<String> {
    row.text_or_null(col)?.ok_or_else(|| corrupt(col, "NULL"))
}

pub(crate) fn opt_text(row: &impl Columns, col: &str) -> Result<Option<String>> {
    row.text_or_null(col)
}

pub(crate) fn int(row: &impl Columns, col: &str) -> Result<i64> {
    row.int_or_null(col)?.ok_or_else(|| corrupt(col, "NULL"))
}

pub(crate) fn opt_int(row: &impl Columns, col: &str) -> Result<Option<i64>> {
    row.int_or_null(col)
}

pub(crate) fn flag(row: &impl Columns, col: &str) -> Result<bool> {
    Ok(int(row, col)? != 0)
}

pub(crate) fn time(row: &impl Columns, col: &str) -> Result<Timestamp> {
    Ok(Timestamp::from_unix_millis(int(row, col)?))
}

pub(crate) fn opt_time(row: &impl Columns, col: &str) -> Result<Option<Timestamp>> {
    Ok(opt_int(row, col)?.map(Timestamp::from_unix_millis))
}

macro_rules! id_reader {
    ($fn:ident, $opt:ident, $ty:ty) => {
        pub(crate) fn $fn(row: &impl Columns, col: &str) -> Result<$ty> {
            let s = text(row, col)?;
            s.parse().map_err(|_| corrupt(col, &s))
        }
        #[allow(dead_code)]
        pub(crate) fn $opt(row: &impl Columns, col: &str) -> Result<Option<$ty>> {
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
id_reader!(group_id, opt_group_id, roster_domain::GroupId);
id_reader!(
    application_id,
    opt_application_id,
    roster_domain::ApplicationId
);
id_reader!(
    invitation_id,
    opt_invitation_id,
    roster_domain::InvitationId
);
id_reader!(
    relationship_id,
    opt_relationship_id,
    roster_domain::RelationshipId
);

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

/// The `$n` parameters of a query written piece by piece: each value added gets the next
/// number, and [`Params::bind`] binds them in that order. (sqlx's `QueryBuilder<Any>` writes
/// `?`, which PostgreSQL refuses.)
#[derive(Default)]
pub(crate) struct Params(Vec<Param>);

#[derive(Clone, Debug)]
pub(crate) enum Param {
    Text(String),
    Int(i64),
    /// NULL where text belongs (PostgreSQL is told every parameter's type, a NULL's too).
    Null,
    /// NULL where an integer belongs.
    NullInt,
}

impl From<&str> for Param {
    fn from(v: &str) -> Self {
        Self::Text(v.to_string())
    }
}

impl From<&String> for Param {
    fn from(v: &String) -> Self {
        Self::Text(v.clone())
    }
}

impl From<i32> for Param {
    fn from(v: i32) -> Self {
        Self::Int(v.into())
    }
}

impl From<u32> for Param {
    fn from(v: u32) -> Self {
        Self::Int(v.into())
    }
}

impl From<bool> for Param {
    fn from(v: bool) -> Self {
        Self::Int(i64::from(v))
    }
}

macro_rules! optional_param {
    ($null:ident: $($t:ty),*) => {$(
        impl From<Option<$t>> for Param {
            fn from(v: Option<$t>) -> Self {
                v.map_or(Self::$null, Into::into)
            }
        }
    )*};
}
optional_param!(Null: String, &str, &String);
optional_param!(NullInt: i64, i32, u32, bool);

impl From<String> for Param {
    fn from(v: String) -> Self {
        Self::Text(v)
    }
}

impl From<i64> for Param {
    fn from(v: i64) -> Self {
        Self::Int(v)
    }
}

impl Params {
    /// The values, in the order of their placeholders.
    pub(crate) fn values(&self) -> &[Param] {
        &self.0
    }

    /// Adds a value and answers its placeholder, `$n`.
    pub(crate) fn add(&mut self, value: impl Into<Param>) -> String {
        self.0.push(value.into());
        format!("${}", self.0.len())
    }

    /// Placeholders for every value, separated by commas (for `IN (…)`).
    pub(crate) fn add_all<T: Into<Param>>(
        &mut self,
        values: impl IntoIterator<Item = T>,
    ) -> String {
        values
            .into_iter()
            .map(|v| self.add(v))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A `SELECT` of one keyset page: the columns, the `FROM … WHERE` of a base query and its
/// text parameters, to which a search, a start position and the order are added in the SQL
/// both dialects accept.
pub(crate) struct PageQuery {
    columns: &'static str,
    from_where: String,
    params: Params,
}

impl PageQuery {
    /// `columns` are plain column names separated by `", "`; `from_where` ends with a
    /// `WHERE` clause whose placeholders `params` numbered.
    pub(crate) fn new(columns: &'static str, from_where: String, params: Params) -> Self {
        Self {
            columns,
            from_where,
            params,
        }
    }

    /// A case-insensitive search on a lower-cased `column`.
    pub(crate) fn search(&mut self, column: &str, op: TextMatch, folded_value: &str) {
        let escaped = like_escape(folded_value);
        let pattern = match op {
            TextMatch::StartsWith => format!("{escaped}%"),
            TextMatch::Substring => format!("%{escaped}%"),
        };
        let n = self.params.add(pattern);
        self.from_where
            .push_str(&format!(" AND {column} LIKE {n} ESCAPE '\\'"));
    }

    /// How many rows the query (with its search) holds.
    pub(crate) fn count(self, db: &mut crate::sql::SyncDb<'_>) -> Result<i64> {
        let sql = format!("SELECT COUNT(*) AS n {}", self.from_where);
        let row = db.query_one(&sql, &self.params.0)?;
        int(&row, "n")
    }

    /// Runs the query, ordered by (`key`, id), starting strictly after `after`; fetches one
    /// row more than `size` so that the caller can tell whether a next page exists.
    pub(crate) fn fetch(
        mut self,
        db: &mut crate::sql::SyncDb<'_>,
        key: &str,
        direction: SortDirection,
        after: Option<&After>,
        size: u32,
    ) -> Result<Vec<crate::sql::Row>> {
        let (cmp, dir) = match direction {
            SortDirection::Ascending => (">", "ASC"),
            SortDirection::Descending => ("<", "DESC"),
        };
        if let Some(a) = after {
            let k = self.params.add(a.key.clone());
            let i = self.params.add(a.id.clone());
            self.from_where
                .push_str(&format!(" AND ({key}, id) {cmp} ({k}, {i})"));
        }
        let limit = self.params.add(i64::from(size) + 1);
        let page = format!(
            "SELECT {}, {key} AS page_key {} ORDER BY {key} {dir}, id {dir} LIMIT {limit}",
            self.columns, self.from_where
        );
        db.sql.query(&page, &self.params.0)
    }
}
