//! Continuation tokens: the query and the position after the last item, sealed with the
//! server's key. Clients send only the token for the next page, so it carries everything.

use roster_domain::customer_user::UserState;
use roster_domain::listing::{
    After, CustomerListQuery, CustomerTextField, SortDirection, TextFilter, TextMatch,
    UserListQuery, UserSortField, UserTextField,
};
use roster_domain::Invalid;
use serde::{Deserialize, Serialize};

use crate::tokens::SigningKey;

/// Which page to list.
#[derive(Clone, Debug)]
pub enum ListRequest<Q> {
    First(Q),
    /// A continuation token from the previous page.
    Next(String),
}

#[derive(Serialize, Deserialize)]
struct Sealed {
    /// What is listed, and in which scope (a customer id for users, a partner id for customers).
    list: String,
    scope: String,
    query: SealedQuery,
    key: String,
    id: String,
}

#[derive(Serialize, Deserialize)]
struct SealedQuery {
    state: Option<String>,
    field: Option<String>,
    op: Option<String>,
    value: Option<String>,
    sort: Option<String>,
    descending: bool,
    size: u32,
}

pub(crate) fn invalid_token() -> Invalid {
    Invalid::one(
        "continuationToken",
        "is not a continuation token of this list: start again from the first page",
    )
}

fn op_str(op: TextMatch) -> &'static str {
    match op {
        TextMatch::StartsWith => "starts_with",
        TextMatch::Substring => "substring",
    }
}

fn op_parse(s: &str) -> Option<TextMatch> {
    match s {
        "starts_with" => Some(TextMatch::StartsWith),
        "substring" => Some(TextMatch::Substring),
        _ => None,
    }
}

/// The search part of a sealed query, with `field` naming the stored field names.
fn open_search<F>(
    q: &SealedQuery,
    field: impl Fn(&str) -> Option<F>,
) -> Result<Option<TextFilter<F>>, Invalid> {
    match (q.field.as_deref(), q.op.as_deref(), &q.value) {
        (None, None, None) => Ok(None),
        (Some(f), Some(op), Some(value)) => Ok(Some(TextFilter {
            field: field(f).ok_or_else(invalid_token)?,
            op: op_parse(op).ok_or_else(invalid_token)?,
            value: value.clone(),
        })),
        _ => Err(invalid_token()),
    }
}

pub(crate) fn seal_users(key: &SigningKey, scope: &str, q: &UserListQuery, after: After) -> String {
    key.seal(&Sealed {
        list: "users".into(),
        scope: scope.into(),
        query: SealedQuery {
            state: Some(q.state.as_str().into()),
            field: q.search.as_ref().map(|f| match f.field {
                UserTextField::UserPrincipalName => "upn".into(),
                UserTextField::DisplayName => "display_name".into(),
            }),
            op: q.search.as_ref().map(|f| op_str(f.op).into()),
            value: q.search.as_ref().map(|f| f.value.clone()),
            sort: Some(match q.sort {
                UserSortField::UserPrincipalName => "upn".into(),
                UserSortField::DisplayName => "display_name".into(),
            }),
            descending: q.direction == SortDirection::Descending,
            size: q.size,
        },
        key: after.key,
        id: after.id,
    })
}

pub(crate) fn open_users(
    key: &SigningKey,
    scope: &str,
    token: &str,
) -> Result<(UserListQuery, After), Invalid> {
    let s: Sealed = key.open(token).ok_or_else(invalid_token)?;
    if s.list != "users" || s.scope != scope {
        return Err(invalid_token());
    }
    let q = s.query;
    let search = open_search(&q, |f| match f {
        "upn" => Some(UserTextField::UserPrincipalName),
        "display_name" => Some(UserTextField::DisplayName),
        _ => None,
    })?;
    let query = UserListQuery {
        state: q
            .state
            .as_deref()
            .and_then(UserState::parse)
            .ok_or_else(invalid_token)?,
        search,
        sort: match q.sort.as_deref() {
            Some("upn") => UserSortField::UserPrincipalName,
            Some("display_name") => UserSortField::DisplayName,
            _ => return Err(invalid_token()),
        },
        direction: if q.descending {
            SortDirection::Descending
        } else {
            SortDirection::Ascending
        },
        size: q.size,
    };
    Ok((
        query,
        After {
            key: s.key,
            id: s.id,
        },
    ))
}

pub(crate) fn seal_customers(
    key: &SigningKey,
    scope: &str,
    q: &CustomerListQuery,
    after: After,
) -> String {
    key.seal(&Sealed {
        list: "customers".into(),
        scope: scope.into(),
        query: SealedQuery {
            state: None,
            field: q.search.as_ref().map(|f| match f.field {
                CustomerTextField::CompanyName => "company_name".into(),
                CustomerTextField::Domain => "domain".into(),
            }),
            op: q.search.as_ref().map(|f| op_str(f.op).into()),
            value: q.search.as_ref().map(|f| f.value.clone()),
            sort: None,
            descending: false,
            size: q.size,
        },
        key: after.key,
        id: after.id,
    })
}

pub(crate) fn open_customers(
    key: &SigningKey,
    scope: &str,
    token: &str,
) -> Result<(CustomerListQuery, After), Invalid> {
    let s: Sealed = key.open(token).ok_or_else(invalid_token)?;
    if s.list != "customers" || s.scope != scope {
        return Err(invalid_token());
    }
    let q = s.query;
    let search = open_search(&q, |f| match f {
        "company_name" => Some(CustomerTextField::CompanyName),
        "domain" => Some(CustomerTextField::Domain),
        _ => None,
    })?;
    Ok((
        CustomerListQuery {
            search,
            size: q.size,
        },
        After {
            key: s.key,
            id: s.id,
        },
    ))
}

/// A continuation token for a list ordered by id alone (role members): the list, its scope,
/// the page size and the last id.
pub(crate) fn seal_ids(key: &SigningKey, list: &str, scope: &str, size: u32, last: &str) -> String {
    key.seal(&Sealed {
        list: list.into(),
        scope: scope.into(),
        query: SealedQuery {
            state: None,
            field: None,
            op: None,
            value: None,
            sort: None,
            descending: false,
            size,
        },
        key: String::new(),
        id: last.into(),
    })
}

/// The page size and the last id sealed by [`seal_ids`] for this list and scope.
pub(crate) fn open_ids(
    key: &SigningKey,
    list: &str,
    scope: &str,
    token: &str,
) -> Result<(u32, String), Invalid> {
    let s: Sealed = key.open(token).ok_or_else(invalid_token)?;
    if s.list != list || s.scope != scope {
        return Err(invalid_token());
    }
    Ok((s.query.size, s.id))
}
