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

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    fn key(secret: &[u8; 32]) -> SigningKey {
        SigningKey::from_secret(secret)
    }

    fn user_query() -> impl Strategy<Value = UserListQuery> {
        let search =
            proptest::option::of((any::<bool>(), any::<bool>(), any::<String>()).prop_map(
                |(upn, starts, value)| TextFilter {
                    field: if upn {
                        UserTextField::UserPrincipalName
                    } else {
                        UserTextField::DisplayName
                    },
                    op: if starts {
                        TextMatch::StartsWith
                    } else {
                        TextMatch::Substring
                    },
                    value,
                },
            ));
        (
            any::<bool>(),
            search,
            any::<bool>(),
            any::<bool>(),
            any::<u32>(),
        )
            .prop_map(|(active, search, by_upn, descending, size)| UserListQuery {
                state: if active {
                    UserState::Active
                } else {
                    UserState::Inactive
                },
                search,
                sort: if by_upn {
                    UserSortField::UserPrincipalName
                } else {
                    UserSortField::DisplayName
                },
                direction: if descending {
                    SortDirection::Descending
                } else {
                    SortDirection::Ascending
                },
                size,
            })
    }

    fn customer_query() -> impl Strategy<Value = CustomerListQuery> {
        let search =
            proptest::option::of((any::<bool>(), any::<bool>(), any::<String>()).prop_map(
                |(company, starts, value)| TextFilter {
                    field: if company {
                        CustomerTextField::CompanyName
                    } else {
                        CustomerTextField::Domain
                    },
                    op: if starts {
                        TextMatch::StartsWith
                    } else {
                        TextMatch::Substring
                    },
                    value,
                },
            ));
        (search, any::<u32>()).prop_map(|(search, size)| CustomerListQuery { search, size })
    }

    fn after() -> impl Strategy<Value = After> {
        (any::<String>(), any::<String>()).prop_map(|(key, id)| After { key, id })
    }

    /// Every opener refuses `token` under `key` and `scope` (the lists of ids by any name).
    fn refused_everywhere(
        key: &SigningKey,
        scope: &str,
        list: &str,
        token: &str,
    ) -> Result<(), TestCaseError> {
        prop_assert!(open_users(key, scope, token).is_err(), "users: {token}");
        prop_assert!(
            open_customers(key, scope, token).is_err(),
            "customers: {token}"
        );
        prop_assert!(
            open_ids(key, list, scope, token).is_err(),
            "{list}: {token}"
        );
        Ok(())
    }

    /// One character of `token` replaced by another (any, often one of base64's alphabet or
    /// the separator).
    fn tampered(token: &str, at: prop::sample::Index, with: char) -> Option<String> {
        let chars: Vec<char> = token.chars().collect();
        let i = at.index(chars.len());
        (chars[i] != with).then(|| {
            let mut changed = chars;
            changed[i] = with;
            changed.into_iter().collect()
        })
    }

    fn replacement() -> impl Strategy<Value = char> {
        prop_oneof![
            proptest::char::ranges(vec!['A'..='Z', 'a'..='z', '0'..='9'].into()),
            prop::sample::select(vec!['-', '_', '.', '=', '+', '/', ' ', '\n']),
            any::<char>(),
        ]
    }

    proptest! {
        /// A sealed page of users opens to the same query and position under the same key and
        /// scope, whatever the search text, the position and the scope.
        #[test]
        fn user_tokens_open_to_what_was_sealed(
            secret in any::<[u8; 32]>(),
            scope in any::<String>(),
            q in user_query(),
            after in after(),
        ) {
            let k = key(&secret);
            let token = seal_users(&k, &scope, &q, after.clone());
            prop_assert_eq!(open_users(&k, &scope, &token), Ok((q, after)));
        }

        /// The same for a page of customers.
        #[test]
        fn customer_tokens_open_to_what_was_sealed(
            secret in any::<[u8; 32]>(),
            scope in any::<String>(),
            q in customer_query(),
            after in after(),
        ) {
            let k = key(&secret);
            let token = seal_customers(&k, &scope, &q, after.clone());
            prop_assert_eq!(open_customers(&k, &scope, &token), Ok((q, after)));
        }

        /// The same for a list by id: its size and the last id.
        #[test]
        fn id_tokens_open_to_what_was_sealed(
            secret in any::<[u8; 32]>(),
            list in "[a-z_]{1,20}",
            scope in any::<String>(),
            size in any::<u32>(),
            last in any::<String>(),
        ) {
            let k = key(&secret);
            let token = seal_ids(&k, &list, &scope, size, &last);
            prop_assert_eq!(open_ids(&k, &list, &scope, &token), Ok((size, last)));
        }

        /// A token with any one character changed is refused by every opener: never taken as
        /// another position or query.
        #[test]
        fn a_token_with_one_character_changed_is_refused(
            secret in any::<[u8; 32]>(),
            scope in "[a-z0-9-]{0,36}",
            q in user_query(),
            c in customer_query(),
            after in after(),
            kind in 0..3u8,
            at in any::<prop::sample::Index>(),
            with in replacement(),
        ) {
            let k = key(&secret);
            let token = match kind {
                0 => seal_users(&k, &scope, &q, after.clone()),
                1 => seal_customers(&k, &scope, &c, after.clone()),
                _ => seal_ids(&k, "role_members", &scope, q.size, &after.id),
            };
            if let Some(bad) = tampered(&token, at, with) {
                refused_everywhere(&k, &scope, "role_members", &bad)?;
            }
        }

        /// A token cut short, or with anything but white space added, is refused.
        #[test]
        fn a_token_cut_or_extended_is_refused(
            secret in any::<[u8; 32]>(),
            q in user_query(),
            after in after(),
            cut in any::<prop::sample::Index>(),
            extra in "[A-Za-z0-9._=-]{1,4}",
            front in any::<bool>(),
        ) {
            let k = key(&secret);
            let token = seal_users(&k, "scope", &q, after);
            let chars: Vec<char> = token.chars().collect();
            let short: String = chars[..cut.index(chars.len())].iter().collect();
            refused_everywhere(&k, "scope", "users", &short)?;
            let longer = if front { format!("{extra}{token}") } else { format!("{token}{extra}") };
            refused_everywhere(&k, "scope", "users", &longer)?;
        }

        /// A token opens only under the key that sealed it, for the scope and the list it was
        /// sealed for.
        #[test]
        fn a_token_opens_only_under_its_key_scope_and_list(
            secret in any::<[u8; 32]>(),
            other_secret in any::<[u8; 32]>(),
            scope in any::<String>(),
            other_scope in any::<String>(),
            q in user_query(),
            after in after(),
        ) {
            prop_assume!(secret != other_secret && scope != other_scope);
            let k = key(&secret);
            let users = seal_users(&k, &scope, &q, after.clone());
            let customers = seal_customers(&k, &scope, &CustomerListQuery { search: None, size: q.size }, after.clone());
            let ids = seal_ids(&k, "role_members", &scope, q.size, &after.id);
            for token in [&users, &customers, &ids] {
                refused_everywhere(&key(&other_secret), &scope, "role_members", token)?;
                refused_everywhere(&k, &other_scope, "role_members", token)?;
            }
            // Each list's token opens as its own list only.
            prop_assert!(open_customers(&k, &scope, &users).is_err());
            prop_assert!(open_ids(&k, "role_members", &scope, &users).is_err());
            prop_assert!(open_users(&k, &scope, &customers).is_err());
            prop_assert!(open_ids(&k, "role_members", &scope, &customers).is_err());
            prop_assert!(open_users(&k, &scope, &ids).is_err());
            prop_assert!(open_customers(&k, &scope, &ids).is_err());
            prop_assert!(open_ids(&k, "other_members", &scope, &ids).is_err());
        }

        /// Whatever the text, alone or after the key's own id, opening answers (no panic) and
        /// refuses it.
        #[test]
        fn arbitrary_text_is_refused(
            secret in any::<[u8; 32]>(),
            text in prop_oneof![
                any::<String>(),
                "[A-Za-z0-9_-]{0,60}\\.[A-Za-z0-9_-]{0,30}",
            ],
        ) {
            let k = key(&secret);
            refused_everywhere(&k, "scope", "role_members", &text)?;
            refused_everywhere(&k, "scope", "role_members", &format!("{}.{text}", k.id()))?;
        }
    }
}
