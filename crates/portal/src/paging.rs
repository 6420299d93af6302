//! Page sizes (chosen, and remembered in a cookie) and the links between pages. Lists page
//! by keyset (the service's continuation tokens), so a page costs one query however deep.

use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::Response;

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
    /// The next page (None on the last).
    pub(crate) next: Option<String>,
    pub(crate) size: u32,
    pub(crate) sizes: &'static [u32],
    /// The list's URL without a size (for the size links).
    pub(crate) base_without_size: String,
}

impl Pager {
    /// `base` is the list's URL with its query (search, sort, tab, size), without a page.
    pub(crate) fn new(base: &str, on_later_page: bool, next: Option<&str>, size: PageSize) -> Self {
        let with = |token: &str| format!("{base}&page={}", crate::layout::query_escape(token));
        let base_without_size = base
            .split('&')
            .filter(|part| !part.starts_with("size="))
            .collect::<Vec<_>>()
            .join("&");
        Self {
            first: on_later_page.then(|| base.to_string()),
            next: next.map(with),
            size: size.get(),
            sizes: &SIZES,
            base_without_size,
        }
    }
}
