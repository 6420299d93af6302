//! Identifiers are newtypes so that a user id can never be passed where a customer id belongs.

use std::fmt;
use std::str::FromStr;

use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
        pub struct $name(Uuid);

        impl $name {
            /// A fresh random id.
            pub fn new_random() -> Self {
                Self(Uuid::new_v4())
            }
            pub fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }
            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl fmt::Display for $name {
            /// The canonical lower-case hyphenated form used on the wire and in storage.
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0.hyphenated(), f)
            }
        }

        /// As its canonical text (audit records hold ids as JSON strings).
        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                parse_guid(s).map(Self)
            }
        }
    };
}

id_type!(
    /// The tenant id of a partner (a reseller's own organisation).
    PartnerId
);
id_type!(
    /// The tenant id of a customer of a partner.
    CustomerId
);
id_type!(
    /// The object id of a directory user, in a partner's or a customer's tenant.
    UserId
);
id_type!(
    /// A security group of a partner tenant.
    GroupId
);
id_type!(
    /// An application a partner registered: its OAuth client id.
    ApplicationId
);
id_type!(
    /// An invitation of an outside user.
    InvitationId
);
id_type!(
    /// A granular delegated admin relationship.
    RelationshipId
);

/// Parses a GUID as clients send it: hyphenated, any case, optionally in braces
/// (the Partner Center PowerShell module accepts `{...}`). The simple 32-hex form is refused
/// so that an id has exactly one spelling per value on the wire.
pub fn parse_guid(s: &str) -> Result<Uuid, uuid::Error> {
    let inner = s
        .strip_prefix('{')
        .and_then(|rest| rest.strip_suffix('}'))
        .unwrap_or(s);
    if inner.len() != 36 {
        // Only the hyphenated form: let uuid produce its error for a wrong length.
        return Uuid::try_parse("x");
    }
    Uuid::try_parse(inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guid_forms() {
        let ok = [
            "62e90394-69f5-4237-9190-012177145e10",
            "62E90394-69F5-4237-9190-012177145E10",
            "{62e90394-69f5-4237-9190-012177145e10}",
        ];
        for s in ok {
            let id: UserId = s.parse().unwrap();
            assert_eq!(id.to_string(), "62e90394-69f5-4237-9190-012177145e10");
        }
        let bad = [
            "",
            "not-a-guid",
            "62e9039469f542379190012177145e10",
            "62e90394-69f5-4237-9190-012177145e1",
            "62e90394-69f5-4237-9190-012177145e10x",
            "{62e90394-69f5-4237-9190-012177145e10",
            "urn:uuid:62e90394-69f5-4237-9190-012177145e10",
        ];
        for s in bad {
            assert!(s.parse::<UserId>().is_err(), "{s} should be refused");
        }
    }
}
