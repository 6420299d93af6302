//! Invitations of outside users: each address becomes a guest directory user of the partner
//! tenant with the given roles and gets a mail with a single-use link. The link's token is 32
//! random bytes from the OS (base64url); only its SHA-256 is stored; it expires after 30 days;
//! a resend issues a new token and voids the old. Redeeming sets the guest's password, after
//! which the guest signs in with the address it was invited with (or its `#EXT#` UPN).

use roster_domain::audit::OperationType;
use roster_domain::authz::{Action, PartnerRole};
use roster_domain::invitation::{email_key, Invitation, InvitationState, InvitationView};
use roster_domain::partner_user::{parse_access, Access};
use roster_domain::password::{self, PersonalWords};
use roster_domain::InvitationId;
use roster_domain::{text, Duration, Invalid, Timestamp, Upn, UserId};
use roster_store::invitations::NewGuest;
use roster_store::sql::SyncDb;
use roster_store::StoreError;
use serde_json::json;

use crate::customer_users::new_stamp;
use crate::mail::{self, Message};
use crate::{Ctx, Result, Roster, ServiceError};

/// How long an invitation link works.
pub const INVITATION_LIFETIME: Duration = Duration::from_days(30);
/// The most addresses one invitation request may name.
pub const MAX_ADDRESSES: usize = 10;

/// The request ids of an unauthenticated call (redeeming), for the audit record.
#[derive(Clone, Debug, Default)]
pub struct RequestIds {
    pub request_id: String,
    pub correlation_id: String,
}

/// The one answer for a token that is unknown, voided, used or expired.
fn bad_link() -> ServiceError {
    Invalid::one(
        "token",
        "the invitation link is invalid, was replaced by a newer one, was used already or has expired: ask for a new invitation",
    )
    .into()
}

/// Splits `a@x.com; b@y.com, c@z.com` and checks each address.
pub fn parse_addresses(raw: &str) -> std::result::Result<Vec<String>, Invalid> {
    let mut bad = Invalid::default();
    let mut out: Vec<String> = Vec::new();
    for part in raw.split([',', ';']) {
        let a = part.trim();
        if a.is_empty() {
            continue;
        }
        if a.len() > 254
            || !roster_domain::upn::looks_like_email(a)
            || a.chars().any(char::is_control)
            || !crate::smtp::deliverable(a)
        {
            bad.push(
                "emails",
                format!("'{a}' is not an email address such as ada@example.com"),
            );
        } else if out.iter().any(|o| email_key(o) == email_key(a)) {
            bad.push("emails", format!("'{a}' is named twice"));
        } else {
            out.push(a.to_string());
        }
    }
    if bad.is_empty() && (out.is_empty() || out.len() > MAX_ADDRESSES) {
        bad.push(
            "emails",
            format!("give 1 to {MAX_ADDRESSES} email addresses separated by commas or semicolons"),
        );
    }
    bad.into_result(out)
}

/// A guest's UPN as Entra makes it: `ada_example.com#EXT#@<partner domain>`; a shorter
/// generated alias when that is not a valid UPN.
fn guest_upn(email: &str, domain: &str, id: UserId) -> Result<Upn> {
    let alias = format!("{}#EXT#", email.trim().to_lowercase().replace('@', "_"));
    if let Ok(u) = Upn::parse(&format!("{alias}@{domain}")) {
        return Ok(u);
    }
    let short: String = id
        .to_string()
        .chars()
        .filter(|c| *c != '-')
        .take(12)
        .collect();
    Upn::parse(&format!("guest_{short}#EXT#@{domain}"))
        .map_err(|e| ServiceError::internal(format!("cannot make a guest UPN: {e}")))
}

impl Roster {
    fn invitation_link(&self, token: &str) -> String {
        format!(
            "{}/invitations/redeem?token={token}",
            self.settings().public_base_url.trim_end_matches('/')
        )
    }

    /// Writes the invitation mail into the outbox; returns the file's path.
    async fn send_invitation_mail(
        &self,
        email: &str,
        token: &str,
        now: Timestamp,
    ) -> Result<std::path::PathBuf> {
        let Some(dir) = self.settings().outbox_dir.clone() else {
            return Err(ServiceError::internal(
                "mail is not configured: no outbox directory",
            ));
        };
        let link = self.invitation_link(token);
        let expires = now.plus(INVITATION_LIFETIME).to_rfc3339();
        let message = Message {
            to: email.to_string(),
            subject: "You are invited to a Roster partner account".into(),
            body: format!(
                "You have been invited to use a partner account in Roster.\n\n\
                 To accept, open this link and choose a password:\n\n{link}\n\n\
                 The link works once and expires at {expires}. Afterwards, sign in with {email}.\n\
                 If you did not expect this invitation, ignore this message.\n"
            ),
            date: now,
        };
        mail::write_to_outbox(&dir, &self.settings().mail_from, &message).await
    }

    /// Commits a change whose mails are in the outbox already, then has them delivered. When
    /// the commit fails, the mails are taken out of the outbox again, as far as they have not
    /// left yet: their links would not work.
    async fn commit_with_mails<T>(
        &self,
        committed: Result<T>,
        mails: &[std::path::PathBuf],
    ) -> Result<T> {
        match committed {
            Ok(v) => {
                self.mail_written();
                Ok(v)
            }
            Err(e) => {
                for path in mails {
                    let _ = tokio::fs::remove_file(path).await;
                }
                Err(e)
            }
        }
    }

    /// Writes an invitation mail for each (address, token); on a failure, removes the ones
    /// written and answers it.
    async fn write_invitation_mails(
        &self,
        mails: &[(String, String)],
        now: roster_domain::Timestamp,
    ) -> Result<Vec<std::path::PathBuf>> {
        let mut written = Vec::with_capacity(mails.len());
        for (email, token) in mails {
            match self.send_invitation_mail(email, token, now).await {
                Ok(path) => written.push(path),
                Err(e) => {
                    for path in &written {
                        let _ = tokio::fs::remove_file(path).await;
                    }
                    return Err(e);
                }
            }
        }
        Ok(written)
    }
}

/// A guest an invitation will create, decided before its transaction.
struct PlannedGuest {
    email: String,
    id: UserId,
    upn: Upn,
    hash: String,
}

impl Roster {
    fn view_of(&self, db: &mut SyncDb<'_>, invitation: Invitation) -> Result<InvitationView> {
        let user = db
            .partner_user(invitation.partner, invitation.user)?
            .ok_or_else(|| ServiceError::internal("an invitation without its guest"))?;
        Ok(InvitationView {
            status: invitation.status_at(self.now()),
            user_principal_name: user.upn.to_string(),
            roles: user.access.map(|a| a.roles).unwrap_or_default(),
            invitation,
        })
    }

    /// Invites 1–10 outside users with these roles: each becomes a guest directory user of
    /// the partner tenant, pending until it redeems its link.
    pub async fn invite_partner_users(
        &self,
        ctx: &Ctx,
        emails: Option<&str>,
        roles: Option<&[String]>,
    ) -> Result<Vec<InvitationView>> {
        self.allow(ctx, Action::ManageAccountUsers)?;
        let mut bad = Invalid::default();
        let addresses = match parse_addresses(emails.unwrap_or("")) {
            Ok(a) => a,
            Err(e) => {
                bad.0.extend(e.0);
                Vec::new()
            }
        };
        let access = match parse_access(Some(roles.unwrap_or_default()), None) {
            Ok(a) => a.unwrap_or_default(),
            Err(e) => {
                bad.0.extend(e.0);
                Access::default()
            }
        };
        if roles.is_none_or(<[String]>::is_empty) {
            bad.push("roles", "give at least one role for the invited users");
        }
        if access.roles.contains(&PartnerRole::GlobalAdmin) {
            bad.push(
                "roles",
                "a guest (an invited outside user) may not hold Global admin",
            );
        }
        if !bad.is_empty() {
            return Err(bad.into());
        }
        let partner = ctx.actor.partner;
        let job_addresses = addresses.clone();
        let (domains, taken) = self
            .store()
            .read_job(move |db| -> Result<_> {
                let domains = db.tenant_domains(&partner.to_string())?;
                let mut taken = None;
                for email in &job_addresses {
                    if db.guest_email_taken(partner, email)? {
                        taken = Some(email.clone());
                        break;
                    }
                }
                Ok((domains, taken))
            })
            .await?;
        let mut own = Invalid::default();
        for a in &addresses {
            let d = a.rsplit('@').next().unwrap_or("").to_ascii_lowercase();
            if domains.iter().any(|t| t.name.as_str() == d) {
                own.push("emails", format!("'{a}' is on a domain of your own tenant: add the user with POST /v1/users/access instead"));
            }
        }
        if !own.is_empty() {
            return Err(own.into());
        }
        if let Some(email) = taken {
            return Err(ServiceError::Conflict(format!(
                "'{email}' is invited already: resend its invitation instead"
            )));
        }
        let domain = domains
            .first()
            .map(|t| t.name.to_string())
            .ok_or_else(|| ServiceError::internal("the partner tenant has no domain"))?;
        let now = self.now();
        // Everything the transaction writes is decided first, so that the mails are written
        // before it: no invitation is ever stored without its mail. They are delivered after
        // it, and taken out of the outbox again if it fails.
        let mut planned = Vec::with_capacity(addresses.len());
        let mut mails = Vec::with_capacity(addresses.len());
        for email in &addresses {
            let id = UserId::new_random();
            let upn = guest_upn(email, &domain, id)?;
            let (token, hash) = crate::secrets::new_secret();
            mails.push((email.clone(), token));
            planned.push(PlannedGuest {
                email: email.clone(),
                id,
                upn,
                hash,
            });
        }
        let written = self.write_invitation_mails(&mails, now).await?;
        let (roster, job_ctx) = (self.clone(), ctx.clone());
        let committed = self
            .store()
            .write_job(move |db| roster.insert_invitations(db, &job_ctx, planned, &access, now))
            .await;
        self.commit_with_mails(committed, &written).await
    }

    /// The transaction of [`Roster::invite_partner_users`]: each guest, its access, its
    /// invitation and its audit record.
    fn insert_invitations(
        &self,
        db: &mut SyncDb<'_>,
        ctx: &Ctx,
        planned: Vec<PlannedGuest>,
        access: &Access,
        now: roster_domain::Timestamp,
    ) -> Result<Vec<InvitationView>> {
        let partner = ctx.actor.partner;
        let mut out = Vec::with_capacity(planned.len());
        for PlannedGuest {
            email,
            id,
            upn,
            hash,
        } in planned
        {
            if db.guest_email_taken(partner, &email)? {
                return Err(ServiceError::Conflict(format!(
                    "'{email}' is invited already: resend its invitation instead"
                )));
            }
            if db.upn_taken(&partner.to_string(), &upn, None)? {
                return Err(ServiceError::UpnTaken(upn.to_string()));
            }
            let guest = NewGuest {
                id,
                partner,
                upn: upn.clone(),
                display_name: email.clone(),
                email: email.clone(),
                security_stamp: new_stamp(),
            };
            match db.insert_guest(&guest, now) {
                Err(StoreError::Conflict) => {
                    return Err(ServiceError::Conflict(format!(
                        "'{email}' is invited already: resend its invitation instead"
                    )))
                }
                other => other?,
            }
            db.set_access(id, access, now)?;
            let invitation = Invitation {
                id: InvitationId::new_random(),
                partner,
                user: id,
                email: email.clone(),
                state: InvitationState::Pending,
                created_at: now,
                sent_at: now,
                expires_at: now.plus(INVITATION_LIFETIME),
                accepted_at: None,
            };
            db.insert_invitation(&invitation, &hash)?;
            let record = self.audit(
                Some(ctx),
                partner,
                None,
                OperationType::InvitePartnerUser,
                invitation.id,
                json!({
                    "id": invitation.id,
                    "email": email,
                    "userId": id.to_string(),
                    "userPrincipalName": upn.as_str(),
                    "roles": access.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
                    "expiresAt": invitation.expires_at.to_rfc3339(),
                }),
            );
            db.insert_audit(&record)?;
            out.push(InvitationView {
                status: invitation.status_at(now),
                invitation,
                user_principal_name: upn.to_string(),
                roles: access.roles.clone(),
            });
        }
        Ok(out)
    }

    /// The partner's invitations, newest first.
    pub async fn list_invitations(&self, ctx: &Ctx) -> Result<Vec<InvitationView>> {
        self.allow(ctx, Action::ViewAccountUsers)?;
        let (roster, partner) = (self.clone(), ctx.actor.partner);
        self.store()
            .read_job(move |db| {
                let found = db.invitations(partner)?;
                let mut out = Vec::with_capacity(found.len());
                for i in found {
                    out.push(roster.view_of(db, i)?);
                }
                Ok(out)
            })
            .await
    }

    pub async fn get_invitation(&self, ctx: &Ctx, id: &str) -> Result<InvitationView> {
        self.allow(ctx, Action::ViewAccountUsers)?;
        let id: InvitationId = Self::id_of(id, "the invitation")?;
        let (roster, partner) = (self.clone(), ctx.actor.partner);
        self.store()
            .read_job(move |db| {
                let i = db
                    .invitation(partner, id)?
                    .ok_or(ServiceError::NotFound("the invitation"))?;
                roster.view_of(db, i)
            })
            .await
    }

    /// Sends a pending invitation again with a new link; the old link stops working.
    pub async fn resend_invitation(&self, ctx: &Ctx, id: &str) -> Result<InvitationView> {
        self.allow(ctx, Action::ManageAccountUsers)?;
        let now = self.now();
        let id: InvitationId = Self::id_of(id, "the invitation")?;
        let partner = ctx.actor.partner;
        // Its address first, for the mail, which is written before the transaction.
        let email = self
            .store()
            .read_job(move |db| -> Result<String> {
                let i = db
                    .invitation(partner, id)?
                    .ok_or(ServiceError::NotFound("the invitation"))?;
                Ok(i.email)
            })
            .await?;
        let (token, hash) = crate::secrets::new_secret();
        let written = self.write_invitation_mails(&[(email, token)], now).await?;
        let (roster, ctx) = (self.clone(), ctx.clone());
        let committed = self
            .store()
            .write_job(move |db| roster.renew_invitation_in(db, &ctx, id, &hash, now))
            .await;
        self.commit_with_mails(committed, &written).await
    }

    /// The transaction of [`Roster::resend_invitation`].
    fn renew_invitation_in(
        &self,
        db: &mut SyncDb<'_>,
        ctx: &Ctx,
        id: InvitationId,
        hash: &str,
        now: roster_domain::Timestamp,
    ) -> Result<InvitationView> {
        let before = db
            .invitation(ctx.actor.partner, id)?
            .ok_or(ServiceError::NotFound("the invitation"))?;
        if before.state != InvitationState::Pending {
            return Err(ServiceError::Conflict(
                "the invitation was accepted already: there is nothing to resend".into(),
            ));
        }
        let expires = now.plus(INVITATION_LIFETIME);
        if !db.renew_invitation(before.id, hash, now, expires)? {
            return Err(ServiceError::Conflict(
                "the invitation was accepted already: there is nothing to resend".into(),
            ));
        }
        let record = self.audit(
            Some(ctx),
            ctx.actor.partner,
            None,
            OperationType::ResendInvitation,
            before.id,
            json!({"id": before.id, "email": before.email, "expiresAt": expires.to_rfc3339()}),
        );
        db.insert_audit(&record)?;
        let after = Invitation {
            sent_at: now,
            expires_at: expires,
            ..before
        };
        self.view_of(db, after)
    }

    /// Withdraws a pending invitation (its guest, who never signed in, is removed with it);
    /// deleting an accepted invitation removes only the record (the guest keeps its access:
    /// remove that with DELETE /v1/users/{id}).
    pub async fn delete_invitation(&self, ctx: &Ctx, id: &str) -> Result<()> {
        self.allow(ctx, Action::ManageAccountUsers)?;
        let id: InvitationId = Self::id_of(id, "the invitation")?;
        let (roster, ctx) = (self.clone(), ctx.clone());
        self.store()
            .write_job(move |db| -> Result<()> {
        let found = db.invitation(ctx.actor.partner, id)?
            .ok_or(ServiceError::NotFound("the invitation"))?;
        let guest_removed = match found.state {
            InvitationState::Pending => {
                db.delete_pending_guest(ctx.actor.partner, found.user)?
            }
            InvitationState::Accepted => false,
        };
        db.delete_invitation(found.id)?;
        let record = roster.audit(
            Some(&ctx),
            ctx.actor.partner,
            None,
            OperationType::DeleteInvitation,
            found.id,
            json!({"id": found.id, "email": found.email, "userId": found.user.to_string(), "guestRemoved": guest_removed}),
        );
        db.insert_audit(&record)?;
        Ok(())
            })
            .await
    }

    /// Redeems an invitation link (no sign-in needed): sets the guest's password (and display
    /// name), which activates its access. Every refused link gets the same answer.
    pub async fn redeem_invitation(
        &self,
        ids: &RequestIds,
        token: Option<&str>,
        password: Option<&str>,
        display_name: Option<&str>,
    ) -> Result<InvitationView> {
        let token = token.map(str::trim).unwrap_or("");
        if token.is_empty() {
            return Err(Invalid::one(
                "token",
                "is required: give the token of the invitation link",
            )
            .into());
        }
        let hash = crate::secrets::hash(token);
        let now = self.now();
        let job_hash = hash.clone();
        let found = self
            .store()
            .read_job(move |db| -> Result<_> { Ok(db.invitation_by_token(&job_hash)?) })
            .await?;
        let Some(invitation) = found else {
            return Err(bad_link());
        };
        if invitation.state != InvitationState::Pending || invitation.expires_at <= now {
            return Err(bad_link());
        }
        let mut bad = Invalid::default();
        let display = match display_name {
            Some(d) => bad
                .check("displayName", text::bounded(d, 256, true))
                .map(Some),
            None => Some(None),
        };
        let alias = invitation.email.split('@').next().unwrap_or("");
        let password = bad.check(
            "password",
            password::check(
                password.unwrap_or(""),
                PersonalWords {
                    first_name: None,
                    last_name: None,
                    upn_alias: Some(alias),
                },
            ),
        );
        let (Some(display), Some(password)) = (display, password) else {
            return Err(bad.into());
        };
        let password_hash = self.hasher().hash(&password).await?;
        let now = self.now();
        let (roster, request_id, correlation_id) = (
            self.clone(),
            ids.request_id.clone(),
            ids.correlation_id.clone(),
        );
        self.store()
            .write_job(move |db| -> Result<_> {
        // Re-read inside the transaction: the link is single-use and may have been resent.
        match db.invitation_by_token(&hash)? {
            Some(i) if i.id == invitation.id && i.expires_at > now => {}
            _ => return Err(bad_link()),
        }
        if !db.accept_invitation(invitation.id, now)? {
            return Err(bad_link());
        }
        db.activate_guest(
                invitation.user,
                &password_hash,
                &new_stamp(),
                display.as_deref(),
                now,
            )?;
        let mut record = roster.audit(
            None,
            invitation.partner,
            None,
            OperationType::RedeemInvitation,
            invitation.id,
            json!({"id": invitation.id, "email": invitation.email, "userId": invitation.user.to_string()}),
        );
        record.actor = Some(invitation.user);
        record.request_id = request_id;
        record.correlation_id = correlation_id;
        db.insert_audit(&record)?;
        let accepted = Invitation {
            state: InvitationState::Accepted,
            accepted_at: Some(now),
            ..invitation
        };
        let view = roster.view_of(db, accepted)?;
        Ok(view)
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_split_on_commas_and_semicolons() {
        assert_eq!(
            parse_addresses(" a@x.com; b@y.com ,c@z.org;").unwrap(),
            vec!["a@x.com", "b@y.com", "c@z.org"]
        );
        assert!(parse_addresses("").is_err());
        assert!(parse_addresses("a@x.com; A@X.com").is_err());
        assert!(parse_addresses("not an address").is_err());
        // F13: what the mail courier could not deliver to is refused when invited.
        for bad in [
            "a\"b<c>@example.com",
            "(comment)foo@example.com",
            "a<b@example.com",
            "a>b@example.com",
            "Ada <ada@example.com>",
            "a..b@example.com",
        ] {
            assert!(parse_addresses(bad).is_err(), "{bad}");
        }
        for good in [
            "o'brien+roster@example.com",
            "a.b-c_d@sub.example.co.uk",
            "x!#$%&*=?^`{|}~@example.com",
        ] {
            assert_eq!(
                parse_addresses(good).unwrap(),
                vec![good.to_string()],
                "{good}"
            );
        }
        let eleven: Vec<String> = (0..11).map(|i| format!("u{i}@x.com")).collect();
        assert!(parse_addresses(&eleven.join(",")).is_err());
        assert_eq!(parse_addresses(&eleven[..10].join(";")).unwrap().len(), 10);
    }

    #[test]
    fn guest_upns_look_like_entra_ones() {
        let id = UserId::new_random();
        let u = guest_upn("Ada@Example.com", "partner.local", id).unwrap();
        assert_eq!(u.as_str(), "ada_example.com#EXT#@partner.local");
        let long = format!("{}@example.com", "a".repeat(60));
        let u = guest_upn(&long, "partner.local", id).unwrap();
        assert!(u.as_str().starts_with("guest_"));
        let plus = guest_upn("a+b@example.com", "partner.local", id).unwrap();
        assert!(plus.as_str().ends_with("#EXT#@partner.local"));
    }
}
