//! Page sizes (chosen, and remembered in a cookie) and the links between pages. Lists page
//! by keyset (the service's continuation tokens), so a page costs one query however deep.

use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::Response;
use roster_domain::listing::After;
use roster_service::{Cursor, Window};

/// The sizes a person can choose.
pub(crate) const SIZES: [u32; 4] = [20, 50, 100, 200];
const DEFAULT: u32 = 50;
const COOKIE: &str = "roster_page_size";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PageSize {
    size: u32,
    /// Chosen in this request's URL: remembered for the next lists.
    chosen_now: bool,
}

impl PageSize {
    /// The size in the URL, else the one remembered, else 50.
    pub(crate) fn chosen(in_url: Option<&str>, headers: &HeaderMap) -> Self {
        let parse = |s: &str| s.trim().parse::<u32>().ok().filter(|n| SIZES.contains(n));
        if let Some(size) = in_url.and_then(parse) {
            return Self {
                size,
                chosen_now: true,
            };
        }
        let remembered = headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(name, _)| *name == COOKIE)
            .and_then(|(_, v)| parse(v));
        Self {
            size: remembered.unwrap_or(DEFAULT),
            chosen_now: false,
        }
    }

    pub(crate) fn get(self) -> u32 {
        self.size
    }

    /// Remembers a size chosen in this request (a year; it is a preference, not a secret).
    pub(crate) fn remember(self, response: &mut Response) {
        if !self.chosen_now {
            return;
        }
        let cookie = format!(
            "{COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax",
            self.size
        );
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(header::SET_COOKIE, v);
        }
    }
}

/// The links of a paged table.
pub(crate) struct Pager {
    /// The first page (None when this is it).
    pub(crate) first: Option<String>,
    pub(crate) prev: Option<String>,
    /// The next page (None on the last).
    pub(crate) next: Option<String>,
    pub(crate) last: Option<String>,
    pub(crate) size: u32,
    pub(crate) sizes: &'static [u32],
    /// The list's URL without a size (for the size links).
    pub(crate) base_without_size: String,
}

fn without_size(base: &str) -> String {
    base.split('&')
        .filter(|part| !part.starts_with("size="))
        .collect::<Vec<_>>()
        .join("&")
}

impl Pager {
    /// Forward paging by a continuation token: first and next. `base` is the list's URL with
    /// its query (search, sort, tab, size), without a page.
    pub(crate) fn new(base: &str, on_later_page: bool, next: Option<&str>, size: PageSize) -> Self {
        let with = |token: &str| format!("{base}&page={}", crate::layout::query_escape(token));
        Self {
            first: on_later_page.then(|| base.to_string()),
            prev: None,
            next: next.map(with),
            last: None,
            size: size.get(),
            sizes: &SIZES,
            base_without_size: without_size(base),
        }
    }

    /// Keyset paging both ways (a [`Window`] of the list): first, previous, next, last.
    pub(crate) fn both_ways<T>(base: &str, window: &Window<T>, size: PageSize) -> Self {
        let at = |c: &After, backward: bool| {
            format!(
                "{base}&cursor={}",
                crate::layout::query_escape(&encode_cursor(&Cursor {
                    after: c.clone(),
                    backward,
                }))
            )
        };
        Self {
            first: window.more_before.then(|| base.to_string()),
            prev: window
                .first
                .as_ref()
                .filter(|_| window.more_before)
                .map(|c| at(c, true)),
            next: window
                .last
                .as_ref()
                .filter(|_| window.more_after)
                .map(|c| at(c, false)),
            last: window.more_after.then(|| format!("{base}&end=1")),
            size: size.get(),
            sizes: &SIZES,
            base_without_size: without_size(base),
        }
    }
}

/// A cursor as it stands in a URL: `f` or `b`, the item's id, and its sort key (the key
/// last: it may hold any character). Only the caller's own list is paged by it: the
/// service checks the rights and the scope as for any page.
pub(crate) fn encode_cursor(c: &Cursor) -> String {
    format!(
        "{}.{}.{}",
        if c.backward { "b" } else { "f" },
        c.after.id,
        c.after.key
    )
}

pub(crate) fn decode_cursor(s: &str) -> Option<Cursor> {
    let (dir, rest) = s.split_once('.')?;
    let (id, key) = rest.split_once('.')?;
    let backward = match dir {
        "f" => false,
        "b" => true,
        _ => return None,
    };
    Some(Cursor {
        after: After {
            key: key.to_string(),
            id: id.to_string(),
        },
        backward,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_survive_the_url() {
        let c = Cursor {
            after: After {
                key: "ada . lovelace.x".into(),
                id: "5d1c2a64-1c3f-4c5e-9a7b-0e2f3a4b5c6d".into(),
            },
            backward: true,
        };
        assert_eq!(decode_cursor(&encode_cursor(&c)), Some(c));
        assert_eq!(decode_cursor("x.1.2"), None);
        assert_eq!(decode_cursor("f"), None);
    }
}
