//! The partner's own account: its users and their history, invitations, a customer's
//! delegated admin relationships and directory roles, and the audit log.

use reqwest::Method;
use roster_wire::{
    AccessAssignmentBody, AccessAssignmentRequest, ActivityBody, AuditRecordBody, Collection,
    DelegatedAdminRelationshipBody, DelegatedAdminRelationshipRequest, DirectoryRoleBody,
    GrantAccessRequest, GroupMemberRequest, InvitationBody, InvitationRequest, PartnerRoleBody,
    PartnerUserBody, PartnerUserRequest, SecurityGroupBody, SecurityGroupRequest, UserMemberBody,
    UserMemberRequest,
};

use crate::error::Result;
use crate::resources::{paged, seg, CustomerOps, CustomerUserOps, Items};
use crate::transport::{Call, Partner};

/// `partner.users()`: the account's users.
#[derive(Clone, Debug)]
pub struct PartnerUsers {
    partner: Partner,
}

/// `partner.invitations()`.
#[derive(Clone, Debug)]
pub struct Invitations {
    partner: Partner,
}

impl Partner {
    /// The users with access to the partner's account.
    pub fn users(&self) -> PartnerUsers {
        PartnerUsers {
            partner: self.clone(),
        }
    }
    /// Invitations of outside users.
    pub fn invitations(&self) -> Invitations {
        Invitations {
            partner: self.clone(),
        }
    }
    /// The account's roles (Global admin, Admin agent …), each a set of permissions.
    pub fn roles(&self) -> PartnerRoles {
        PartnerRoles {
            partner: self.clone(),
        }
    }
    /// The account's security groups: each gives its members roles.
    pub fn groups(&self) -> Groups {
        Groups {
            partner: self.clone(),
        }
    }
    /// The audit records from `start` to `end` (exclusive; RFC 3339 or a date), newest first.
    pub fn audit_records(&self, start: &str, end: Option<&str>) -> Items<AuditRecordBody> {
        let mut call = Call::new(Method::GET, "/v1/auditrecords").query("startDate", start);
        if let Some(e) = end {
            call = call.query("endDate", e);
        }
        paged(self.clone(), call)
    }
}

/// `partner.roles()`.
#[derive(Clone, Debug)]
pub struct PartnerRoles {
    partner: Partner,
}

impl PartnerRoles {
    /// Every role of the account, with its id.
    pub async fn list(&self) -> Result<Vec<PartnerRoleBody>> {
        let c: Collection<PartnerRoleBody> = self
            .partner
            .send(Call::new(Method::GET, "/v1/roles"))
            .await?
            .json()?;
        Ok(c.items)
    }
    /// One role (by its id, as `list` gives it): its members.
    pub fn by_id(&self, role_id: &str) -> RoleMembers {
        RoleMembers {
            partner: self.partner.clone(),
            path: format!("/v1/roles/{}/usermembers", seg(role_id)),
        }
    }
}

/// `partner.groups()`.
#[derive(Clone, Debug)]
pub struct Groups {
    partner: Partner,
}

impl Groups {
    /// Every security group of the account.
    pub async fn list(&self) -> Result<Vec<SecurityGroupBody>> {
        let c: Collection<SecurityGroupBody> = self
            .partner
            .send(Call::new(Method::GET, "/v1/groups"))
            .await?
            .json()?;
        Ok(c.items)
    }
    /// Creates a group whose members get `roles`.
    pub async fn create(&self, group: &SecurityGroupRequest) -> Result<SecurityGroupBody> {
        self.partner
            .send(Call::new(Method::POST, "/v1/groups").json(group)?)
            .await?
            .json()
    }
    /// Makes an account user a member of the group.
    pub async fn add_member(&self, group_id: &str, user_id: &str) -> Result<()> {
        let body = GroupMemberRequest {
            user_id: Some(user_id.to_string()),
        };
        self.partner
            .send(
                Call::new(
                    Method::POST,
                    format!("/v1/groups/{}/members", seg(group_id)),
                )
                .json(&body)?,
            )
            .await?;
        Ok(())
    }
    /// Ends a user's membership of the group.
    pub async fn remove_member(&self, group_id: &str, user_id: &str) -> Result<()> {
        self.partner
            .send(Call::new(
                Method::DELETE,
                format!("/v1/groups/{}/members/{}", seg(group_id), seg(user_id)),
            ))
            .await?;
        Ok(())
    }
}

impl PartnerUsers {
    /// Every user with account access.
    pub fn list(&self) -> Items<PartnerUserBody> {
        paged(self.partner.clone(), Call::new(Method::GET, "/v1/users"))
    }
    /// Creates a directory user of the partner's tenant with account access (its temporary
    /// password shown once when none is given).
    pub async fn create(&self, user: &PartnerUserRequest) -> Result<PartnerUserBody> {
        self.partner
            .send(Call::new(Method::POST, "/v1/users").json(user)?)
            .await?
            .json()
    }
    /// Gives existing directory users the same roles or custom permissions, in one step.
    pub async fn grant_access(&self, grant: &GrantAccessRequest) -> Result<Vec<PartnerUserBody>> {
        let c: Collection<PartnerUserBody> = self
            .partner
            .send(Call::new(Method::POST, "/v1/users/access").json(grant)?)
            .await?
            .json()?;
        Ok(c.items)
    }
    /// One user, by its id.
    pub fn by_id(&self, id: &str) -> PartnerUserOps {
        PartnerUserOps {
            partner: self.partner.clone(),
            path: format!("/v1/users/{}", seg(id)),
        }
    }
}

/// `partner.users().by_id(u)`.
#[derive(Clone, Debug)]
pub struct PartnerUserOps {
    partner: Partner,
    path: String,
}

impl PartnerUserOps {
    /// The user.
    pub async fn get(&self) -> Result<PartnerUserBody> {
        self.partner
            .send(Call::new(Method::GET, self.path.clone()))
            .await?
            .json()
    }
    /// Changes names, user name, roles or custom permissions, groups, or (with a
    /// `passwordProfile`) resets the password.
    pub async fn patch(&self, changes: &PartnerUserRequest) -> Result<PartnerUserBody> {
        self.partner
            .send(Call::new(Method::PATCH, self.path.clone()).json(changes)?)
            .await?
            .json()
    }
    /// Removes the user's access to the account (its directory account stays).
    pub async fn remove(&self) -> Result<()> {
        self.partner
            .send(Call::new(Method::DELETE, self.path.clone()))
            .await?;
        Ok(())
    }
    /// Its requests of the last 30 days, newest first.
    pub fn history(&self) -> Items<ActivityBody> {
        paged(
            self.partner.clone(),
            Call::new(Method::GET, format!("{}/activity", self.path)),
        )
    }
}

impl Invitations {
    /// Invites up to ten addresses (separated by commas or semicolons) with these roles.
    pub async fn create(&self, invitation: &InvitationRequest) -> Result<Vec<InvitationBody>> {
        let c: Collection<InvitationBody> = self
            .partner
            .send(Call::new(Method::POST, "/v1/invitations").json(invitation)?)
            .await?
            .json()?;
        Ok(c.items)
    }
    /// The partner's invitations, newest first.
    pub async fn list(&self) -> Result<Vec<InvitationBody>> {
        let c: Collection<InvitationBody> = self
            .partner
            .send(Call::new(Method::GET, "/v1/invitations"))
            .await?
            .json()?;
        Ok(c.items)
    }
    /// Sends the invitation's mail again with a new link; the earlier link stops working.
    pub async fn resend(&self, id: &str) -> Result<InvitationBody> {
        self.partner
            .send(Call::new(
                Method::POST,
                format!("/v1/invitations/{}/resend", seg(id)),
            ))
            .await?
            .json()
    }
    /// Withdraws a pending invitation.
    pub async fn delete(&self, id: &str) -> Result<()> {
        self.partner
            .send(Call::new(
                Method::DELETE,
                format!("/v1/invitations/{}", seg(id)),
            ))
            .await?;
        Ok(())
    }
}

impl CustomerOps {
    /// The customer's delegated admin relationships.
    pub fn relationships(&self) -> Relationships {
        Relationships {
            partner: self.partner().clone(),
            path: format!("{}/delegatedadminrelationships", self.path()),
        }
    }
    /// The customer's directory roles.
    pub async fn directory_roles(&self) -> Result<Vec<DirectoryRoleBody>> {
        let c: Collection<DirectoryRoleBody> = self
            .partner()
            .send(Call::new(
                Method::GET,
                format!("{}/directoryroles", self.path()),
            ))
            .await?
            .json()?;
        Ok(c.items)
    }
    /// One directory role of the customer, by its id.
    pub fn directory_role(&self, role_id: &str) -> RoleMembers {
        RoleMembers {
            partner: self.partner().clone(),
            path: format!(
                "{}/directoryroles/{}/usermembers",
                self.path(),
                seg(role_id)
            ),
        }
    }
}

impl CustomerUserOps {
    /// The directory roles the user holds.
    pub async fn directory_roles(&self) -> Result<Vec<DirectoryRoleBody>> {
        let c: Collection<DirectoryRoleBody> = self
            .partner()
            .send(Call::new(
                Method::GET,
                format!("{}/directoryroles", self.path()),
            ))
            .await?
            .json()?;
        Ok(c.items)
    }
}

/// The members of a role: a customer's directory role
/// (`partner.customers().by_id(c).directory_role(r)`) or a role of the partner's account
/// (`partner.roles().by_id(r)`).
#[derive(Clone, Debug)]
pub struct RoleMembers {
    partner: Partner,
    path: String,
}

impl RoleMembers {
    /// The users holding the role.
    pub fn members(&self) -> Items<UserMemberBody> {
        paged(
            self.partner.clone(),
            Call::new(Method::GET, self.path.clone()),
        )
    }
    /// Makes a user a member (an active user of the customer; an account user of the
    /// partner).
    pub async fn add_member(&self, user_id: &str) -> Result<UserMemberBody> {
        let body = UserMemberRequest {
            id: Some(user_id.to_string()),
            display_name: None,
            user_principal_name: None,
        };
        self.partner
            .send(Call::new(Method::POST, self.path.clone()).json(&body)?)
            .await?
            .json()
    }
    /// Ends a user's membership.
    pub async fn remove_member(&self, user_id: &str) -> Result<()> {
        self.partner
            .send(Call::new(
                Method::DELETE,
                format!("{}/{}", self.path, seg(user_id)),
            ))
            .await?;
        Ok(())
    }
}

/// `partner.customers().by_id(c).relationships()`.
#[derive(Clone, Debug)]
pub struct Relationships {
    partner: Partner,
    path: String,
}

impl Relationships {
    /// Every relationship with the customer.
    pub async fn list(&self) -> Result<Vec<DelegatedAdminRelationshipBody>> {
        let c: Collection<DelegatedAdminRelationshipBody> = self
            .partner
            .send(Call::new(Method::GET, self.path.clone()))
            .await?
            .json()?;
        Ok(c.items)
    }
    /// One relationship, with its access assignments.
    pub async fn get(&self, id: &str) -> Result<DelegatedAdminRelationshipBody> {
        self.partner
            .send(Call::new(Method::GET, format!("{}/{}", self.path, seg(id))))
            .await?
            .json()
    }
    /// Requests a relationship (name, duration, roles, auto-extend).
    pub async fn create(
        &self,
        request: &DelegatedAdminRelationshipRequest,
    ) -> Result<DelegatedAdminRelationshipBody> {
        self.partner
            .send(Call::new(Method::POST, self.path.clone()).json(request)?)
            .await?
            .json()
    }
    /// Approves it (the customer's Global Administrator, or a partner Global admin recording
    /// an approval given out of band).
    pub async fn approve(&self, id: &str) -> Result<DelegatedAdminRelationshipBody> {
        self.partner
            .send(Call::new(
                Method::POST,
                format!("{}/{}/approve", self.path, seg(id)),
            ))
            .await?
            .json()
    }
    /// Ends it now.
    pub async fn terminate(&self, id: &str) -> Result<DelegatedAdminRelationshipBody> {
        self.partner
            .send(Call::new(
                Method::POST,
                format!("{}/{}/terminate", self.path, seg(id)),
            ))
            .await?
            .json()
    }
    /// Gives a security group a subset of the relationship's roles in the customer.
    pub async fn assign(
        &self,
        id: &str,
        assignment: &AccessAssignmentRequest,
    ) -> Result<AccessAssignmentBody> {
        self.partner
            .send(
                Call::new(
                    Method::POST,
                    format!("{}/{}/accessassignments", self.path, seg(id)),
                )
                .json(assignment)?,
            )
            .await?
            .json()
    }
}
