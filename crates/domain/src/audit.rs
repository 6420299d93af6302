//! The audit vocabulary: which operation changed what. Records are written by the service in
//! the same transaction as the change they describe.

use crate::ids::{ApplicationId, CustomerId, PartnerId, UserId};
use crate::time::Timestamp;

/// Partner Center's operation type names where they exist; Roster's own in the same style.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub enum OperationType {
    CreateCustomer,
    AddCustomerDomain,
    CreateCustomerUser,
    UpdateCustomerUser,
    UpdateCustomerUserPrincipalName,
    ResetCustomerUserPassword,
    DeleteCustomerUser,
    RestoreCustomerUser,
    PurgeCustomerUser,
    CreatePartner,
    CreatePartnerUser,
    RotateSigningKey,
    GrantPartnerUserAccess,
    UpdatePartnerUser,
    ResetPartnerUserPassword,
    RemovePartnerUserAccess,
    CreateSecurityGroup,
    AddGroupMember,
    RemoveGroupMember,
    ChangePassword,
    InvitePartnerUser,
    ResendInvitation,
    DeleteInvitation,
    RedeemInvitation,
    CreateDelegatedAdminRelationship,
    ApproveDelegatedAdminRelationship,
    TerminateDelegatedAdminRelationship,
    CreateDelegatedAdminAccessAssignment,
    UpdateCustomer,
    RegisterApplication,
    ResetApplicationSecret,
    DeleteApplication,
    AddUserMember,
    RemoveUserMember,
    UpdateCustomerUserLicenses,
    UpdateCustomerSubscribedSku,
    BulkUploadCustomerUsers,
}

impl OperationType {
    pub const ALL: [OperationType; 37] = [
        Self::CreateCustomer,
        Self::AddCustomerDomain,
        Self::CreateCustomerUser,
        Self::UpdateCustomerUser,
        Self::UpdateCustomerUserPrincipalName,
        Self::ResetCustomerUserPassword,
        Self::DeleteCustomerUser,
        Self::RestoreCustomerUser,
        Self::PurgeCustomerUser,
        Self::CreatePartner,
        Self::CreatePartnerUser,
        Self::RotateSigningKey,
        Self::GrantPartnerUserAccess,
        Self::UpdatePartnerUser,
        Self::ResetPartnerUserPassword,
        Self::RemovePartnerUserAccess,
        Self::CreateSecurityGroup,
        Self::AddGroupMember,
        Self::RemoveGroupMember,
        Self::ChangePassword,
        Self::InvitePartnerUser,
        Self::ResendInvitation,
        Self::DeleteInvitation,
        Self::RedeemInvitation,
        Self::CreateDelegatedAdminRelationship,
        Self::ApproveDelegatedAdminRelationship,
        Self::TerminateDelegatedAdminRelationship,
        Self::CreateDelegatedAdminAccessAssignment,
        Self::UpdateCustomer,
        Self::RegisterApplication,
        Self::ResetApplicationSecret,
        Self::DeleteApplication,
        Self::AddUserMember,
        Self::RemoveUserMember,
        Self::UpdateCustomerUserLicenses,
        Self::UpdateCustomerSubscribedSku,
        Self::BulkUploadCustomerUsers,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CreateCustomer => "create_customer",
            Self::AddCustomerDomain => "add_customer_domain",
            Self::CreateCustomerUser => "create_customer_user",
            Self::UpdateCustomerUser => "update_customer_user",
            Self::UpdateCustomerUserPrincipalName => "update_customer_user_principal_name",
            Self::ResetCustomerUserPassword => "reset_customer_user_password",
            Self::DeleteCustomerUser => "delete_customer_user",
            Self::RestoreCustomerUser => "restore_customer_user",
            Self::PurgeCustomerUser => "purge_customer_user",
            Self::CreatePartner => "create_partner",
            Self::CreatePartnerUser => "create_partner_user",
            Self::RotateSigningKey => "rotate_signing_key",
            Self::GrantPartnerUserAccess => "grant_partner_user_access",
            Self::UpdatePartnerUser => "update_partner_user",
            Self::ResetPartnerUserPassword => "reset_partner_user_password",
            Self::RemovePartnerUserAccess => "remove_partner_user_access",
            Self::CreateSecurityGroup => "create_security_group",
            Self::AddGroupMember => "add_group_member",
            Self::RemoveGroupMember => "remove_group_member",
            Self::InvitePartnerUser => "invite_partner_user",
            Self::ResendInvitation => "resend_invitation",
            Self::DeleteInvitation => "delete_invitation",
            Self::RedeemInvitation => "redeem_invitation",
            Self::ChangePassword => "change_password",
            Self::CreateDelegatedAdminRelationship => "create_delegated_admin_relationship",
            Self::ApproveDelegatedAdminRelationship => "approve_delegated_admin_relationship",
            Self::TerminateDelegatedAdminRelationship => "terminate_delegated_admin_relationship",
            Self::CreateDelegatedAdminAccessAssignment => {
                "create_delegated_admin_access_assignment"
            }
            Self::UpdateCustomer => "update_customer",
            Self::RegisterApplication => "register_application",
            Self::ResetApplicationSecret => "reset_application_secret",
            Self::DeleteApplication => "delete_application",
            Self::AddUserMember => "add_user_member",
            Self::RemoveUserMember => "remove_user_member",
            Self::UpdateCustomerUserLicenses => "update_customer_user_licenses",
            Self::UpdateCustomerSubscribedSku => "update_customer_subscribed_sku",
            Self::BulkUploadCustomerUsers => "bulk_upload_customer_users",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|o| o.as_str().eq_ignore_ascii_case(s.trim()))
    }
    /// Partner Center's `resourceType` for this operation.
    pub fn resource_type(self) -> &'static str {
        match self {
            Self::CreateCustomer => "customer",
            Self::AddCustomerDomain => "customer_domain",
            Self::CreatePartner => "partner",
            Self::CreatePartnerUser => "partner_user",
            Self::RotateSigningKey => "signing_key",
            Self::GrantPartnerUserAccess
            | Self::UpdatePartnerUser
            | Self::ResetPartnerUserPassword
            | Self::RemovePartnerUserAccess => "partner_user",
            Self::CreateSecurityGroup | Self::AddGroupMember | Self::RemoveGroupMember => {
                "security_group"
            }
            Self::InvitePartnerUser
            | Self::ResendInvitation
            | Self::DeleteInvitation
            | Self::RedeemInvitation => "invitation",
            Self::CreateDelegatedAdminRelationship
            | Self::ApproveDelegatedAdminRelationship
            | Self::TerminateDelegatedAdminRelationship => "delegated_admin_relationship",
            Self::CreateDelegatedAdminAccessAssignment => "delegated_admin_access_assignment",
            Self::UpdateCustomer => "customer",
            Self::RegisterApplication | Self::ResetApplicationSecret | Self::DeleteApplication => {
                "application"
            }
            Self::AddUserMember | Self::RemoveUserMember => "customer_directory_role",
            Self::UpdateCustomerUserLicenses => "license",
            Self::UpdateCustomerSubscribedSku => "subscribed_sku",
            _ => "customer_user",
        }
    }
}

/// A change, as the audit log keeps it: written in the transaction of the change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditRecord {
    pub id: String,
    pub created_at: Timestamp,
    pub partner: PartnerId,
    pub customer: Option<CustomerId>,
    /// The signed-in user who acted; `None` for Roster itself (bootstrap, purge).
    pub actor: Option<UserId>,
    pub application: Option<ApplicationId>,
    pub operation: OperationType,
    pub resource_type: String,
    pub resource_id: String,
    /// The new value as JSON; never a password.
    pub new_value: String,
    pub correlation_id: String,
    pub request_id: String,
}

/// Which audit records to list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditQuery {
    pub start: Timestamp,
    pub end: Timestamp,
    pub operation: Option<OperationType>,
    pub customer: Option<CustomerId>,
    pub actor: Option<UserId>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for op in OperationType::ALL {
            assert_eq!(OperationType::parse(op.as_str()), Some(op));
        }
    }
}
