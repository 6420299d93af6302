//! Conversions between stored columns and domain values.

use roster_domain::{CustomerId, PartnerId, Timestamp, UserId};
use sqlx::any::AnyRow;
use sqlx::Row;

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
