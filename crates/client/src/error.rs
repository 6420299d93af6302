//! The one error of the SDK: what the server said (status, Partner Center's code and
//! sentence, the problems) and which request it was, or why no answer came.

use serde_json::Value;

/// A call that did not succeed.
#[derive(Debug, thiserror::Error)]
#[error("{}", self.message())]
pub struct Error {
    /// The HTTP status, when the server answered.
    pub status: Option<u16>,
    /// Partner Center's error code (`60002` …), when the body carried one.
    pub code: Option<u32>,
    /// The server's sentence, or what went wrong on the way.
    pub description: String,
    /// The problems the server listed (`data`): the failing properties, or a bulk upload's
    /// `{row, column, message}` objects.
    pub data: Vec<Value>,
    /// The `MS-CorrelationId` of the call.
    pub correlation_id: String,
    /// The `MS-RequestId` of the request.
    pub request_id: String,
    pub(crate) kind: Kind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// The server answered with an error status.
    Status,
    /// No answer: the connection failed or timed out (after the retries).
    Transport,
    /// An answer that is not what the API sends.
    Decode,
    /// Signing in was refused (a wrong password, an unknown client, a temporary password).
    SignIn,
}

impl Error {
    fn message(&self) -> String {
        match (self.status, self.code) {
            (Some(s), Some(c)) => format!("{s} ({c}): {}", self.description),
            (Some(s), None) => format!("{s}: {}", self.description),
            _ => self.description.clone(),
        }
    }

    pub(crate) fn transport(e: &reqwest::Error, correlation_id: &str, request_id: &str) -> Self {
        Self {
            status: None,
            code: None,
            description: format!("no answer from the server: {e}"),
            data: Vec::new(),
            correlation_id: correlation_id.into(),
            request_id: request_id.into(),
            kind: Kind::Transport,
        }
    }

    pub(crate) fn decode(what: impl std::fmt::Display) -> Self {
        Self {
            status: None,
            code: None,
            description: format!("the server's answer could not be read: {what}"),
            data: Vec::new(),
            correlation_id: String::new(),
            request_id: String::new(),
            kind: Kind::Decode,
        }
    }

    pub(crate) fn sign_in(status: u16, description: String) -> Self {
        Self {
            status: Some(status),
            code: None,
            description,
            data: Vec::new(),
            correlation_id: String::new(),
            request_id: String::new(),
            kind: Kind::SignIn,
        }
    }

    /// The error of an answer with an error status: its Partner Center body when it has one.
    pub(crate) fn of_status(
        status: u16,
        body: &[u8],
        correlation_id: &str,
        request_id: &str,
    ) -> Self {
        let fault: Option<roster_wire::ApiFault> = serde_json::from_slice(body).ok();
        let (code, description, data) = match fault {
            Some(f) => (Some(f.code), f.description, f.data),
            None => (
                None,
                String::from_utf8_lossy(body)
                    .chars()
                    .take(1024)
                    .collect::<String>(),
                Vec::new(),
            ),
        };
        Self {
            status: Some(status),
            code,
            description: if description.is_empty() {
                format!("the server answered {status}")
            } else {
                description
            },
            data,
            correlation_id: correlation_id.into(),
            request_id: request_id.into(),
            kind: Kind::Status,
        }
    }

    /// The resource (or the customer) does not exist, or the caller may not see it.
    pub fn is_not_found(&self) -> bool {
        self.status == Some(404)
    }
    /// A conflict: a user name taken, a user deleted that must be restored first, a
    /// request id reused with another body.
    pub fn is_conflict(&self) -> bool {
        self.status == Some(409)
    }
    /// The input was refused (400): `data` says which properties.
    pub fn is_invalid(&self) -> bool {
        self.status == Some(400)
    }
    /// Not signed in, or the credentials were refused.
    pub fn is_unauthorized(&self) -> bool {
        self.status == Some(401) || self.kind == Kind::SignIn
    }
    /// Signed in, but the caller's roles do not allow it.
    pub fn is_forbidden(&self) -> bool {
        self.status == Some(403)
    }
    /// No answer came (after the retries).
    pub fn is_transport(&self) -> bool {
        self.kind == Kind::Transport
    }
}

/// The SDK's result.
pub type Result<T, E = Error> = std::result::Result<T, E>;
