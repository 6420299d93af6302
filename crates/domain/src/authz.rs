//! Who may do what: the one permission table and the one function that reads it.
//!
//! Every service operation asks [`authorize`] before it touches anything. Partner roles decide
//! what a partner user may do in the partner's own account; in a customer, what the user may
//! do is decided by its *effective directory roles* there (access.md, Delegated access) and,
//! for operations on another user, by that user's tier.

use crate::ids::{ApplicationId, CustomerId, PartnerId, UserId};
use crate::upn::Upn;

/// A role in the partner's Roster account.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub enum PartnerRole {
    GlobalAdmin,
    UserManagementAdmin,
    AdminAgent,
    HelpdeskAgent,
    SalesAgent,
    BillingAdmin,
}

impl PartnerRole {
    pub const ALL: [PartnerRole; 6] = [
        Self::GlobalAdmin,
        Self::UserManagementAdmin,
        Self::AdminAgent,
        Self::HelpdeskAgent,
        Self::SalesAgent,
        Self::BillingAdmin,
    ];
    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::GlobalAdmin => "global_admin",
            Self::UserManagementAdmin => "user_management_admin",
            Self::AdminAgent => "admin_agent",
            Self::HelpdeskAgent => "helpdesk_agent",
            Self::SalesAgent => "sales_agent",
            Self::BillingAdmin => "billing_admin",
        }
    }
    /// The stored name, the display name (`Global admin`) or the role id, in any casing.
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        Self::ALL.into_iter().find(|r| {
            r.as_str().eq_ignore_ascii_case(s)
                || r.name().eq_ignore_ascii_case(s)
                || r.id().eq_ignore_ascii_case(s)
        })
    }
    /// The display name (access.md).
    pub fn name(self) -> &'static str {
        match self {
            Self::GlobalAdmin => "Global admin",
            Self::UserManagementAdmin => "User management admin",
            Self::AdminAgent => "Admin agent",
            Self::HelpdeskAgent => "Helpdesk agent",
            Self::SalesAgent => "Sales agent",
            Self::BillingAdmin => "Billing admin",
        }
    }
    /// Roster's fixed id of the role (for `/v1/roles/{roleId}`).
    pub fn id(self) -> &'static str {
        match self {
            Self::GlobalAdmin => "68981587-cd68-4ae7-b366-94b0d3fae1b9",
            Self::UserManagementAdmin => "49aadefb-c904-4355-bf83-aeda0f3c5121",
            Self::AdminAgent => "f61d4224-2280-4471-9b67-f80ff82d2ff6",
            Self::HelpdeskAgent => "be49c622-1b4a-4738-9b84-c585a375207f",
            Self::SalesAgent => "40f259af-6f26-475d-8276-002eaca42250",
            Self::BillingAdmin => "9cae1a9d-031c-440e-aa80-c366985e4c29",
        }
    }
}

/// A directory role of a customer tenant (the fixed catalogue of directory.md).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub enum DirectoryRole {
    GlobalAdministrator,
    PrivilegedRoleAdministrator,
    PrivilegedAuthenticationAdministrator,
    UserAdministrator,
    HelpdeskAdministrator,
    PasswordAdministrator,
    LicenseAdministrator,
    DirectoryWriters,
    DirectoryReaders,
    GlobalReader,
    ServiceSupportAdministrator,
    GuestInviter,
}

impl DirectoryRole {
    pub const ALL: [DirectoryRole; 12] = [
        Self::GlobalAdministrator,
        Self::PrivilegedRoleAdministrator,
        Self::PrivilegedAuthenticationAdministrator,
        Self::UserAdministrator,
        Self::HelpdeskAdministrator,
        Self::PasswordAdministrator,
        Self::LicenseAdministrator,
        Self::DirectoryWriters,
        Self::DirectoryReaders,
        Self::GlobalReader,
        Self::ServiceSupportAdministrator,
        Self::GuestInviter,
    ];
    pub fn name(self) -> &'static str {
        match self {
            Self::GlobalAdministrator => "Global Administrator",
            Self::PrivilegedRoleAdministrator => "Privileged Role Administrator",
            Self::PrivilegedAuthenticationAdministrator => {
                "Privileged Authentication Administrator"
            }
            Self::UserAdministrator => "User Administrator",
            Self::HelpdeskAdministrator => "Helpdesk Administrator",
            Self::PasswordAdministrator => "Password Administrator",
            Self::LicenseAdministrator => "License Administrator",
            Self::DirectoryWriters => "Directory Writers",
            Self::DirectoryReaders => "Directory Readers",
            Self::GlobalReader => "Global Reader",
            Self::ServiceSupportAdministrator => "Service Support Administrator",
            Self::GuestInviter => "Guest Inviter",
        }
    }
    /// The well-known role template id.
    pub fn id(self) -> &'static str {
        match self {
            Self::GlobalAdministrator => "62e90394-69f5-4237-9190-012177145e10",
            Self::PrivilegedRoleAdministrator => "e8611ab8-c189-46e8-94e1-60213ab1f814",
            Self::PrivilegedAuthenticationAdministrator => "7be44c8a-adaf-4e2a-84d6-ab2649e08a13",
            Self::UserAdministrator => "fe930be7-5e62-47db-91af-98c3a49a38b1",
            Self::HelpdeskAdministrator => "729827e3-9c14-49f7-bb1b-9608f156bbb8",
            Self::PasswordAdministrator => "966707d0-3269-4727-9be2-8c3a10f19b9d",
            Self::LicenseAdministrator => "4d6ac14f-3453-41d0-bef9-a3e0c569773a",
            Self::DirectoryWriters => "9360feb5-f418-4baa-8175-e2a00bac4301",
            Self::DirectoryReaders => "88d8e3e3-8f55-4a1e-953a-9b9898b8876b",
            Self::GlobalReader => "f2ef992c-3afb-46b9-b7cf-a126ee74c451",
            Self::ServiceSupportAdministrator => "f023fd81-a637-4b56-95fd-791ac0226033",
            Self::GuestInviter => "95e79109-95c0-4d8e-aee3-d01accf2d47b",
        }
    }
    pub fn by_id(id: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|r| r.id().eq_ignore_ascii_case(id.trim()))
    }
}

/// How privileged a *target* user is, by its own directory roles (access.md, Tiers).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub enum Tier {
    NoAdmin,
    HelpdeskOrPassword,
    OtherAdmin,
    Privileged,
}

pub fn tier_of(roles: &[DirectoryRole]) -> Tier {
    use DirectoryRole::*;
    roles
        .iter()
        .map(|r| match r {
            GlobalAdministrator
            | PrivilegedRoleAdministrator
            | PrivilegedAuthenticationAdministrator => Tier::Privileged,
            HelpdeskAdministrator | PasswordAdministrator => Tier::HelpdeskOrPassword,
            UserAdministrator
            | LicenseAdministrator
            | DirectoryWriters
            | DirectoryReaders
            | GlobalReader
            | ServiceSupportAdministrator
            | GuestInviter => Tier::OtherAdmin,
        })
        .max()
        .unwrap_or(Tier::NoAdmin)
}

/// An area of the partner account that custom permissions speak of (access.md).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub enum Area {
    AccountUsers,
    Customers,
    CustomerUsers,
    Licences,
    DelegatedAccess,
    Audit,
}

impl Area {
    pub const ALL: [Area; 6] = [
        Self::AccountUsers,
        Self::Customers,
        Self::CustomerUsers,
        Self::Licences,
        Self::DelegatedAccess,
        Self::Audit,
    ];
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AccountUsers => "accountUsers",
            Self::Customers => "customers",
            Self::CustomerUsers => "customerUsers",
            Self::Licences => "licences",
            Self::DelegatedAccess => "delegatedAccess",
            Self::Audit => "audit",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|a| a.as_str().eq_ignore_ascii_case(s.trim()))
    }
}

/// How much of an area a custom permission allows.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub enum Level {
    NoAccess,
    Read,
    ReadWrite,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NoAccess => "no_access",
            Self::Read => "read",
            Self::ReadWrite => "read_write",
        }
    }
    /// `no_access`, `read`/`read_only`, `read_write`, in any casing, with or without `_`.
    pub fn parse(s: &str) -> Option<Self> {
        let folded: String = s
            .trim()
            .to_ascii_lowercase()
            .chars()
            .filter(|c| c.is_ascii_alphabetic())
            .collect();
        match folded.as_str() {
            "noaccess" | "none" => Some(Self::NoAccess),
            "read" | "readonly" => Some(Self::Read),
            "readwrite" => Some(Self::ReadWrite),
            _ => None,
        }
    }
}

/// Custom permissions: a level per area; an area not named is `NoAccess`.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct CustomPermissions(pub std::collections::BTreeMap<Area, Level>);

impl CustomPermissions {
    pub fn level(&self, area: Area) -> Level {
        self.0.get(&area).copied().unwrap_or(Level::NoAccess)
    }

    /// As a JSON object `{area: level}` (how they are stored and shown in audit records).
    pub fn to_json(&self) -> String {
        let map: std::collections::BTreeMap<&str, &str> = self
            .0
            .iter()
            .map(|(a, l)| (a.as_str(), l.as_str()))
            .collect();
        serde_json::to_string(&map).unwrap_or_else(|_| "{}".into())
    }
}

/// Who is calling. Only the auth layer makes one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    /// The partner whose data the caller works on (a customer user's: its customer's).
    pub partner: PartnerId,
    /// The signed-in user; for an App-only caller, the application's id.
    pub user: UserId,
    /// A partner user's effective roles: its own and those of its security groups.
    pub roles: Vec<PartnerRole>,
    /// Custom permissions instead of (or besides, through groups) roles.
    pub custom: Option<CustomPermissions>,
    pub principal: Principal,
    /// The application the token was issued to (App-only and App+User tokens).
    pub application: Option<ApplicationId>,
    /// Whether the partner user belongs to any security group. Delegated access to
    /// customers (granular, GDAP) reaches a user only through its groups: without any,
    /// there is none to look up.
    pub in_security_groups: bool,
}

/// The kinds of caller (access.md, Principals and credentials).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Principal {
    /// A partner account user, alone or through an application (App+User).
    PartnerUser,
    /// A directory user of one customer tenant: it acts there, by its own directory roles,
    /// and nowhere else.
    CustomerUser {
        customer: CustomerId,
        roles: Vec<DirectoryRole>,
    },
    /// An application alone (App-only): customers, but never users, licences or roles.
    Application,
}

impl Actor {
    pub fn has(&self, role: PartnerRole) -> bool {
        self.roles.contains(&role)
    }
    fn custom_level(&self, area: Area) -> Level {
        self.custom
            .as_ref()
            .map_or(Level::NoAccess, |c| c.level(area))
    }
}

/// What an operation does, at the granularity the permission table speaks of.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Action {
    ViewCustomers,
    CreateCustomer,
    EditCustomer,
    /// Turn a customer's legacy delegated admin access back on: every Admin agent becomes a
    /// Global Administrator there, so it takes a partner Global admin.
    EnableLegacyAccess,
    /// Turn it off: whoever edits the customer, and the customer's own Global Administrator
    /// (in Partner Center it is the customer who removes a partner's admin rights).
    DisableLegacyAccess,
    /// See the account's users, roles and groups.
    ViewAccountUsers,
    /// Give or remove access, change roles, names, groups; create groups.
    ManageAccountUsers,
    /// Grant or remove the Global admin role.
    ManageGlobalAdmins,
    /// Create new directory users of the partner tenant.
    CreateDirectoryUsers,
    /// Reset another partner user's password.
    ResetPartnerPasswords,
    ViewUserHistory,
    ViewAudit,
    /// See delegated admin relationships and their access assignments.
    ViewDelegatedAccess,
    /// Create, approve (on the customer's behalf) and terminate delegated admin
    /// relationships, and assign security groups to them.
    ManageDelegatedAccess,
    /// Approve a relationship: the customer's Global Administrator, or a partner Global admin
    /// recording an approval given out of band.
    ApproveRelationship,
    /// Register applications and see them.
    ManageApplications,
    /// See a customer's seats (subscribed SKUs) and their use.
    ViewSeats,
    /// Give a customer seats of a product.
    ManageSeats,
    /// An operation inside one customer tenant.
    InCustomer(CustomerAction),
}

/// A row of the partner-level permission table: the roles that may, and the custom
/// permission that may instead.
struct Rule {
    roles: &'static [PartnerRole],
    custom: Option<(Area, Level)>,
}

/// The partner-level table (access.md, Partner roles). Customer-user operations go through
/// [`directory_roles_allow`] instead.
fn partner_rule(action: Action) -> Rule {
    use PartnerRole::*;
    match action {
        Action::ViewCustomers => Rule {
            roles: &[
                GlobalAdmin,
                AdminAgent,
                HelpdeskAgent,
                SalesAgent,
                BillingAdmin,
            ],
            custom: Some((Area::Customers, Level::Read)),
        },
        Action::CreateCustomer => Rule {
            roles: &[GlobalAdmin, AdminAgent, SalesAgent],
            custom: Some((Area::Customers, Level::ReadWrite)),
        },
        Action::EditCustomer | Action::DisableLegacyAccess => Rule {
            roles: &[GlobalAdmin, AdminAgent, HelpdeskAgent],
            custom: Some((Area::Customers, Level::ReadWrite)),
        },
        Action::ViewAccountUsers => Rule {
            roles: &[GlobalAdmin, UserManagementAdmin],
            custom: Some((Area::AccountUsers, Level::Read)),
        },
        Action::ManageAccountUsers => Rule {
            roles: &[GlobalAdmin, UserManagementAdmin],
            custom: Some((Area::AccountUsers, Level::ReadWrite)),
        },
        Action::ManageGlobalAdmins
        | Action::EnableLegacyAccess
        | Action::CreateDirectoryUsers
        | Action::ResetPartnerPasswords
        | Action::ViewUserHistory
        | Action::ApproveRelationship
        | Action::ManageApplications => Rule {
            roles: &[GlobalAdmin],
            custom: None,
        },
        Action::ViewAudit => Rule {
            roles: &[GlobalAdmin],
            custom: Some((Area::Audit, Level::Read)),
        },
        Action::ViewSeats => Rule {
            roles: &[GlobalAdmin, AdminAgent, BillingAdmin],
            custom: Some((Area::Licences, Level::Read)),
        },
        Action::ManageSeats => Rule {
            roles: &[GlobalAdmin, AdminAgent],
            custom: Some((Area::Licences, Level::ReadWrite)),
        },
        Action::ViewDelegatedAccess => Rule {
            roles: &[GlobalAdmin, AdminAgent],
            custom: Some((Area::DelegatedAccess, Level::Read)),
        },
        Action::ManageDelegatedAccess => Rule {
            roles: &[GlobalAdmin, AdminAgent],
            custom: Some((Area::DelegatedAccess, Level::ReadWrite)),
        },
        Action::InCustomer(_) => Rule {
            roles: &[],
            custom: None,
        },
    }
}

fn rule_allows(actor: &Actor, rule: &Rule) -> bool {
    rule.roles.iter().any(|r| actor.has(*r))
        || rule
            .custom
            .is_some_and(|(area, level)| actor.custom_level(area) >= level)
}

/// Operations on a customer's directory.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum CustomerAction {
    ReadUsers,
    CreateUser,
    EditUser {
        target: Tier,
    },
    EditUsageLocation {
        target: Tier,
    },
    ChangeUpn {
        target: Tier,
    },
    DeleteUser {
        target: Tier,
    },
    RestoreUser {
        target: Tier,
    },
    ResetPassword {
        target: Tier,
    },
    /// Add or remove members of a directory role.
    ManageRoleMembers,
    /// Assign or remove a user's licences.
    ManageLicences,
    /// Create many users at once from a file (access.md: User Administrator, Global
    /// Administrator; not Directory Writers, who create users one at a time).
    BulkUpload,
}

/// What the caller may do inside one customer (its delegated access there).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CustomerAccess {
    /// The customer the action is about; `None` for a partner-level action.
    pub customer: Option<CustomerId>,
    /// The customer allows legacy delegated admin access (DAP).
    pub legacy_allowed: bool,
    /// Directory roles granted through active granular relationships to groups the caller
    /// belongs to; `None` when no such relationship applies to the caller.
    pub granular_roles: Option<Vec<DirectoryRole>>,
}

/// Why a call was refused.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Denied {
    /// The caller may see the resource but not do this (403 900150).
    Forbidden,
    /// The caller may not even know the customer exists (404 60003).
    Hidden,
    /// An App-only caller asked for what needs a user (403 900150, "requires App+User").
    NeedsUser,
}

/// The caller's effective directory roles in a customer (access.md, the three rules).
/// Under legacy access, custom permissions count as the roles that fit them: Customer users
/// read/write as User Administrator, read as Directory Readers; Licences read/write as
/// License Administrator.
pub fn effective_directory_roles(actor: &Actor, access: &CustomerAccess) -> Vec<DirectoryRole> {
    match &actor.principal {
        Principal::PartnerUser => {}
        Principal::CustomerUser { customer, roles } => {
            return if access.customer == Some(*customer) {
                roles.clone()
            } else {
                Vec::new()
            };
        }
        Principal::Application => return Vec::new(),
    }
    if let Some(granular) = &access.granular_roles {
        return granular.clone();
    }
    if !access.legacy_allowed {
        return Vec::new();
    }
    let mut roles = Vec::new();
    if actor.has(PartnerRole::AdminAgent) || actor.has(PartnerRole::GlobalAdmin) {
        roles.push(DirectoryRole::GlobalAdministrator);
    }
    if actor.has(PartnerRole::HelpdeskAgent) {
        roles.push(DirectoryRole::HelpdeskAdministrator);
    }
    match actor.custom_level(Area::CustomerUsers) {
        Level::ReadWrite => roles.push(DirectoryRole::UserAdministrator),
        Level::Read => roles.push(DirectoryRole::DirectoryReaders),
        Level::NoAccess => {}
    }
    if actor.custom_level(Area::Licences) == Level::ReadWrite {
        roles.push(DirectoryRole::LicenseAdministrator);
    }
    roles.sort();
    roles.dedup();
    roles
}

/// The one authorization decision. `access` is the caller's delegated access to the customer
/// that the action is about (`CustomerAccess::default()` for a partner-level action).
pub fn authorize(actor: &Actor, action: Action, access: &CustomerAccess) -> Result<(), Denied> {
    match &actor.principal {
        Principal::PartnerUser => partner_user_may(actor, action, access),
        Principal::CustomerUser { customer, roles } => {
            customer_user_may(*customer, roles, action, access)
        }
        // App-only: the partner's customers, and nothing that acts on or as a user.
        Principal::Application => match action {
            Action::ViewCustomers
            | Action::CreateCustomer
            | Action::EditCustomer
            | Action::DisableLegacyAccess => Ok(()),
            _ => Err(Denied::NeedsUser),
        },
    }
}

fn partner_user_may(actor: &Actor, action: Action, access: &CustomerAccess) -> Result<(), Denied> {
    let in_customer = access.customer.is_some();
    let roles = if in_customer {
        effective_directory_roles(actor, access)
    } else {
        Vec::new()
    };
    // Seeing a customer: a customer-viewing role, or directory roles in it.
    let sees = rule_allows(actor, &partner_rule(Action::ViewCustomers)) || !roles.is_empty();
    match action {
        Action::InCustomer(op) if directory_roles_allow(&roles, op) => Ok(()),
        Action::InCustomer(_) if sees => Err(Denied::Forbidden),
        Action::InCustomer(_) => Err(Denied::Hidden),
        Action::ViewCustomers if in_customer && sees => Ok(()),
        // Any directory role may read the tenant's licences.
        Action::ViewSeats if !roles.is_empty() => Ok(()),
        _ if rule_allows(actor, &partner_rule(action)) => Ok(()),
        _ if in_customer && !sees => Err(Denied::Hidden),
        _ => Err(Denied::Forbidden),
    }
}

/// A customer user acts in its own tenant only, by its own directory roles; every other
/// customer is hidden from it and the partner's account is closed to it.
fn customer_user_may(
    own: CustomerId,
    roles: &[DirectoryRole],
    action: Action,
    access: &CustomerAccess,
) -> Result<(), Denied> {
    match access.customer {
        None => return Err(Denied::Forbidden),
        Some(c) if c != own => return Err(Denied::Hidden),
        Some(_) => {}
    }
    let global_admin = roles.contains(&DirectoryRole::GlobalAdministrator);
    let allowed = match action {
        Action::ViewCustomers => true,
        Action::InCustomer(op) => directory_roles_allow(roles, op),
        Action::ViewSeats => !roles.is_empty(),
        Action::ViewDelegatedAccess | Action::ApproveRelationship => global_admin,
        // The customer removes its partner's admin rights; only the partner gives them back.
        Action::DisableLegacyAccess => global_admin,
        _ => false,
    };
    if allowed {
        Ok(())
    } else {
        Err(Denied::Forbidden)
    }
}

/// The table of access.md, "What each directory role allows on a customer's users".
pub fn directory_roles_allow(roles: &[DirectoryRole], op: CustomerAction) -> bool {
    use CustomerAction as Op;
    use DirectoryRole::*;
    let holds = |wanted: &[DirectoryRole]| wanted.iter().any(|r| roles.contains(r));
    match op {
        Op::ReadUsers => !roles.is_empty(),
        Op::CreateUser => holds(&[UserAdministrator, DirectoryWriters, GlobalAdministrator]),
        Op::EditUser { target } => {
            holds(&[GlobalAdministrator])
                || (target < Tier::Privileged && holds(&[UserAdministrator, DirectoryWriters]))
        }
        Op::EditUsageLocation { target } => {
            directory_roles_allow(roles, Op::EditUser { target }) || holds(&[LicenseAdministrator])
        }
        Op::ChangeUpn { target } => {
            holds(&delete_tier(target)) || (target == Tier::NoAdmin && holds(&[DirectoryWriters]))
        }
        Op::DeleteUser { target } => holds(&delete_tier(target)),
        Op::RestoreUser { target } => {
            holds(&delete_tier(target)) || (target == Tier::NoAdmin && holds(&[DirectoryWriters]))
        }
        Op::ResetPassword { target } => holds(&reset_tier(target)),
        Op::ManageRoleMembers => holds(&[PrivilegedRoleAdministrator, GlobalAdministrator]),
        Op::ManageLicences => holds(&[
            LicenseAdministrator,
            UserAdministrator,
            DirectoryWriters,
            GlobalAdministrator,
        ]),
        Op::BulkUpload => holds(&[UserAdministrator, GlobalAdministrator]),
    }
}

fn reset_tier(target: Tier) -> Vec<DirectoryRole> {
    use DirectoryRole::*;
    match target {
        Tier::NoAdmin => vec![
            PasswordAdministrator,
            HelpdeskAdministrator,
            UserAdministrator,
            PrivilegedAuthenticationAdministrator,
            GlobalAdministrator,
        ],
        Tier::HelpdeskOrPassword => vec![
            HelpdeskAdministrator,
            UserAdministrator,
            PrivilegedAuthenticationAdministrator,
            GlobalAdministrator,
        ],
        Tier::OtherAdmin => vec![
            UserAdministrator,
            PrivilegedAuthenticationAdministrator,
            GlobalAdministrator,
        ],
        Tier::Privileged => vec![PrivilegedAuthenticationAdministrator, GlobalAdministrator],
    }
}

fn delete_tier(target: Tier) -> Vec<DirectoryRole> {
    use DirectoryRole::*;
    match target {
        Tier::Privileged => vec![GlobalAdministrator],
        _ => vec![UserAdministrator, GlobalAdministrator],
    }
}

/// A member of a directory role, as the member list shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoleMember {
    pub user: UserId,
    pub upn: Upn,
    pub display_name: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use DirectoryRole::*;

    fn actor(roles: &[PartnerRole]) -> Actor {
        Actor {
            partner: PartnerId::new_random(),
            user: UserId::new_random(),
            roles: roles.to_vec(),
            custom: None,
            principal: Principal::PartnerUser,
            application: None,
            in_security_groups: false,
        }
    }

    fn custom(levels: &[(Area, Level)]) -> Actor {
        Actor {
            custom: Some(CustomPermissions(levels.iter().copied().collect())),
            ..actor(&[])
        }
    }

    fn legacy() -> CustomerAccess {
        CustomerAccess {
            customer: Some(CustomerId::new_random()),
            legacy_allowed: true,
            granular_roles: None,
        }
    }

    #[test]
    fn role_ids_are_unique_and_found() {
        for r in DirectoryRole::ALL {
            assert_eq!(DirectoryRole::by_id(r.id()), Some(r));
            assert_eq!(DirectoryRole::by_id(&r.id().to_uppercase()), Some(r));
        }
        for r in PartnerRole::ALL {
            assert_eq!(PartnerRole::parse(r.as_str()), Some(r));
        }
    }

    #[test]
    fn tiers() {
        assert_eq!(tier_of(&[]), Tier::NoAdmin);
        assert_eq!(tier_of(&[HelpdeskAdministrator]), Tier::HelpdeskOrPassword);
        assert_eq!(
            tier_of(&[PasswordAdministrator, HelpdeskAdministrator]),
            Tier::HelpdeskOrPassword
        );
        assert_eq!(
            tier_of(&[HelpdeskAdministrator, LicenseAdministrator]),
            Tier::OtherAdmin
        );
        for r in [
            UserAdministrator,
            LicenseAdministrator,
            DirectoryReaders,
            DirectoryWriters,
            GlobalReader,
            ServiceSupportAdministrator,
            GuestInviter,
        ] {
            assert_eq!(tier_of(&[r]), Tier::OtherAdmin, "{r:?}");
        }
        for r in [
            GlobalAdministrator,
            PrivilegedRoleAdministrator,
            PrivilegedAuthenticationAdministrator,
        ] {
            assert_eq!(tier_of(&[r, DirectoryReaders]), Tier::Privileged, "{r:?}");
        }
    }

    #[test]
    fn effective_roles_follow_the_three_rules() {
        let agent = actor(&[PartnerRole::AdminAgent]);
        let helpdesk = actor(&[PartnerRole::HelpdeskAgent]);
        let sales = actor(&[PartnerRole::SalesAgent]);
        assert_eq!(
            effective_directory_roles(&agent, &legacy()),
            vec![GlobalAdministrator]
        );
        assert_eq!(
            effective_directory_roles(&helpdesk, &legacy()),
            vec![HelpdeskAdministrator]
        );
        assert!(effective_directory_roles(&sales, &legacy()).is_empty());
        // Granular wins over legacy.
        let granular = CustomerAccess {
            customer: Some(CustomerId::new_random()),
            legacy_allowed: true,
            granular_roles: Some(vec![DirectoryReaders]),
        };
        assert_eq!(
            effective_directory_roles(&agent, &granular),
            vec![DirectoryReaders]
        );
        // No legacy, no granular: nothing.
        assert!(effective_directory_roles(&agent, &CustomerAccess::default()).is_empty());
    }

    const PARTNER_ACTIONS: [Action; 18] = [
        Action::ViewCustomers,
        Action::CreateCustomer,
        Action::EditCustomer,
        Action::EnableLegacyAccess,
        Action::DisableLegacyAccess,
        Action::ViewAccountUsers,
        Action::ManageAccountUsers,
        Action::ManageGlobalAdmins,
        Action::CreateDirectoryUsers,
        Action::ResetPartnerPasswords,
        Action::ViewUserHistory,
        Action::ViewAudit,
        Action::ViewDelegatedAccess,
        Action::ManageDelegatedAccess,
        Action::ApproveRelationship,
        Action::ManageApplications,
        Action::ViewSeats,
        Action::ManageSeats,
    ];

    /// The whole partner-role table, walked: each role × each partner-level action, with the
    /// answer access.md gives.
    #[test]
    fn partner_level_matrix() {
        use PartnerRole::*;
        // view create edit enableLegacy disableLegacy viewAU manAU GA mkdir reset hist audit
        // viewDA manDA approve apps viewSeats manageSeats
        let table: [(PartnerRole, [bool; 18]); 6] = [
            (
                GlobalAdmin,
                [
                    true, true, true, true, true, true, true, true, true, true, true, true, true,
                    true, true, true, true, true,
                ],
            ),
            (
                UserManagementAdmin,
                [
                    false, false, false, false, false, true, true, false, false, false, false,
                    false, false, false, false, false, false, false,
                ],
            ),
            (
                AdminAgent,
                [
                    true, true, true, false, true, false, false, false, false, false, false, false,
                    true, true, false, false, true, true,
                ],
            ),
            (
                HelpdeskAgent,
                [
                    true, false, true, false, true, false, false, false, false, false, false,
                    false, false, false, false, false, false, false,
                ],
            ),
            (
                SalesAgent,
                [
                    true, true, false, false, false, false, false, false, false, false, false,
                    false, false, false, false, false, false, false,
                ],
            ),
            (
                BillingAdmin,
                [
                    true, false, false, false, false, false, false, false, false, false, false,
                    false, false, false, false, false, true, false,
                ],
            ),
        ];
        let none = CustomerAccess::default();
        for (role, answers) in table {
            let a = actor(&[role]);
            for (action, allowed) in PARTNER_ACTIONS.iter().zip(answers) {
                assert_eq!(
                    authorize(&a, *action, &none).is_ok(),
                    allowed,
                    "{role:?} {action:?}"
                );
            }
        }
        // No role at all: nothing.
        for action in PARTNER_ACTIONS {
            assert!(authorize(&actor(&[]), action, &none).is_err(), "{action:?}");
        }
    }

    /// Custom permissions, walked: each area × each level × each partner-level action.
    #[test]
    fn custom_permission_matrix() {
        let none = CustomerAccess::default();
        for area in Area::ALL {
            for level in [Level::NoAccess, Level::Read, Level::ReadWrite] {
                let a = custom(&[(area, level)]);
                for action in PARTNER_ACTIONS {
                    let expected = match (action, area) {
                        (Action::ViewCustomers, Area::Customers) => level >= Level::Read,
                        (
                            Action::CreateCustomer
                            | Action::EditCustomer
                            | Action::DisableLegacyAccess,
                            Area::Customers,
                        ) => level == Level::ReadWrite,
                        (Action::ViewAccountUsers, Area::AccountUsers) => level >= Level::Read,
                        (Action::ManageAccountUsers, Area::AccountUsers) => {
                            level == Level::ReadWrite
                        }
                        (Action::ViewAudit, Area::Audit) => level >= Level::Read,
                        (Action::ViewDelegatedAccess, Area::DelegatedAccess) => {
                            level >= Level::Read
                        }
                        (Action::ManageDelegatedAccess, Area::DelegatedAccess) => {
                            level == Level::ReadWrite
                        }
                        (Action::ViewSeats, Area::Licences) => level >= Level::Read,
                        (Action::ManageSeats, Area::Licences) => level == Level::ReadWrite,
                        _ => false,
                    };
                    assert_eq!(
                        authorize(&a, action, &none).is_ok(),
                        expected,
                        "{area:?} {level:?} {action:?}"
                    );
                }
            }
        }
        // Under legacy access, custom customer-user permissions act as directory roles.
        let legacy = CustomerAccess {
            customer: Some(CustomerId::new_random()),
            legacy_allowed: true,
            granular_roles: None,
        };
        let rw = custom(&[(Area::CustomerUsers, Level::ReadWrite)]);
        assert_eq!(
            effective_directory_roles(&rw, &legacy),
            vec![UserAdministrator]
        );
        let ro = custom(&[
            (Area::CustomerUsers, Level::Read),
            (Area::Licences, Level::ReadWrite),
        ]);
        assert_eq!(
            effective_directory_roles(&ro, &legacy),
            vec![LicenseAdministrator, DirectoryReaders]
        );
        assert!(authorize(&ro, Action::InCustomer(CustomerAction::ReadUsers), &legacy).is_ok());
        assert_eq!(
            authorize(&ro, Action::InCustomer(CustomerAction::CreateUser), &legacy),
            Err(Denied::Forbidden)
        );
        for (s, level) in [
            ("read_only", Level::Read),
            ("ReadWrite", Level::ReadWrite),
            ("No access", Level::NoAccess),
            ("read", Level::Read),
        ] {
            assert_eq!(Level::parse(s), Some(level), "{s}");
        }
        assert_eq!(Level::parse("write"), None);
        for a in Area::ALL {
            assert_eq!(Area::parse(a.as_str()), Some(a));
        }
    }

    /// The directory-role table, walked: every role × every customer-user action × every tier.
    #[test]
    fn directory_role_matrix() {
        use CustomerAction as Op;
        let tiers = [
            Tier::NoAdmin,
            Tier::HelpdeskOrPassword,
            Tier::OtherAdmin,
            Tier::Privileged,
        ];
        for role in DirectoryRole::ALL {
            let r = [role];
            assert!(directory_roles_allow(&r, Op::ReadUsers), "{role:?} reads");
            let creates = matches!(
                role,
                UserAdministrator | DirectoryWriters | GlobalAdministrator
            );
            assert_eq!(
                directory_roles_allow(&r, Op::CreateUser),
                creates,
                "{role:?} create"
            );
            assert_eq!(
                directory_roles_allow(&r, Op::ManageLicences),
                creates || role == LicenseAdministrator,
                "{role:?} licences"
            );
            assert_eq!(
                directory_roles_allow(&r, Op::ManageRoleMembers),
                matches!(role, PrivilegedRoleAdministrator | GlobalAdministrator),
                "{role:?} role members"
            );
            assert_eq!(
                directory_roles_allow(&r, Op::BulkUpload),
                matches!(role, UserAdministrator | GlobalAdministrator),
                "{role:?} bulk upload"
            );
            for t in tiers {
                let reset = match t {
                    Tier::NoAdmin => matches!(
                        role,
                        PasswordAdministrator
                            | HelpdeskAdministrator
                            | UserAdministrator
                            | PrivilegedAuthenticationAdministrator
                            | GlobalAdministrator
                    ),
                    Tier::HelpdeskOrPassword => matches!(
                        role,
                        HelpdeskAdministrator
                            | UserAdministrator
                            | PrivilegedAuthenticationAdministrator
                            | GlobalAdministrator
                    ),
                    Tier::OtherAdmin => matches!(
                        role,
                        UserAdministrator
                            | PrivilegedAuthenticationAdministrator
                            | GlobalAdministrator
                    ),
                    Tier::Privileged => matches!(
                        role,
                        PrivilegedAuthenticationAdministrator | GlobalAdministrator
                    ),
                };
                assert_eq!(
                    directory_roles_allow(&r, Op::ResetPassword { target: t }),
                    reset,
                    "{role:?} reset {t:?}"
                );
                let delete = match t {
                    Tier::Privileged => role == GlobalAdministrator,
                    _ => matches!(role, UserAdministrator | GlobalAdministrator),
                };
                assert_eq!(
                    directory_roles_allow(&r, Op::DeleteUser { target: t }),
                    delete,
                    "{role:?} delete {t:?}"
                );
                let writers_extra = role == DirectoryWriters && t == Tier::NoAdmin;
                assert_eq!(
                    directory_roles_allow(&r, Op::RestoreUser { target: t }),
                    delete || writers_extra,
                    "{role:?} restore {t:?}"
                );
                assert_eq!(
                    directory_roles_allow(&r, Op::ChangeUpn { target: t }),
                    delete || writers_extra,
                    "{role:?} upn {t:?}"
                );
                let edit = role == GlobalAdministrator
                    || (t < Tier::Privileged
                        && matches!(role, UserAdministrator | DirectoryWriters));
                assert_eq!(
                    directory_roles_allow(&r, Op::EditUser { target: t }),
                    edit,
                    "{role:?} edit {t:?}"
                );
                assert_eq!(
                    directory_roles_allow(&r, Op::EditUsageLocation { target: t }),
                    edit || role == LicenseAdministrator,
                    "{role:?} usage location {t:?}"
                );
            }
        }
        assert!(!directory_roles_allow(&[], Op::ReadUsers));
    }

    #[test]
    fn hidden_versus_forbidden() {
        let billing = actor(&[PartnerRole::BillingAdmin]);
        let read = Action::InCustomer(CustomerAction::ReadUsers);
        assert_eq!(authorize(&billing, read, &legacy()), Err(Denied::Forbidden));
        let nobody = actor(&[PartnerRole::UserManagementAdmin]);
        assert_eq!(authorize(&nobody, read, &legacy()), Err(Denied::Hidden));
        let agent = actor(&[PartnerRole::AdminAgent]);
        assert_eq!(authorize(&agent, read, &legacy()), Ok(()));
        let admin = actor(&[PartnerRole::GlobalAdmin, PartnerRole::AdminAgent]);
        let del = Action::InCustomer(CustomerAction::DeleteUser {
            target: Tier::Privileged,
        });
        assert_eq!(authorize(&admin, del, &legacy()), Ok(()));
    }

    fn customer_user(customer: CustomerId, roles: &[DirectoryRole]) -> Actor {
        Actor {
            principal: Principal::CustomerUser {
                customer,
                roles: roles.to_vec(),
            },
            ..actor(&[])
        }
    }

    fn in_customer(customer: CustomerId) -> CustomerAccess {
        CustomerAccess {
            customer: Some(customer),
            legacy_allowed: true,
            granular_roles: None,
        }
    }

    /// A customer user acts in its own tenant by its own roles, sees no other customer and
    /// none of the partner's account.
    #[test]
    fn customer_users_act_in_their_own_tenant_only() {
        let own = CustomerId::new_random();
        let other = CustomerId::new_random();
        let admin = customer_user(own, &[UserAdministrator]);
        let create = Action::InCustomer(CustomerAction::CreateUser);
        assert_eq!(authorize(&admin, create, &in_customer(own)), Ok(()));
        assert_eq!(
            authorize(&admin, create, &in_customer(other)),
            Err(Denied::Hidden)
        );
        assert_eq!(
            authorize(&admin, Action::ViewCustomers, &in_customer(own)),
            Ok(())
        );
        for action in PARTNER_ACTIONS {
            assert_eq!(
                authorize(&admin, action, &CustomerAccess::default()),
                Err(Denied::Forbidden),
                "{action:?}"
            );
        }
        assert_eq!(
            authorize(
                &admin,
                Action::InCustomer(CustomerAction::ManageRoleMembers),
                &in_customer(own)
            ),
            Err(Denied::Forbidden)
        );
        // Legacy access is the partner's, never a customer user's.
        let plain = customer_user(own, &[]);
        assert_eq!(
            authorize(
                &plain,
                Action::InCustomer(CustomerAction::ReadUsers),
                &in_customer(own)
            ),
            Err(Denied::Forbidden)
        );
        assert!(effective_directory_roles(&plain, &in_customer(own)).is_empty());
        // Approving a relationship takes the customer's Global Administrator.
        let ga = customer_user(own, &[GlobalAdministrator]);
        assert_eq!(
            authorize(&ga, Action::ApproveRelationship, &in_customer(own)),
            Ok(())
        );
        assert_eq!(
            authorize(&admin, Action::ApproveRelationship, &in_customer(own)),
            Err(Denied::Forbidden)
        );
        assert_eq!(
            authorize(&ga, Action::ApproveRelationship, &in_customer(other)),
            Err(Denied::Hidden)
        );
        // Its Global Administrator turns the partner's legacy admin access off, never on
        // (F9); no other of its roles does either.
        assert_eq!(
            authorize(&ga, Action::DisableLegacyAccess, &in_customer(own)),
            Ok(())
        );
        assert_eq!(
            authorize(&ga, Action::EnableLegacyAccess, &in_customer(own)),
            Err(Denied::Forbidden)
        );
        assert_eq!(
            authorize(&admin, Action::DisableLegacyAccess, &in_customer(own)),
            Err(Denied::Forbidden)
        );
        assert_eq!(
            authorize(&ga, Action::DisableLegacyAccess, &in_customer(other)),
            Err(Denied::Hidden)
        );
    }

    /// An application alone reaches customers, never users or the partner's account.
    #[test]
    fn app_only_reaches_customers_and_nothing_that_needs_a_user() {
        let app = Actor {
            principal: Principal::Application,
            application: Some(ApplicationId::new_random()),
            ..actor(&[PartnerRole::GlobalAdmin])
        };
        let c = in_customer(CustomerId::new_random());
        for action in [Action::ViewCustomers, Action::CreateCustomer] {
            assert_eq!(authorize(&app, action, &CustomerAccess::default()), Ok(()));
        }
        assert_eq!(authorize(&app, Action::EditCustomer, &c), Ok(()));
        // It may turn legacy delegated access off, never back on (F9).
        assert_eq!(authorize(&app, Action::DisableLegacyAccess, &c), Ok(()));
        assert_eq!(
            authorize(&app, Action::EnableLegacyAccess, &c),
            Err(Denied::NeedsUser)
        );
        for op in [
            CustomerAction::ReadUsers,
            CustomerAction::CreateUser,
            CustomerAction::ManageRoleMembers,
        ] {
            assert_eq!(
                authorize(&app, Action::InCustomer(op), &c),
                Err(Denied::NeedsUser)
            );
        }
        for action in PARTNER_ACTIONS
            .into_iter()
            .skip(3)
            .filter(|a| *a != Action::DisableLegacyAccess)
        {
            assert_eq!(
                authorize(&app, action, &CustomerAccess::default()),
                Err(Denied::NeedsUser),
                "{action:?}"
            );
        }
    }
}
