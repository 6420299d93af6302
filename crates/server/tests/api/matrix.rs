//! The permission table of access.md, walked whole and through both doors that exist: over
//! HTTP, and through the service layer directly (as the CLI and the portal will call it).
//!
//! The expected answers are written here from access.md, independently of
//! `roster_domain::authz` (whose own unit tests walk the same table): every partner role ×
//! every partner-level operation, every partner role under legacy delegated access, and every
//! directory role × every customer-user operation × every target tier. Every refused call is
//! checked to have changed nothing and written no audit record.

use reqwest::{Method, StatusCode};
use roster_domain::authz::{DirectoryRole, PartnerRole};
use roster_domain::customer_user::UserInput;
use roster_domain::{CustomerId, Timestamp, UserId};
use roster_service::paging::ListRequest;
use roster_service::{Ctx, ServiceError};
use serde_json::{json, Value};

use crate::common::*;

const PASSWORD: &str = "Tq7#vLm2xR-matrix";

/// Power BI Pro: the product the licence cases assign and remove.
const LICENSED: &str = "f8a1db68-be16-40ed-86d5-cb42ce701560";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Door {
    Http,
    Service,
}

const DOORS: [Door; 2] = [Door::Http, Door::Service];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    Allowed,
    /// 403 900150.
    Forbidden,
    /// 404 60003: the customer's existence is not revealed.
    Hidden,
}

fn over_http(got: (StatusCode, Value)) -> Outcome {
    if got.0.is_success() {
        return Outcome::Allowed;
    }
    match (got.0, got.1["code"].as_u64()) {
        (StatusCode::FORBIDDEN, Some(900150)) => Outcome::Forbidden,
        (StatusCode::NOT_FOUND, Some(60003)) => Outcome::Hidden,
        _ => panic!("neither allowed nor refused: {got:?}"),
    }
}

fn through_service<T: std::fmt::Debug>(got: Result<T, ServiceError>) -> Outcome {
    match got {
        Ok(_) => Outcome::Allowed,
        Err(ServiceError::Forbidden(_)) => Outcome::Forbidden,
        Err(ServiceError::CustomerNotFound) => Outcome::Hidden,
        Err(e) => panic!("neither allowed nor refused: {e:?}"),
    }
}

/// A signed-in caller, as both doors see it.
struct Caller {
    token: String,
    ctx: Ctx,
}

async fn caller(app: &TestApp, upn: &str) -> Caller {
    let token = app.sign_in(upn, PASSWORD).await.expect("signs in");
    let actor = app.roster.authenticate(&token).await.unwrap();
    Caller {
        token,
        ctx: Ctx {
            actor,
            request_id: uuid::Uuid::new_v4().to_string(),
            correlation_id: uuid::Uuid::new_v4().to_string(),
        },
    }
}

/// A partner user with these account properties (roles, groups) and a known password.
async fn partner_user(app: &TestApp, alias: &str, access: Value) -> (String, String) {
    let upn = format!("{alias}@partner.local");
    let mut body = json!({"userPrincipalName": upn, "displayName": alias,
        "passwordProfile": {"password": PASSWORD, "forceChangePassword": false}});
    for (k, v) in access.as_object().unwrap() {
        body[k] = v.clone();
    }
    let (s, b) = app.post("/v1/users", body).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    (upn, b["id"].as_str().unwrap().to_string())
}

// ------------------------------------------------------------------ partner level

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PartnerOp {
    ViewCustomers,
    CreateCustomer,
    /// Turn legacy delegated access off (an edit of the customer).
    DisableLegacyAccess,
    /// Turn it back on: Global admin only.
    EnableLegacyAccess,
    ViewAccountUsers,
    ManageAccountUsers,
    GrantGlobalAdmin,
    CreateDirectoryUser,
    ResetPartnerPassword,
    ViewUserHistory,
    ViewAudit,
    ViewRelationships,
    CreateRelationship,
    ApproveRelationship,
    RegisterApplication,
}

const PARTNER_OPS: [PartnerOp; 15] = [
    PartnerOp::ViewCustomers,
    PartnerOp::CreateCustomer,
    PartnerOp::DisableLegacyAccess,
    PartnerOp::EnableLegacyAccess,
    PartnerOp::ViewAccountUsers,
    PartnerOp::ManageAccountUsers,
    PartnerOp::GrantGlobalAdmin,
    PartnerOp::CreateDirectoryUser,
    PartnerOp::ResetPartnerPassword,
    PartnerOp::ViewUserHistory,
    PartnerOp::ViewAudit,
    PartnerOp::ViewRelationships,
    PartnerOp::CreateRelationship,
    PartnerOp::ApproveRelationship,
    PartnerOp::RegisterApplication,
];

/// access.md, "Partner roles".
fn partner_spec(role: PartnerRole, op: PartnerOp) -> bool {
    use PartnerOp::*;
    use PartnerRole::*;
    match role {
        GlobalAdmin => true,
        UserManagementAdmin => matches!(op, ViewAccountUsers | ManageAccountUsers),
        AdminAgent => matches!(
            op,
            ViewCustomers
                | CreateCustomer
                | DisableLegacyAccess
                | ViewRelationships
                | CreateRelationship
        ),
        HelpdeskAgent => matches!(op, ViewCustomers | DisableLegacyAccess),
        SalesAgent => matches!(op, ViewCustomers | CreateCustomer),
        BillingAdmin => op == ViewCustomers,
    }
}

/// Operations under one customer, refused as "not found" to a caller that cannot see it.
fn under_a_customer(op: PartnerOp) -> bool {
    use PartnerOp::*;
    matches!(
        op,
        DisableLegacyAccess
            | EnableLegacyAccess
            | ViewRelationships
            | CreateRelationship
            | ApproveRelationship
    )
}

struct PartnerWorld {
    customer: String,
    victim: String,
    n: usize,
}

impl PartnerWorld {
    /// Runs `op` as `who` through `door`.
    async fn run(&mut self, app: &TestApp, who: &Caller, door: Door, op: PartnerOp) -> Outcome {
        self.n += 1;
        let n = self.n;
        let cid = &self.customer;
        let vid = &self.victim;
        let ctx = &who.ctx;
        let c: CustomerId = cid.parse().unwrap();
        let v: UserId = vid.parse().unwrap();
        let relationships = format!("/v1/customers/{cid}/delegatedadminrelationships");
        // A relationship waiting for approval, for the approval case.
        let pending = if op == PartnerOp::ApproveRelationship {
            let (s, r) = app
                .post(&relationships, json!({"displayName": format!("pending {n}"), "duration": "P30D", "roles": [DirectoryRole::DirectoryReaders.id()]}))
                .await;
            assert_eq!(s, StatusCode::CREATED, "{r}");
            r["id"].as_str().unwrap().to_string()
        } else {
            String::new()
        };
        let http = |method: Method, path: String, body: Option<Value>| async move {
            over_http(call(app, &who.token, method, &path, body).await)
        };
        let r = &app.roster;
        match (door, op) {
            (Door::Http, PartnerOp::ViewCustomers) => http(Method::GET, "/v1/customers".into(), None).await,
            (Door::Service, PartnerOp::ViewCustomers) => through_service(
                r.list_customers(ctx, ListRequest::First(roster_domain::listing::CustomerListQuery { search: None, size: 10 })).await,
            ),
            (Door::Http, PartnerOp::CreateCustomer) => http(Method::POST, "/v1/customers".into(), Some(json!({"companyProfile": {"domain": format!("h{n}.onmicrosoft.com"), "companyName": "C"}}))).await,
            (Door::Service, PartnerOp::CreateCustomer) => through_service(
                r.create_customer(ctx, &roster_domain::customer::NewCustomerInput {
                    domain: Some(format!("s{n}.onmicrosoft.com")),
                    company_name: Some("C".into()),
                    ..Default::default()
                })
                .await,
            ),
            (Door::Http, PartnerOp::DisableLegacyAccess) => http(Method::PATCH, format!("/v1/customers/{cid}"), Some(json!({"allowDelegatedAccess": false}))).await,
            (Door::Service, PartnerOp::DisableLegacyAccess) => through_service(r.update_customer(ctx, c, Some(false)).await),
            (Door::Http, PartnerOp::EnableLegacyAccess) => http(Method::PATCH, format!("/v1/customers/{cid}"), Some(json!({"allowDelegatedAccess": true}))).await,
            (Door::Service, PartnerOp::EnableLegacyAccess) => through_service(r.update_customer(ctx, c, Some(true)).await),
            (Door::Http, PartnerOp::ViewAccountUsers) => http(Method::GET, "/v1/users".into(), None).await,
            (Door::Service, PartnerOp::ViewAccountUsers) => through_service(
                r.list_partner_users(ctx, None, ListRequest::First(Default::default())).await,
            ),
            (Door::Http, PartnerOp::ManageAccountUsers) => http(Method::POST, "/v1/groups".into(), Some(json!({"displayName": format!("group {n}")}))).await,
            (Door::Service, PartnerOp::ManageAccountUsers) => through_service(r.create_group(ctx, Some(&format!("group {n}")), None, None).await),
            (Door::Http, PartnerOp::GrantGlobalAdmin) => http(Method::POST, format!("/v1/roles/{}/usermembers", PartnerRole::GlobalAdmin.id()), Some(json!({"id": vid}))).await,
            (Door::Service, PartnerOp::GrantGlobalAdmin) => through_service(r.add_partner_role_member(ctx, PartnerRole::GlobalAdmin, v).await),
            (Door::Http, PartnerOp::CreateDirectoryUser) => http(Method::POST, "/v1/users".into(), Some(json!({"userPrincipalName": format!("new{n}@partner.local"), "displayName": "New", "roles": ["Sales agent"]}))).await,
            (Door::Service, PartnerOp::CreateDirectoryUser) => through_service(
                r.create_partner_user(ctx, &roster_domain::partner_user::NewPartnerUserInput {
                    user_principal_name: Some(format!("new{n}@partner.local")),
                    display_name: Some("New".into()),
                    roles: Some(vec!["Sales agent".into()]),
                    ..Default::default()
                })
                .await,
            ),
            (Door::Http, PartnerOp::ResetPartnerPassword) => http(Method::PATCH, format!("/v1/users/{vid}"), Some(json!({"passwordProfile": {}}))).await,
            (Door::Service, PartnerOp::ResetPartnerPassword) => through_service(
                r.update_partner_user(ctx, v, &roster_domain::partner_user::PartnerUserPatch {
                    reset_password: true,
                    ..Default::default()
                })
                .await,
            ),
            (Door::Http, PartnerOp::ViewUserHistory) => http(Method::GET, format!("/v1/users/{vid}/activity"), None).await,
            (Door::Service, PartnerOp::ViewUserHistory) => through_service(r.user_activity(ctx, v, ListRequest::First(10)).await),
            (Door::Http, PartnerOp::ViewAudit) => http(Method::GET, "/v1/auditrecords?startDate=2026-01-01T00:00:00Z".into(), None).await,
            (Door::Service, PartnerOp::ViewAudit) => through_service(
                r.list_audit_records(ctx, ListRequest::First(roster_service::audit_log::AuditRequest {
                    query: roster_domain::audit::AuditQuery {
                        start: Timestamp::parse_rfc3339("2026-01-01T00:00:00Z").unwrap(),
                        end: Timestamp::parse_rfc3339("2027-01-01T00:00:00Z").unwrap(),
                        operation: None,
                        customer: None,
                        actor: None,
                    },
                    size: 10,
                }))
                .await,
            ),
            (Door::Http, PartnerOp::ViewRelationships) => http(Method::GET, relationships.clone(), None).await,
            (Door::Service, PartnerOp::ViewRelationships) => through_service(r.list_relationships(ctx, c).await),
            (Door::Http, PartnerOp::CreateRelationship) => http(Method::POST, relationships.clone(), Some(json!({"displayName": format!("rel {n}"), "duration": "P30D", "roles": [DirectoryRole::DirectoryReaders.id()]}))).await,
            (Door::Service, PartnerOp::CreateRelationship) => through_service(
                r.create_relationship(ctx, c, &roster_domain::relationship::NewRelationshipInput {
                    display_name: Some(format!("rel {n}")),
                    duration: Some("P30D".into()),
                    roles: Some(vec![DirectoryRole::DirectoryReaders.id().into()]),
                    auto_extend_duration: None,
                })
                .await,
            ),
            (Door::Http, PartnerOp::ApproveRelationship) => http(Method::POST, format!("{relationships}/{pending}/approve"), Some(json!({}))).await,
            (Door::Service, PartnerOp::ApproveRelationship) => through_service(r.approve_relationship(ctx, c, &pending).await),
            (Door::Http, PartnerOp::RegisterApplication) => http(Method::POST, "/v1/applications".into(), Some(json!({"displayName": format!("app {n}")}))).await,
            (Door::Service, PartnerOp::RegisterApplication) => through_service(r.register_application(ctx, Some(&format!("app {n}")), false).await),
        }
    }
}

async fn every_partner_role_and_operation_through_both_doors() {
    let app = TestApp::start().await;
    let cid = app.customer("partners.onmicrosoft.com").await;
    let (_, victim) = partner_user(&app, "victim", json!({"roles": ["Billing admin"]})).await;
    let mut world = PartnerWorld {
        customer: cid,
        victim,
        n: 0,
    };
    for (i, role) in PartnerRole::ALL.into_iter().enumerate() {
        let (upn, _) = partner_user(&app, &format!("p{i}"), json!({"roles": [role.name()]})).await;
        let who = caller(&app, &upn).await;
        let sees_customers = role != PartnerRole::UserManagementAdmin;
        for op in PARTNER_OPS {
            for door in DOORS {
                let before = app.audit_count().await;
                let expected = if partner_spec(role, op) {
                    Outcome::Allowed
                } else if under_a_customer(op) && !sees_customers {
                    Outcome::Hidden
                } else {
                    Outcome::Forbidden
                };
                let got = world.run(&app, &who, door, op).await;
                assert_eq!(got, expected, "{role:?} {op:?} through {door:?}");
                if got != Outcome::Allowed {
                    let writes = if op == PartnerOp::ApproveRelationship {
                        1
                    } else {
                        0
                    };
                    assert_eq!(
                        app.audit_count().await,
                        before + writes,
                        "{role:?} {op:?} through {door:?} wrote an audit record"
                    );
                }
                if op == PartnerOp::GrantGlobalAdmin && got == Outcome::Allowed {
                    let (s, b) = app
                        .patch(
                            &format!("/v1/users/{}", world.victim),
                            json!({"roles": ["Billing admin"]}),
                        )
                        .await;
                    assert_eq!(s, StatusCode::OK, "{b}");
                }
            }
        }
    }
}
on_both_backends!(every_partner_role_and_operation_through_both_doors);

// ------------------------------------------------------------------ customer users

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum UserOp {
    Read,
    Create,
    EditName,
    EditUsageLocation,
    ChangeUpn,
    Delete,
    Restore,
    ResetPassword,
    AddRoleMember,
    /// Assign a licence the target lacks, or remove the one it holds.
    ChangeLicences,
}

const USER_OPS: [UserOp; 10] = [
    UserOp::Read,
    UserOp::Create,
    UserOp::EditName,
    UserOp::EditUsageLocation,
    UserOp::ChangeUpn,
    UserOp::Delete,
    UserOp::Restore,
    UserOp::ResetPassword,
    UserOp::AddRoleMember,
    UserOp::ChangeLicences,
];

impl UserOp {
    fn has_target(self) -> bool {
        !matches!(
            self,
            UserOp::Read | UserOp::Create | UserOp::AddRoleMember | UserOp::ChangeLicences
        )
    }
}

/// The tiers of access.md, by the target's own roles: the role that puts a target in each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tier {
    NoAdmin,
    HelpdeskOrPassword,
    OtherAdmin,
    Privileged,
}

const TIERS: [(Tier, Option<DirectoryRole>); 4] = [
    (Tier::NoAdmin, None),
    (
        Tier::HelpdeskOrPassword,
        Some(DirectoryRole::PasswordAdministrator),
    ),
    (Tier::OtherAdmin, Some(DirectoryRole::LicenseAdministrator)),
    (
        Tier::Privileged,
        Some(DirectoryRole::PrivilegedRoleAdministrator),
    ),
];

/// access.md, "What each directory role allows on a customer's users" and its tiers. One
/// choice of Roster's on top (docs/ACCESS.md): editing the properties of a Privileged-tier
/// user takes a Global Administrator, as in Entra ID.
fn directory_spec(role: DirectoryRole, op: UserOp, tier: Tier) -> bool {
    use DirectoryRole::*;
    let is = |roles: &[DirectoryRole]| roles.contains(&role);
    let delete_tier: &[DirectoryRole] = if tier == Tier::Privileged {
        &[GlobalAdministrator]
    } else {
        &[UserAdministrator, GlobalAdministrator]
    };
    let reset_tier: &[DirectoryRole] = match tier {
        Tier::NoAdmin => &[
            PasswordAdministrator,
            HelpdeskAdministrator,
            UserAdministrator,
            PrivilegedAuthenticationAdministrator,
            GlobalAdministrator,
        ],
        Tier::HelpdeskOrPassword => &[
            HelpdeskAdministrator,
            UserAdministrator,
            PrivilegedAuthenticationAdministrator,
            GlobalAdministrator,
        ],
        Tier::OtherAdmin => &[
            UserAdministrator,
            PrivilegedAuthenticationAdministrator,
            GlobalAdministrator,
        ],
        Tier::Privileged => &[PrivilegedAuthenticationAdministrator, GlobalAdministrator],
    };
    let edit = if tier == Tier::Privileged {
        is(&[GlobalAdministrator])
    } else {
        is(&[UserAdministrator, DirectoryWriters, GlobalAdministrator])
    };
    match op {
        UserOp::Read => true,
        UserOp::Create => is(&[UserAdministrator, DirectoryWriters, GlobalAdministrator]),
        UserOp::EditName => edit,
        UserOp::EditUsageLocation => edit || is(&[LicenseAdministrator]),
        UserOp::ChangeUpn | UserOp::Restore => {
            is(delete_tier) || (tier == Tier::NoAdmin && is(&[DirectoryWriters]))
        }
        UserOp::Delete => is(delete_tier),
        UserOp::ResetPassword => is(reset_tier),
        UserOp::AddRoleMember => is(&[PrivilegedRoleAdministrator, GlobalAdministrator]),
        // No tier: licences are not a privilege.
        UserOp::ChangeLicences => is(&[
            LicenseAdministrator,
            UserAdministrator,
            DirectoryWriters,
            GlobalAdministrator,
        ]),
    }
}

struct CustomerWorld {
    customer: String,
    domain: String,
    /// Targets that operations leave in place (edits, resets), reused per tier role.
    shared: Vec<(Option<DirectoryRole>, String)>,
    /// A user that role-member cases add to a role (never a target).
    pawn: String,
    n: usize,
}

impl CustomerWorld {
    fn users(&self) -> String {
        format!("/v1/customers/{}/users", self.customer)
    }

    /// A fresh target in `tier` (deleted first when the operation is a restore).
    async fn target(&mut self, app: &TestApp, tier: Option<DirectoryRole>, op: UserOp) -> String {
        self.n += 1;
        let (s, b) = app
            .post(&self.users(), json!({"userPrincipalName": format!("t{}@{}", self.n, self.domain), "displayName": "Target", "usageLocation": "US", "passwordProfile": {"password": GOOD_PASSWORD}}))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        let id = b["id"].as_str().unwrap().to_string();
        if let Some(role) = tier {
            let (s, b) = app
                .post(
                    &format!(
                        "/v1/customers/{}/directoryroles/{}/usermembers",
                        self.customer,
                        role.id()
                    ),
                    json!({"id": id}),
                )
                .await;
            assert_eq!(s, StatusCode::CREATED, "{b}");
        }
        if op == UserOp::Restore {
            let (s, _) = app.delete(&format!("{}/{id}", self.users())).await;
            assert_eq!(s, StatusCode::NO_CONTENT);
        }
        id
    }

    async fn run(
        &mut self,
        app: &TestApp,
        who: &Caller,
        door: Door,
        op: UserOp,
        target: &str,
    ) -> Outcome {
        self.n += 1;
        let n = self.n;
        let cid = self.customer.clone();
        let c: CustomerId = cid.parse().unwrap();
        let t: UserId = target.parse().unwrap_or_else(|_| UserId::new_random());
        let pawn: UserId = self.pawn.parse().unwrap();
        let users = self.users();
        let domain = self.domain.clone();
        let input = |f: &dyn Fn(&mut UserInput)| {
            let mut i = UserInput::default();
            f(&mut i);
            i
        };
        let ctx = &who.ctx;
        let r = &app.roster;
        // Rights are judged by what a PATCH changes (the .NET SDK sends every property back),
        // so each edit must change something: a usage location other than the current one.
        let location = if op == UserOp::EditUsageLocation {
            let (_, current) = app.get(&format!("{users}/{target}")).await;
            if current["usageLocation"] == "DE" {
                "FR"
            } else {
                "DE"
            }
        } else {
            "DE"
        };
        // A licence change always changes something: remove the licence the target holds, or
        // assign it.
        let holds_licence = if op == UserOp::ChangeLicences {
            let (s, l) = app.get(&format!("{users}/{target}/licenses")).await;
            assert_eq!(s, StatusCode::OK, "{l}");
            l["totalCount"] == 1
        } else {
            false
        };
        let licence_change = if holds_licence {
            json!({"licensesToRemove": [LICENSED]})
        } else {
            json!({"licensesToAssign": [{"skuId": LICENSED}]})
        };
        let body: Option<Value> = match op {
            UserOp::Read | UserOp::Delete => None,
            UserOp::Create => {
                Some(json!({"userPrincipalName": format!("new{n}@{domain}"), "displayName": "New"}))
            }
            UserOp::EditName => Some(json!({"displayName": format!("Renamed {n}")})),
            UserOp::EditUsageLocation => Some(json!({"usageLocation": location})),
            UserOp::ChangeUpn => Some(json!({"userPrincipalName": format!("moved{n}@{domain}")})),
            UserOp::Restore => Some(json!({"state": "active"})),
            UserOp::ResetPassword => Some(
                json!({"passwordProfile": {"password": format!("Reset-{n}-Pass-xQ"), "forceChangePassword": true}}),
            ),
            UserOp::AddRoleMember => Some(json!({"id": self.pawn})),
            UserOp::ChangeLicences => Some(licence_change),
        };
        match door {
            Door::Http => {
                let (method, path) = match op {
                    UserOp::Read => (Method::GET, format!("{users}/{target}")),
                    UserOp::Create => (Method::POST, users.clone()),
                    UserOp::Delete => (Method::DELETE, format!("{users}/{target}")),
                    UserOp::AddRoleMember => (
                        Method::POST,
                        format!(
                            "/v1/customers/{cid}/directoryroles/{}/usermembers",
                            DirectoryRole::GuestInviter.id()
                        ),
                    ),
                    UserOp::ChangeLicences => {
                        (Method::POST, format!("{users}/{target}/licenseupdates"))
                    }
                    _ => (Method::PATCH, format!("{users}/{target}")),
                };
                over_http(call(app, &who.token, method, &path, body).await)
            }
            Door::Service => match op {
                UserOp::Read => through_service(r.get_customer_user(ctx, c, t).await),
                UserOp::Create => through_service(
                    r.create_customer_user(
                        ctx,
                        c,
                        &input(&|i| {
                            i.user_principal_name = Some(format!("new{n}@{domain}"));
                            i.display_name = Some("New".into());
                        }),
                    )
                    .await,
                ),
                UserOp::Delete => through_service(r.delete_customer_user(ctx, c, t, None).await),
                UserOp::AddRoleMember => through_service(
                    r.add_role_member(ctx, c, DirectoryRole::GuestInviter.id(), pawn)
                        .await,
                ),
                UserOp::ChangeLicences => {
                    let input = roster_domain::licence::LicenceUpdateInput {
                        assign: (!holds_licence).then(|| {
                            vec![roster_domain::licence::AssignInput {
                                sku_id: Some(LICENSED.into()),
                                excluded_plans: None,
                            }]
                        }),
                        remove: holds_licence.then(|| vec![LICENSED.to_string()]),
                    };
                    let user = roster_service::licences::UserRef::Id(t);
                    through_service(r.update_licences(ctx, c, &user, &input).await)
                }
                UserOp::EditName => through_service(
                    r.update_customer_user(
                        ctx,
                        c,
                        t,
                        &input(&|i| i.display_name = Some(format!("Renamed {n}"))),
                        None,
                    )
                    .await,
                ),
                UserOp::EditUsageLocation => through_service(
                    r.update_customer_user(
                        ctx,
                        c,
                        t,
                        &input(&|i| i.usage_location = Some(location.into())),
                        None,
                    )
                    .await,
                ),
                UserOp::ChangeUpn => through_service(
                    r.update_customer_user(
                        ctx,
                        c,
                        t,
                        &input(&|i| i.user_principal_name = Some(format!("moved{n}@{domain}"))),
                        None,
                    )
                    .await,
                ),
                UserOp::Restore => through_service(
                    r.update_customer_user(
                        ctx,
                        c,
                        t,
                        &input(&|i| i.state = Some("active".into())),
                        None,
                    )
                    .await,
                ),
                UserOp::ResetPassword => through_service(
                    r.update_customer_user(
                        ctx,
                        c,
                        t,
                        &input(&|i| {
                            i.password = Some(format!("Reset-{n}-Pass-xQ"));
                            i.force_change_password = Some(true);
                            i.password_profile_given = true;
                        }),
                        None,
                    )
                    .await,
                ),
            },
        }
    }

    /// Runs one case and checks that a refusal changed nothing. Deletes and restores get a
    /// fresh target; the other operations leave their target usable and share one per tier.
    async fn case(
        &mut self,
        app: &TestApp,
        who: &Caller,
        door: Door,
        op: UserOp,
        tier: Option<DirectoryRole>,
        expected: Outcome,
    ) -> Outcome {
        let target = match op {
            UserOp::Delete | UserOp::Restore => self.target(app, tier, op).await,
            UserOp::Create | UserOp::AddRoleMember => String::new(),
            _ => match self.shared.iter().find(|(t, _)| *t == tier) {
                Some((_, id)) => id.clone(),
                None => {
                    let id = self.target(app, tier, op).await;
                    self.shared.push((tier, id.clone()));
                    id
                }
            },
        };
        let path = format!("{}/{target}", self.users());
        let before = if expected == Outcome::Allowed {
            None
        } else {
            Some((app.get(&path).await, app.audit_count().await))
        };
        let got = self.run(app, who, door, op, &target).await;
        if let Some(before) = before.filter(|_| got != Outcome::Allowed) {
            let after = (app.get(&path).await, app.audit_count().await);
            assert_eq!(
                before, after,
                "a refused {op:?} through {door:?} changed something"
            );
        }
        got
    }
}

async fn seats_for_everyone(app: &TestApp, cid: &str) {
    let (s, b) = app
        .send(
            Method::PUT,
            &format!("/v1/customers/{cid}/subscribedskus/{LICENSED}"),
            Some(json!({"totalUnits": 10000})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
}

/// Sets up a customer whose only delegated access is one active granular relationship with
/// every directory role, and a partner user per role in a group assigned that role alone.
async fn granular_world(app: &TestApp) -> (CustomerWorld, Vec<(DirectoryRole, Caller)>) {
    let cid = app.customer("matrix.onmicrosoft.com").await;
    let (s, b) = app
        .patch(
            &format!("/v1/customers/{cid}"),
            json!({"allowDelegatedAccess": false}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let base = format!("/v1/customers/{cid}/delegatedadminrelationships");
    let all: Vec<&str> = DirectoryRole::ALL.iter().map(|r| r.id()).collect();
    let (s, rel) = app
        .post(
            &base,
            json!({"displayName": "Everything", "duration": "P730D", "roles": all}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{rel}");
    let rid = rel["id"].as_str().unwrap().to_string();
    let (s, b) = app.post(&format!("{base}/{rid}/approve"), json!({})).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    // The admin who sets up the cases acts in the customer through a group as well: with
    // legacy access off, granular access is all there is.
    let admin = app.roster.authenticate(&app.token).await.unwrap().user;
    let (s, g) = app
        .post("/v1/groups", json!({"displayName": "Matrix admins"}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{g}");
    let admins = g["id"].as_str().unwrap().to_string();
    let (s, b) = app
        .post(
            &format!("/v1/groups/{admins}/members"),
            json!({"userId": admin.to_string()}),
        )
        .await;
    assert!(s.is_success(), "{b}");
    let (s, b) = app
        .post(
            &format!("{base}/{rid}/accessassignments"),
            json!({"groupId": admins, "roles": [DirectoryRole::GlobalAdministrator.id()]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let mut callers = Vec::new();
    for (i, role) in DirectoryRole::ALL.into_iter().enumerate() {
        let (s, g) = app
            .post(
                "/v1/groups",
                json!({"displayName": format!("{} holders", role.name())}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{g}");
        let gid = g["id"].as_str().unwrap().to_string();
        let (s, b) = app
            .post(
                &format!("{base}/{rid}/accessassignments"),
                json!({"groupId": gid, "roles": [role.id()]}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        // Billing admin sees customers but acts in none: its rights in the customer are the
        // group's directory role alone.
        let (upn, _) = partner_user(
            app,
            &format!("d{i}"),
            json!({"roles": ["Billing admin"], "groups": [gid]}),
        )
        .await;
        callers.push((role, caller(app, &upn).await));
    }
    let (s, pawn) = app
        .post(&format!("/v1/customers/{cid}/users"), json!({"userPrincipalName": "pawn@matrix.onmicrosoft.com", "displayName": "Pawn", "passwordProfile": {"password": GOOD_PASSWORD}}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{pawn}");
    seats_for_everyone(app, &cid).await;
    let world = CustomerWorld {
        customer: cid,
        domain: "matrix.onmicrosoft.com".into(),
        shared: Vec::new(),
        pawn: pawn["id"].as_str().unwrap().to_string(),
        n: 0,
    };
    (world, callers)
}

async fn every_directory_role_operation_and_tier_through_both_doors() {
    let app = TestApp::start().await;
    let (mut world, callers) = granular_world(&app).await;
    for (role, who) in &callers {
        for op in USER_OPS {
            let tiers: &[(Tier, Option<DirectoryRole>)] =
                if op.has_target() { &TIERS } else { &TIERS[..1] };
            for (tier, tier_role) in tiers {
                for door in DOORS {
                    let expected = if directory_spec(*role, op, *tier) {
                        Outcome::Allowed
                    } else {
                        Outcome::Forbidden
                    };
                    let got = world.case(&app, who, door, op, *tier_role, expected).await;
                    assert_eq!(
                        got, expected,
                        "{role:?} {op:?} on {tier:?} through {door:?}"
                    );
                }
            }
        }
    }
}
on_both_backends!(every_directory_role_operation_and_tier_through_both_doors);

async fn every_partner_role_under_legacy_delegated_access_through_both_doors() {
    let app = TestApp::start().await;
    let cid = app.customer("legacy.onmicrosoft.com").await;
    let (s, pawn) = app
        .post(&format!("/v1/customers/{cid}/users"), json!({"userPrincipalName": "pawn@legacy.onmicrosoft.com", "displayName": "Pawn", "passwordProfile": {"password": GOOD_PASSWORD}}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{pawn}");
    seats_for_everyone(&app, &cid).await;
    let mut world = CustomerWorld {
        customer: cid,
        domain: "legacy.onmicrosoft.com".into(),
        shared: Vec::new(),
        pawn: pawn["id"].as_str().unwrap().to_string(),
        n: 1000,
    };
    // access.md, rule 2: Admin agent → Global Administrator, Helpdesk agent → Helpdesk
    // Administrator; a Global admin is an Admin agent's superset. Other roles act in no
    // customer; a role that cannot even see customers is told none exists.
    for (i, role) in PartnerRole::ALL.into_iter().enumerate() {
        let (upn, _) = partner_user(&app, &format!("l{i}"), json!({"roles": [role.name()]})).await;
        let who = caller(&app, &upn).await;
        let acts_as = match role {
            PartnerRole::GlobalAdmin | PartnerRole::AdminAgent => {
                Some(DirectoryRole::GlobalAdministrator)
            }
            PartnerRole::HelpdeskAgent => Some(DirectoryRole::HelpdeskAdministrator),
            _ => None,
        };
        for op in USER_OPS {
            let tiers: &[(Tier, Option<DirectoryRole>)] =
                if op.has_target() { &TIERS } else { &TIERS[..1] };
            for (tier, tier_role) in tiers {
                for door in DOORS {
                    let expected = match acts_as {
                        Some(r) if directory_spec(r, op, *tier) => Outcome::Allowed,
                        Some(_) => Outcome::Forbidden,
                        None if role == PartnerRole::UserManagementAdmin => Outcome::Hidden,
                        None => Outcome::Forbidden,
                    };
                    let got = world.case(&app, &who, door, op, *tier_role, expected).await;
                    assert_eq!(
                        got, expected,
                        "{role:?} {op:?} on {tier:?} through {door:?}"
                    );
                }
            }
        }
    }
}
on_both_backends!(every_partner_role_under_legacy_delegated_access_through_both_doors);
