//! How lists are asked for: sort, filter, page size, and where the next page starts.

use crate::customer_user::UserState;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum SortDirection {
    Ascending,
    Descending,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum UserSortField {
    UserPrincipalName,
    DisplayName,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum UserTextField {
    UserPrincipalName,
    DisplayName,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum TextMatch {
    StartsWith,
    Substring,
}

/// A case-insensitive text search; `value` is already folded with [`sort_key`].
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct TextFilter<F> {
    pub field: F,
    pub op: TextMatch,
    pub value: String,
}

/// A page of a customer's users.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct UserListQuery {
    pub state: UserState,
    pub search: Option<TextFilter<UserTextField>>,
    pub sort: UserSortField,
    pub direction: SortDirection,
    pub size: u32,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum CustomerTextField {
    CompanyName,
    Domain,
}

/// A page of a partner's customers, by company name.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct CustomerListQuery {
    pub search: Option<TextFilter<CustomerTextField>>,
    pub size: u32,
}

/// Where a page starts: strictly after the item with this sort key and id (keyset paging,
/// so that inserts and deletes between pages neither repeat nor skip an item).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct After {
    pub key: String,
    pub id: String,
}

pub const DEFAULT_PAGE_SIZE: u32 = 100;
pub const MAX_PAGE_SIZE: u32 = 500;

/// The folded form that sorting, uniqueness and search compare.
pub fn sort_key(s: &str) -> String {
    s.to_lowercase()
}
