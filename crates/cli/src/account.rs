//! The client commands of the partner's own account: its users, invitations of outside
//! people, delegated admin relationships with customers, and the audit log.

use clap::{Args, Subcommand};
use futures_util::TryStreamExt;
use roster_client::wire::{
    AccessAssignmentRequest, DelegatedAdminRelationshipBody, DelegatedAdminRelationshipRequest,
    InvitationBody, InvitationRequest, PartnerUserBody, PartnerUserRequest, PasswordProfileRequest,
};
use roster_client::Partner;

use crate::client::{
    confirm, connect, customer_of, find_role, print_list, print_one, read_secret, Common,
    CustomerArg, Done, Failure, Output,
};

#[derive(Subcommand, Debug)]
pub enum PartnerUserCommand {
    /// The users with access to your account, with their roles (Get-PartnerUser).
    ///
    /// Example: roster partner-user list -o csv
    List,
    /// One account user, by its id or user principal name.
    ///
    /// Example: roster partner-user get una@partner.example
    Get { user: String },
    /// Create a user of your own directory with account access (Global admin). Without
    /// --password-stdin, prints the temporary password Roster generates, once.
    ///
    /// Example: roster partner-user new --upn una@partner.example --first-name Una --last-name Agent --role "Admin agent"
    New {
        #[arg(long)]
        upn: String,
        #[arg(long)]
        first_name: String,
        #[arg(long)]
        last_name: String,
        /// Default: "FIRST LAST".
        #[arg(long)]
        display_name: Option<String>,
        /// A role to give (repeat for more): Global admin, User management admin, Admin
        /// agent, Helpdesk agent, Sales agent, Billing admin.
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
        /// Make the user a Global administrator of the directory too.
        #[arg(long, requires = "recovery_email")]
        directory_global_admin: bool,
        /// Where a Global administrator's password can be recovered.
        #[arg(long)]
        recovery_email: Option<String>,
        /// Read the first password from standard input instead of generating one.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Change a user's names, user name or roles (--role replaces every role it had).
    ///
    /// Example: roster partner-user set una@partner.example --role "Helpdesk agent" --role "Sales agent"
    Set {
        user: String,
        #[arg(long)]
        display_name: Option<String>,
        #[arg(long)]
        first_name: Option<String>,
        #[arg(long)]
        last_name: Option<String>,
        #[arg(long)]
        upn: Option<String>,
        #[arg(long = "role")]
        roles: Vec<String>,
    },
    /// Give a user a new password (Global admin): generated and printed once, or read from
    /// standard input. Its sessions end.
    ///
    /// Example: roster partner-user reset-password una@partner.example
    ResetPassword {
        user: String,
        #[arg(long)]
        password_stdin: bool,
        /// Do not make the user change the password at its next sign-in.
        #[arg(long)]
        no_force_change: bool,
    },
    /// End a user's access to your account (its sessions end; the directory user stays).
    ///
    /// Example: roster partner-user remove una@partner.example --yes
    Remove {
        user: String,
        /// Do not ask (needed when standard input is not a terminal).
        #[arg(long)]
        yes: bool,
    },
    /// What a user did in the last 30 days, newest first.
    ///
    /// Example: roster partner-user history una@partner.example
    History { user: String },
}

#[derive(Args, Debug)]
pub struct InviteArgs {
    /// One to ten email addresses, separated by commas or semicolons.
    pub emails: String,
    /// A role the invited get once they accept (repeat for more).
    #[arg(long = "role", required = true)]
    pub roles: Vec<String>,
}

#[derive(Subcommand, Debug)]
pub enum InvitationCommand {
    /// Every invitation, newest first, with its state.
    ///
    /// Example: roster invitation list
    List,
    /// Mail the invitation again with a new link; the earlier link stops working.
    ///
    /// Example: roster invitation resend ann@outside.example
    Resend {
        /// The invitation's id, or the address it went to.
        invitation: String,
    },
    /// Withdraw a pending invitation.
    ///
    /// Example: roster invitation delete ann@outside.example --yes
    Delete {
        invitation: String,
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum RelationshipCommand {
    /// A customer's delegated admin relationships (Get-MgTenantRelationshipDelegatedAdminRelationship).
    ///
    /// Example: roster relationship list --customer contoso.onmicrosoft.com
    List {
        #[command(flatten)]
        customer: CustomerArg,
    },
    /// One relationship, with its access assignments, by its id or name
    /// (Get-MgTenantRelationshipDelegatedAdminRelationship -DelegatedAdminRelationshipId).
    ///
    /// Example: roster relationship get --customer contoso.onmicrosoft.com Support
    Get {
        #[command(flatten)]
        customer: CustomerArg,
        relationship: String,
    },
    /// Ask a customer for delegated admin roles for a time (New-MgTenantRelationshipDelegatedAdminRelationship).
    ///
    /// Example: roster relationship new --customer contoso.onmicrosoft.com --name Support --duration P730D --role "User Administrator"
    New {
        #[command(flatten)]
        customer: CustomerArg,
        /// Unique among your relationships; at most 50 characters.
        #[arg(long)]
        name: String,
        /// ISO 8601 days, P1D to P730D.
        #[arg(long, default_value = "P730D")]
        duration: String,
        /// A directory role, by name or id (repeat for more).
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
        /// P180D to extend by 180 days at the end; PT0S (the default) for none.
        #[arg(long)]
        auto_extend: Option<String>,
    },
    /// Record the customer's approval (its Global Administrator, or yours for an approval
    /// given out of band).
    ///
    /// Example: roster relationship approve --customer contoso.onmicrosoft.com Support
    Approve {
        #[command(flatten)]
        customer: CustomerArg,
        relationship: String,
    },
    /// End a relationship now: the access it gave stops
    /// (New-MgTenantRelationshipDelegatedAdminRelationshipRequest -Action terminate).
    ///
    /// Example: roster relationship terminate --customer contoso.onmicrosoft.com Support --yes
    Terminate {
        #[command(flatten)]
        customer: CustomerArg,
        relationship: String,
        #[arg(long)]
        yes: bool,
    },
    /// Give one of your security groups some of the relationship's roles
    /// (New-MgTenantRelationshipDelegatedAdminRelationshipAccessAssignment).
    ///
    /// Example: roster relationship assign --customer contoso.onmicrosoft.com 4f3c… --group Helpdesk --role "User Administrator"
    Assign {
        #[command(flatten)]
        customer: CustomerArg,
        relationship: String,
        /// The security group, by id or display name.
        #[arg(long)]
        group: String,
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
    },
}

const PARTNER_USER_COLUMNS: &[(&str, &str)] = &[
    ("Id", "/id"),
    ("Display name", "/displayName"),
    ("User principal name", "/userPrincipalName"),
    ("Roles", "/roles"),
];

const HISTORY_COLUMNS: &[(&str, &str)] = &[
    ("Date", "/date"),
    ("Method", "/method"),
    ("Path", "/path"),
    ("Status", "/status"),
];

const AUDIT_COLUMNS: &[(&str, &str)] = &[
    ("Date", "/operationDate"),
    ("Operation", "/operationType"),
    ("Customer", "/customerId"),
    ("User", "/userId"),
    ("Resource", "/resourceId"),
];

const INVITATION_COLUMNS: &[(&str, &str)] = &[
    ("Id", "/id"),
    ("Email", "/email"),
    ("Roles", "/roles"),
    ("Status", "/status"),
    ("Sent", "/sentAt"),
    ("Expires", "/expiresAt"),
];

const RELATIONSHIP_COLUMNS: &[(&str, &str)] = &[
    ("Id", "/id"),
    ("Name", "/displayName"),
    ("Status", "/status"),
    ("Duration", "/duration"),
    ("Ends", "/endDateTime"),
    ("Roles", "/roles"),
];

fn not_found(message: String) -> Failure {
    Failure { code: 4, message }
}

/// An account user named by its id or its user principal name.
async fn find_partner_user(partner: &Partner, given: &str) -> Result<PartnerUserBody, Failure> {
    let given = given.trim();
    if !given.contains('@') {
        return Ok(partner.users().by_id(given).get().await?);
    }
    let all: Vec<PartnerUserBody> = partner.users().list().try_collect().await?;
    all.into_iter()
        .find(|u| u.user_principal_name.eq_ignore_ascii_case(given))
        .ok_or_else(|| not_found(format!("no account user has the id or user name '{given}'")))
}

/// Prints an account user, and its password when the answer shows one (once).
fn print_partner_user(output: Output, user: &PartnerUserBody) {
    print_one(output, user, PARTNER_USER_COLUMNS);
    let shown = user
        .password_profile
        .as_ref()
        .and_then(|p| p.password.as_ref());
    if let (Some(p), false) = (shown, output == Output::Json) {
        println!("Temporary password (shown once): {p}");
    }
}

/// `roster partner-user …`.
pub async fn partner_user(common: &Common, command: PartnerUserCommand) -> Done {
    let (partner, _) = connect(common).await?;
    let output = common.output();
    let users = partner.users();
    match command {
        PartnerUserCommand::List => {
            let all: Vec<_> = users.list().try_collect().await?;
            print_list(output, &all, PARTNER_USER_COLUMNS);
        }
        PartnerUserCommand::Get { user } => {
            let u = find_partner_user(&partner, &user).await?;
            print_one(output, &u, PARTNER_USER_COLUMNS);
        }
        PartnerUserCommand::New {
            upn,
            first_name,
            last_name,
            display_name,
            roles,
            directory_global_admin,
            recovery_email,
            password_stdin,
        } => {
            let password = password_stdin
                .then(|| read_secret("Password: ", true))
                .transpose()?;
            let created = users
                .create(&PartnerUserRequest {
                    user_principal_name: Some(upn),
                    display_name,
                    first_name: Some(first_name),
                    last_name: Some(last_name),
                    roles: Some(roles),
                    is_directory_global_admin: Some(directory_global_admin),
                    password_recovery_email: recovery_email,
                    password_profile: password.map(|p| PasswordProfileRequest {
                        password: Some(p),
                        force_change_password: Some(true),
                    }),
                    ..Default::default()
                })
                .await?;
            print_partner_user(output, &created);
        }
        PartnerUserCommand::Set {
            user,
            display_name,
            first_name,
            last_name,
            upn,
            roles,
        } => {
            let u = find_partner_user(&partner, &user).await?;
            let changed = users
                .by_id(&u.id)
                .patch(&PartnerUserRequest {
                    user_principal_name: upn,
                    display_name,
                    first_name,
                    last_name,
                    roles: (!roles.is_empty()).then_some(roles),
                    ..Default::default()
                })
                .await?;
            print_one(output, &changed, PARTNER_USER_COLUMNS);
        }
        PartnerUserCommand::ResetPassword {
            user,
            password_stdin,
            no_force_change,
        } => {
            let password = password_stdin
                .then(|| read_secret("New password: ", true))
                .transpose()?;
            let u = find_partner_user(&partner, &user).await?;
            let done = users
                .by_id(&u.id)
                .patch(&PartnerUserRequest {
                    password_profile: Some(PasswordProfileRequest {
                        password,
                        force_change_password: Some(!no_force_change),
                    }),
                    ..Default::default()
                })
                .await?;
            print_partner_user(output, &done);
        }
        PartnerUserCommand::Remove { user, yes } => {
            let u = find_partner_user(&partner, &user).await?;
            confirm(
                &format!(
                    "End the account access of {} ({})? Its sessions end; the directory user stays.",
                    u.display_name, u.user_principal_name
                ),
                yes,
            )?;
            users.by_id(&u.id).remove().await?;
            if output == Output::Json {
                println!("{}", serde_json::json!({"removed": u.id}));
            } else {
                println!(
                    "Removed the access of {} ({}).",
                    u.display_name, u.user_principal_name
                );
            }
        }
        PartnerUserCommand::History { user } => {
            let u = find_partner_user(&partner, &user).await?;
            let lines: Vec<_> = users.by_id(&u.id).history().try_collect().await?;
            print_list(output, &lines, HISTORY_COLUMNS);
        }
    }
    Ok(())
}

/// `roster invite EMAILS --role R`.
pub async fn invite(common: &Common, args: InviteArgs) -> Done {
    let (partner, _) = connect(common).await?;
    let sent = partner
        .invitations()
        .create(&InvitationRequest {
            emails: Some(args.emails),
            roles: Some(args.roles),
        })
        .await?;
    print_list(common.output(), &sent, INVITATION_COLUMNS);
    Ok(())
}

/// An invitation named by its id or the address it went to (its newest one).
async fn find_invitation(partner: &Partner, given: &str) -> Result<InvitationBody, Failure> {
    let given = given.trim();
    partner
        .invitations()
        .list()
        .await?
        .into_iter()
        .find(|i| i.id.eq_ignore_ascii_case(given) || i.email.eq_ignore_ascii_case(given))
        .ok_or_else(|| not_found(format!("no invitation has the id or address '{given}'")))
}

/// `roster invitation …`.
pub async fn invitation(common: &Common, command: InvitationCommand) -> Done {
    let (partner, _) = connect(common).await?;
    let output = common.output();
    match command {
        InvitationCommand::List => {
            let all = partner.invitations().list().await?;
            print_list(output, &all, INVITATION_COLUMNS);
        }
        InvitationCommand::Resend { invitation } => {
            let i = find_invitation(&partner, &invitation).await?;
            let resent = partner.invitations().resend(&i.id).await?;
            print_one(output, &resent, INVITATION_COLUMNS);
        }
        InvitationCommand::Delete { invitation, yes } => {
            let i = find_invitation(&partner, &invitation).await?;
            confirm(
                &format!(
                    "Withdraw the invitation of {}? Its link stops working.",
                    i.email
                ),
                yes,
            )?;
            partner.invitations().delete(&i.id).await?;
            if output == Output::Json {
                println!("{}", serde_json::json!({"deleted": i.id}));
            } else {
                println!("Withdrew the invitation of {}.", i.email);
            }
        }
    }
    Ok(())
}

/// A relationship named by its id or its display name.
async fn find_relationship(
    ops: &roster_client::Relationships,
    given: &str,
) -> Result<DelegatedAdminRelationshipBody, Failure> {
    let given = given.trim();
    ops.list()
        .await?
        .into_iter()
        .find(|r| r.id.eq_ignore_ascii_case(given) || r.display_name == given)
        .ok_or_else(|| {
            not_found(format!(
                "the customer has no relationship with the id or name '{given}'"
            ))
        })
}

/// `roster relationship …`.
pub async fn relationship(common: &Common, command: RelationshipCommand) -> Done {
    let (partner, profile) = connect(common).await?;
    let output = common.output();
    let customer = match &command {
        RelationshipCommand::List { customer }
        | RelationshipCommand::Get { customer, .. }
        | RelationshipCommand::New { customer, .. }
        | RelationshipCommand::Approve { customer, .. }
        | RelationshipCommand::Terminate { customer, .. }
        | RelationshipCommand::Assign { customer, .. } => customer.clone(),
    };
    let ops = partner
        .customers()
        .by_id(&customer_of(&partner, &profile, &customer).await?);
    let relationships = ops.relationships();
    match command {
        RelationshipCommand::List { .. } => {
            let all = relationships.list().await?;
            print_list(output, &all, RELATIONSHIP_COLUMNS);
        }
        RelationshipCommand::Get { relationship, .. } => {
            let r = find_relationship(&relationships, &relationship).await?;
            print_one(
                output,
                &relationships.get(&r.id).await?,
                RELATIONSHIP_COLUMNS,
            );
        }
        RelationshipCommand::New {
            name,
            duration,
            roles,
            auto_extend,
            ..
        } => {
            let mut ids = Vec::new();
            for role in &roles {
                ids.push(find_role(&ops, role).await?);
            }
            let made = relationships
                .create(&DelegatedAdminRelationshipRequest {
                    display_name: Some(name),
                    duration: Some(duration),
                    roles: Some(ids),
                    auto_extend_duration: auto_extend,
                })
                .await?;
            print_one(output, &made, RELATIONSHIP_COLUMNS);
        }
        RelationshipCommand::Approve { relationship, .. } => {
            let r = find_relationship(&relationships, &relationship).await?;
            print_one(
                output,
                &relationships.approve(&r.id).await?,
                RELATIONSHIP_COLUMNS,
            );
        }
        RelationshipCommand::Terminate {
            relationship, yes, ..
        } => {
            let r = find_relationship(&relationships, &relationship).await?;
            confirm(
                &format!(
                    "End the relationship '{}' now? The access it gives stops.",
                    r.display_name
                ),
                yes,
            )?;
            print_one(
                output,
                &relationships.terminate(&r.id).await?,
                RELATIONSHIP_COLUMNS,
            );
        }
        RelationshipCommand::Assign {
            relationship,
            group,
            roles,
            ..
        } => {
            let r = find_relationship(&relationships, &relationship).await?;
            let group = group.trim();
            let g = partner
                .groups()
                .list()
                .await?
                .into_iter()
                .find(|g| g.id.eq_ignore_ascii_case(group) || g.display_name == group)
                .ok_or_else(|| {
                    not_found(format!("no security group has the id or name '{group}'"))
                })?;
            let mut ids = Vec::new();
            for role in &roles {
                ids.push(find_role(&ops, role).await?);
            }
            let assigned = relationships
                .assign(
                    &r.id,
                    &AccessAssignmentRequest {
                        group_id: Some(g.id),
                        roles: Some(ids),
                    },
                )
                .await?;
            print_one(
                output,
                &assigned,
                &[("Id", "/id"), ("Group", "/groupId"), ("Roles", "/roles")],
            );
        }
    }
    Ok(())
}

/// `roster audit list --from --to`.
pub async fn audit(common: &Common, from: &str, to: Option<&str>) -> Done {
    let (partner, _) = connect(common).await?;
    let records: Vec<_> = partner.audit_records(from, to).try_collect().await?;
    print_list(common.output(), &records, AUDIT_COLUMNS);
    Ok(())
}
