//! What every resource shares: links, attributes, collections.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, SchemaType, Type};
use utoipa::openapi::{Ref, RefOr, Schema};
use utoipa::ToSchema;

#[derive(Serialize, Deserialize, ToSchema, Debug, Clone, PartialEq)]
pub struct KeyValue {
    pub key: String,
    pub value: String,
}

#[derive(Serialize, Deserialize, ToSchema, Debug, Clone, PartialEq, Default)]
pub struct Link {
    /// A path relative to the API root, without `/v1` (as Partner Center returns it).
    pub uri: String,
    pub method: String,
    pub headers: Vec<KeyValue>,
}

impl Link {
    pub fn get(uri: impl Into<String>) -> Self {
        Self {
            uri: uri.into(),
            method: "GET".into(),
            headers: vec![],
        }
    }
}

#[derive(Serialize, Deserialize, ToSchema, Debug, Clone, PartialEq, Default)]
pub struct SelfLinks {
    #[serde(rename = "self")]
    pub self_: Link,
}

#[derive(Serialize, Deserialize, ToSchema, Debug, Clone, PartialEq, Default)]
pub struct CollectionLinks {
    #[serde(rename = "self")]
    pub self_: Link,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<Link>,
}

#[derive(Serialize, Deserialize, ToSchema, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Attributes {
    pub object_type: String,
    /// A quoted opaque string that changes on every write (users only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
}

impl Attributes {
    pub fn of(object_type: &str) -> Self {
        Self {
            object_type: object_type.into(),
            etag: None,
        }
    }
}

/// A list of resources as Partner Center sends it: `totalCount` (the items in this
/// response), `items`, `links`, `attributes` and, on paged lists, `continuationToken` (`""` on
/// the last page) with `links.next`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Collection<T> {
    pub total_count: usize,
    pub items: Vec<T>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub continuation_token: Option<String>,
    // Partner Center leaves them out of some lists (licences, subscribed SKUs).
    #[serde(default)]
    pub links: CollectionLinks,
    pub attributes: Attributes,
}

/// What a collection holds: names the collection's schema in the OpenAPI document (each
/// kind of collection keeps a name of its own there, `CustomerCollection`, as generated
/// clients know it).
pub trait CollectionItem {
    const COLLECTION: &'static str;
    const DESCRIPTION: &'static str;
}

impl<T> Collection<T> {
    /// Every item in one response.
    pub fn whole(items: Vec<T>, self_uri: impl Into<String>) -> Self {
        Self {
            total_count: items.len(),
            items,
            continuation_token: None,
            links: CollectionLinks {
                self_: Link::get(self_uri),
                next: None,
            },
            attributes: Attributes::of("Collection"),
        }
    }

    /// One page of a paged list at `base`, and the token of the next page (`""` on the last
    /// page).
    pub fn paged(items: Vec<T>, base: &str, continuation: Option<String>) -> Self {
        Self {
            total_count: items.len(),
            items,
            links: paged_links(base, base.to_string(), &continuation),
            continuation_token: Some(continuation.unwrap_or_default()),
            attributes: Attributes::of("Collection"),
        }
    }
}

/// The links of a paged collection: `next` carries the token as an `MS-ContinuationToken`
/// header, which is how Partner Center's SDKs follow pages.
pub fn paged_links(base: &str, self_uri: String, continuation: &Option<String>) -> CollectionLinks {
    CollectionLinks {
        self_: Link::get(self_uri),
        next: continuation.as_ref().map(|token| Link {
            uri: format!("{base}?seekOperation=Next"),
            method: "GET".into(),
            headers: vec![KeyValue {
                key: "MS-ContinuationToken".into(),
                value: token.clone(),
            }],
        }),
    }
}

impl<T: ToSchema + CollectionItem> utoipa::PartialSchema for Collection<T> {
    fn schema() -> RefOr<Schema> {
        let integer = ObjectBuilder::new()
            .schema_type(Type::Integer)
            .minimum(Some(0))
            .description(Some("The number of items in this response."));
        let token = ObjectBuilder::new()
            .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
            .description(Some(
                "On paged lists: the token for the next page, `\"\"` on the last page.",
            ));
        ObjectBuilder::new()
            .description(Some(T::DESCRIPTION))
            .property("totalCount", integer)
            .required("totalCount")
            .property(
                "items",
                ArrayBuilder::new().items(Ref::from_schema_name(T::name())),
            )
            .required("items")
            .property("continuationToken", token)
            .property("links", Ref::from_schema_name(CollectionLinks::name()))
            .required("links")
            .property("attributes", Ref::from_schema_name(Attributes::name()))
            .required("attributes")
            .into()
    }
}

impl<T: ToSchema + CollectionItem> ToSchema for Collection<T> {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed(T::COLLECTION)
    }

    /// The schemas this one refers to, for the document's components.
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        use utoipa::PartialSchema;
        schemas.push((T::name().into(), T::schema()));
        T::schemas(schemas);
        schemas.push((CollectionLinks::name().into(), CollectionLinks::schema()));
        CollectionLinks::schemas(schemas);
        schemas.push((Attributes::name().into(), Attributes::schema()));
        Attributes::schemas(schemas);
    }
}
