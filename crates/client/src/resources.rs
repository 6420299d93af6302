//! The resources, as the .NET SDK's fluent operations: customers, their users, licences,
//! seats and bulk upload. Lists are streams that follow the continuation tokens themselves;
//! `page` calls fetch one page at a time.

use futures_util::stream::{self, BoxStream, StreamExt, TryStreamExt};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use reqwest::Method;
use roster_wire::{
    Collection, CustomerBody, CustomerRequest, CustomerUserBody, CustomerUserRequest, LicenseBody,
    LicenseUpdateBody, LicenseUpdateRequest, ResetPasswordRequest, SubscribedSkuBody,
};
use serde::de::DeserializeOwned;

use crate::error::Result;
use crate::transport::{Call, Partner};

/// What a path segment must escape: everything but RFC 3986's unreserved characters (an id
/// or a UPN goes into the path as it is, `@` and other reserved characters escaped).
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

pub(crate) fn seg(s: &str) -> String {
    utf8_percent_encode(s.trim(), SEGMENT).to_string()
}

/// A list's first page as `first`, then pages by continuation token, as one stream of items.
pub(crate) fn paged<T: DeserializeOwned + Send + 'static>(
    partner: Partner,
    first: Call,
) -> Items<T> {
    enum Next {
        First(Call),
        Token(String, String),
        Done,
    }
    stream::try_unfold(Next::First(first), move |next| {
        let partner = partner.clone();
        async move {
            let (call, path) = match next {
                Next::Done => return Ok(None),
                Next::First(call) => {
                    let path = call.path.clone();
                    (call, path)
                }
                Next::Token(path, token) => (
                    Call::new(Method::GET, path.clone())
                        .query("seekOperation", "Next")
                        .header("MS-ContinuationToken", token),
                    path,
                ),
            };
            let page: Collection<T> = partner.send(call).await?.json()?;
            let next = match page.continuation_token.filter(|t| !t.is_empty()) {
                Some(t) => Next::Token(path, t),
                None => Next::Done,
            };
            Ok(Some((page.items, next)))
        }
    })
    .map_ok(|items| stream::iter(items.into_iter().map(Ok)))
    .try_flatten()
    .boxed()
}

/// The items of a list, page after page as they are needed (a stream of results; boxed,
/// so that `try_next` works on it as it is).
pub type Items<T> = BoxStream<'static, Result<T>>;

/// One page of a list: the first (`token` `None`) or the one a continuation token names.
async fn one_page<T: DeserializeOwned>(
    partner: &Partner,
    first: Call,
    token: Option<&str>,
) -> Result<Collection<T>> {
    let call = match token {
        None => first,
        Some(t) => Call::new(Method::GET, first.path)
            .query("seekOperation", "Next")
            .header("MS-ContinuationToken", t),
    };
    partner.send(call).await?.json()
}

/// Which customers a list holds.
#[derive(Clone, Debug, Default)]
pub struct CustomerQuery {
    filter: Option<(&'static str, String)>,
    size: Option<u32>,
}

impl CustomerQuery {
    /// Every customer.
    pub fn all() -> Self {
        Self::default()
    }
    /// Customers whose company name contains `text`.
    pub fn search(text: impl Into<String>) -> Self {
        Self {
            filter: Some(("CompanyName", text.into())),
            size: None,
        }
    }
    /// Customers whose domain contains `text`.
    pub fn domain(text: impl Into<String>) -> Self {
        Self {
            filter: Some(("Domain", text.into())),
            size: None,
        }
    }
    /// Items a page (the server's default when not given).
    pub fn size(mut self, size: u32) -> Self {
        self.size = Some(size);
        self
    }
    fn call(&self) -> Call {
        let mut call = Call::new(Method::GET, "/v1/customers");
        if let Some((field, value)) = &self.filter {
            call = call.query(
                "filter",
                serde_json::json!({"Field": field, "Value": value, "Operator": "substring"})
                    .to_string(),
            );
        }
        if let Some(s) = self.size {
            call = call.query("size", s.to_string());
        }
        call
    }
}

/// Which users of a customer a list holds.
#[derive(Clone, Debug, Default)]
pub struct UserQuery {
    filter: Option<serde_json::Value>,
    sort: Option<(&'static str, bool)>,
    size: Option<u32>,
}

impl UserQuery {
    /// The active users.
    pub fn active() -> Self {
        Self::default()
    }
    /// The soft-deleted users (restorable until the purge).
    pub fn deleted() -> Self {
        Self {
            filter: Some(
                serde_json::json!({"Field": "UserState", "Value": "Inactive", "Operator": "equals"}),
            ),
            ..Self::default()
        }
    }
    /// Active users whose display name contains `text`.
    pub fn search(mut self, text: impl Into<String>) -> Self {
        self.filter = Some(serde_json::json!({
            "Field": "DisplayName", "Value": text.into(), "Operator": "substring"
        }));
        self
    }
    /// Active users whose user principal name starts with `prefix`.
    pub fn upn_starts_with(mut self, prefix: impl Into<String>) -> Self {
        self.filter = Some(serde_json::json!({
            "Field": "UserPrincipalName", "Value": prefix.into(), "Operator": "starts_with"
        }));
        self
    }
    /// By display name instead of user principal name.
    pub fn by_display_name(mut self) -> Self {
        self.sort = Some(("DisplayName", self.sort.is_some_and(|(_, d)| d)));
        self
    }
    /// The other way round (Z to A).
    pub fn descending(mut self) -> Self {
        self.sort = Some((self.sort.map_or("UserPrincipalName", |(f, _)| f), true));
        self
    }
    /// Items a page (the server's default when not given).
    pub fn size(mut self, size: u32) -> Self {
        self.size = Some(size);
        self
    }
    fn call(&self, path: String) -> Call {
        let mut call = Call::new(Method::GET, path);
        if let Some(f) = &self.filter {
            call = call.query("filter", f.to_string());
        }
        if let Some((field, descending)) = self.sort {
            call = call.query("sortField", field).query(
                "sortDirection",
                if descending {
                    "descending"
                } else {
                    "ascending"
                },
            );
        }
        if let Some(s) = self.size {
            call = call.query("size", s.to_string());
        }
        call
    }
}

/// `partner.customers()`.
#[derive(Clone, Debug)]
pub struct Customers {
    partner: Partner,
}

impl Partner {
    /// The partner's customers (`partner.Customers` of the .NET SDK).
    pub fn customers(&self) -> Customers {
        Customers {
            partner: self.clone(),
        }
    }
}

impl Customers {
    /// Every customer of the partner.
    pub fn list(&self) -> Items<CustomerBody> {
        self.query(CustomerQuery::all())
    }
    /// The customers a query names.
    pub fn query(&self, q: CustomerQuery) -> Items<CustomerBody> {
        paged(self.partner.clone(), q.call())
    }
    /// One page of a list: the first, or the one after `continuation`.
    pub async fn page(
        &self,
        q: &CustomerQuery,
        continuation: Option<&str>,
    ) -> Result<Collection<CustomerBody>> {
        one_page(&self.partner, q.call(), continuation).await
    }
    /// Creates a customer: `companyProfile.domain` is required and unique.
    pub async fn create(&self, customer: &CustomerRequest) -> Result<CustomerBody> {
        self.partner
            .send(Call::new(Method::POST, "/v1/customers").json(customer)?)
            .await?
            .json()
    }
    /// One customer, by its id.
    pub fn by_id(&self, id: &str) -> CustomerOps {
        CustomerOps {
            partner: self.partner.clone(),
            path: format!("/v1/customers/{}", seg(id)),
        }
    }
}

/// `partner.customers().by_id(c)`.
#[derive(Clone, Debug)]
pub struct CustomerOps {
    partner: Partner,
    path: String,
}

impl CustomerOps {
    pub(crate) fn partner(&self) -> &Partner {
        &self.partner
    }
    pub(crate) fn path(&self) -> &str {
        &self.path
    }
    /// The customer.
    pub async fn get(&self) -> Result<CustomerBody> {
        self.partner
            .send(Call::new(Method::GET, self.path.clone()))
            .await?
            .json()
    }
    /// The customer's users.
    pub fn users(&self) -> CustomerUsers {
        CustomerUsers {
            partner: self.partner.clone(),
            path: format!("{}/users", self.path),
        }
    }
    /// The customer's seats of each product: total, assigned, available.
    pub async fn subscribed_skus(&self) -> Result<Vec<SubscribedSkuBody>> {
        let c: Collection<SubscribedSkuBody> = self
            .partner
            .send(Call::new(
                Method::GET,
                format!("{}/subscribedskus", self.path),
            ))
            .await?
            .json()?;
        Ok(c.items)
    }
}

/// `partner.customers().by_id(c).users()`.
#[derive(Clone, Debug)]
pub struct CustomerUsers {
    partner: Partner,
    path: String,
}

impl CustomerUsers {
    /// Creates a user; without `passwordProfile.password`, the answer shows the temporary
    /// password Roster generated, this once.
    pub async fn create(&self, user: &CustomerUserRequest) -> Result<CustomerUserBody> {
        self.partner
            .send(Call::new(Method::POST, self.path.clone()).json(user)?)
            .await?
            .json()
    }
    /// The users a query names, page after page.
    pub fn list(&self, q: UserQuery) -> Items<CustomerUserBody> {
        paged(self.partner.clone(), q.call(self.path.clone()))
    }
    /// The soft-deleted users.
    pub fn deleted(&self) -> Items<CustomerUserBody> {
        self.list(UserQuery::deleted())
    }
    /// One page of a list: the first, or the one after `continuation`.
    pub async fn page(
        &self,
        q: &UserQuery,
        continuation: Option<&str>,
    ) -> Result<Collection<CustomerUserBody>> {
        one_page(&self.partner, q.call(self.path.clone()), continuation).await
    }
    /// Creates a user for every row of a CSV file (`First name,Last name,Display name,Email,
    /// Status update`), all in `usage_location`, or none; answers the result file (the rows
    /// with their temporary passwords, shown this once).
    pub async fn bulk_upload(&self, csv: Vec<u8>, usage_location: &str) -> Result<String> {
        let answer = self
            .partner
            .send(self.upload(csv, usage_location, "text/csv"))
            .await?;
        String::from_utf8(answer.body).map_err(crate::error::Error::decode)
    }
    /// [`bulk_upload`](Self::bulk_upload), answering the created users as a create answers
    /// each, with `passwordProfile.password` (`None` where a retry of an upload that had
    /// already been made was answered: the passwords are shown only once).
    pub async fn bulk_upload_users(
        &self,
        csv: Vec<u8>,
        usage_location: &str,
    ) -> Result<Vec<CustomerUserBody>> {
        let c: Collection<CustomerUserBody> = self
            .partner
            .send(self.upload(csv, usage_location, "application/json"))
            .await?
            .json()?;
        Ok(c.items)
    }
    /// Checks a file as [`bulk_upload`](Self::bulk_upload) would, creating no one: the
    /// number of users it holds, or the error an upload would answer (every problem in
    /// [`Error::data`](crate::Error::data), as `{row, column, message}`).
    pub async fn validate_bulk_upload(&self, csv: Vec<u8>, usage_location: &str) -> Result<usize> {
        #[derive(serde::Deserialize)]
        struct Checked {
            rows: usize,
        }
        let call = self
            .upload(csv, usage_location, "application/json")
            .query("validateOnly", "true");
        let c: Checked = self.partner.send(call).await?.json()?;
        Ok(c.rows)
    }
    fn upload(&self, csv: Vec<u8>, usage_location: &str, accept: &'static str) -> Call {
        let mut call = Call::new(Method::POST, format!("{}/bulkupload", self.path))
            .query("usageLocation", usage_location)
            .header("Accept", accept);
        call.body = Some(("text/csv", csv));
        call
    }
    /// One user, by its id.
    pub fn by_id(&self, id: &str) -> CustomerUserOps {
        CustomerUserOps {
            partner: self.partner.clone(),
            path: format!("{}/{}", self.path, seg(id)),
        }
    }
}

/// `partner.customers().by_id(c).users().by_id(u)`.
#[derive(Clone, Debug)]
pub struct CustomerUserOps {
    partner: Partner,
    path: String,
}

impl CustomerUserOps {
    pub(crate) fn partner(&self) -> &Partner {
        &self.partner
    }
    pub(crate) fn path(&self) -> &str {
        &self.path
    }
    /// The user, active or soft-deleted.
    pub async fn get(&self) -> Result<CustomerUserBody> {
        self.partner
            .send(Call::new(Method::GET, self.path.clone()))
            .await?
            .json()
    }
    /// Changes the properties `changes` carries (and only those).
    pub async fn patch(&self, changes: &CustomerUserRequest) -> Result<CustomerUserBody> {
        self.partner
            .send(Call::new(Method::PATCH, self.path.clone()).json(changes)?)
            .await?
            .json()
    }
    /// Deletes softly: restorable until the purge.
    pub async fn delete(&self) -> Result<()> {
        self.partner
            .send(Call::new(Method::DELETE, self.path.clone()))
            .await?;
        Ok(())
    }
    /// Brings a soft-deleted user back (with its licences, where seats are free).
    pub async fn restore(&self) -> Result<CustomerUserBody> {
        self.patch(&CustomerUserRequest {
            state: Some("active".into()),
            ..Default::default()
        })
        .await
    }
    /// A new temporary password, generated by the server and shown this once in
    /// `passwordProfile.password`; `force_change_password` defaults to true.
    pub async fn reset_password(
        &self,
        force_change_password: Option<bool>,
    ) -> Result<CustomerUserBody> {
        let body = ResetPasswordRequest {
            force_change_password,
        };
        self.partner
            .send(Call::new(Method::POST, format!("{}/resetpassword", self.path)).json(&body)?)
            .await?
            .json()
    }
    /// The licences the user holds.
    pub async fn licenses(&self) -> Result<Vec<LicenseBody>> {
        let c: Collection<LicenseBody> = self
            .partner
            .send(Call::new(Method::GET, format!("{}/licenses", self.path)))
            .await?
            .json()?;
        Ok(c.items)
    }
    /// Assigns and removes licences in one step, all or nothing.
    pub async fn update_licenses(
        &self,
        update: &LicenseUpdateRequest,
    ) -> Result<LicenseUpdateBody> {
        self.partner
            .send(Call::new(Method::POST, format!("{}/licenseupdates", self.path)).json(update)?)
            .await?
            .json()
    }
}
