//! The web portal's sessions, through the service (the portal's browser tests drive the
//! pages): stored hashed, over after an idle hour or twelve hours however busy, and at once
//! when the user's password is reset, its access removed, or it signs out; the portal's
//! sign-in counts toward the token endpoint's lockout.

use reqwest::StatusCode;
use roster_domain::password::Password;
use roster_domain::Duration;
use roster_service::sign_in::SignInError;
use serde_json::json;

use crate::common::*;

async fn sessions_end_when_they_should() {
    let mut app = TestApp::start().await;
    let roster = app.roster.clone();
    let id = roster
        .start_portal_session(ADMIN, &Password::new(ADMIN_PASSWORD), None)
        .await
        .unwrap();
    let caller = roster.portal_caller(&id).await.unwrap().expect("a session");
    assert_eq!(caller.user_name, ADMIN);
    assert_eq!(caller.csrf_token.len(), 64);
    // Only the hash is stored.
    assert!(!contains_bytes(&app.stored_bytes().await, &id));
    // Another id names nothing; a new sign-in is a new session with another token.
    assert!(roster
        .portal_caller("not-a-session")
        .await
        .unwrap()
        .is_none());
    let second = roster
        .start_portal_session(ADMIN, &Password::new(ADMIN_PASSWORD), None)
        .await
        .unwrap();
    assert_ne!(second, id);
    let second_caller = roster.portal_caller(&second).await.unwrap().unwrap();
    assert_ne!(second_caller.csrf_token, caller.csrf_token);

    // Idle: used within the hour it lives on; an hour unused ends it.
    app.advance(Duration::from_mins(50)).await;
    assert!(roster.portal_caller(&id).await.unwrap().is_some());
    app.advance(Duration::from_mins(50)).await;
    assert!(roster.portal_caller(&id).await.unwrap().is_some());
    app.advance(Duration::from_mins(61)).await;
    assert!(roster.portal_caller(&id).await.unwrap().is_none(), "idle");
    assert!(
        roster.portal_caller(&second).await.unwrap().is_none(),
        "idle"
    );

    // Absolute: twelve hours after the sign-in, however busy.
    let busy = roster
        .start_portal_session(ADMIN, &Password::new(ADMIN_PASSWORD), None)
        .await
        .unwrap();
    for _ in 0..23 {
        app.advance(Duration::from_mins(30)).await;
        assert!(roster.portal_caller(&busy).await.unwrap().is_some());
    }
    app.advance(Duration::from_mins(30)).await;
    assert!(
        roster.portal_caller(&busy).await.unwrap().is_none(),
        "12 hours"
    );

    // Sign-out ends it.
    let out = roster
        .start_portal_session(ADMIN, &Password::new(ADMIN_PASSWORD), None)
        .await
        .unwrap();
    roster.end_portal_session(&out).await.unwrap();
    assert!(roster.portal_caller(&out).await.unwrap().is_none());

    // A password reset of the user and the removal of its account access end its sessions.
    let member = member(&app, "una", json!({"roles": ["User management admin"]})).await;
    let uid = member["id"].as_str().unwrap().to_string();
    let member_password = Password::new(MEMBER_PASSWORD);
    let start = || roster.start_portal_session("una@partner.local", &member_password, None);
    let s = start().await.unwrap();
    assert!(roster.portal_caller(&s).await.unwrap().is_some());
    let (status, body) = app
        .patch(
            &format!("/v1/users/{uid}"),
            json!({"passwordProfile": {"password": "Another-Own-9x", "forceChangePassword": false}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(roster.portal_caller(&s).await.unwrap().is_none(), "reset");
    let s = roster
        .start_portal_session(
            "una@partner.local",
            &Password::new("Another-Own-9x".to_string()),
            None,
        )
        .await
        .unwrap();
    assert!(roster.portal_caller(&s).await.unwrap().is_some());
    let (status, _) = app.delete(&format!("/v1/users/{uid}")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(roster.portal_caller(&s).await.unwrap().is_none(), "removed");

    // The purge forgets sessions that are over (this one was never looked at again).
    let left = roster
        .start_portal_session(ADMIN, &Password::new(ADMIN_PASSWORD), None)
        .await
        .unwrap();
    let hash = roster_service::secrets::hash(&left);
    let stored = |roster: roster_service::Roster, hash: String| async move {
        roster
            .store()
            .read_job(move |db| db.portal_session(&hash))
            .await
            .unwrap()
            .is_some()
    };
    assert!(stored(roster.clone(), hash.clone()).await);
    // (The test server's maintenance runs every 50 ms; once more here to be sure.)
    app.advance(Duration::from_hours(13)).await;
    roster.run_maintenance().await.unwrap();
    assert!(!stored(roster.clone(), hash).await, "purged");
}
on_both_backends!(sessions_end_when_they_should);

async fn the_portal_sign_in_counts_toward_the_lockout() {
    let app = TestApp::start().await;
    let roster = app.roster.clone();
    // From the address the token endpoint sees the tests at (a network the admin signed in
    // from: the lockout keeps its own count for it).
    let here = Some("127.0.0.1".parse().unwrap());
    // Ten different wrong passwords (the same one again is the same mistake, not a guess).
    for i in 0..10 {
        let e = roster
            .start_portal_session(ADMIN, &Password::new(format!("wrong-password-{i}")), here)
            .await
            .unwrap_err();
        assert!(matches!(e, SignInError::InvalidGrant), "{e:?}");
    }
    // Locked: the right password is refused at the token endpoint as in the portal.
    assert!(app.sign_in(ADMIN, ADMIN_PASSWORD).await.is_err());
    assert!(matches!(
        roster
            .start_portal_session(ADMIN, &Password::new(ADMIN_PASSWORD), here)
            .await,
        Err(SignInError::InvalidGrant)
    ));
    // A temporary password must be changed before a session starts.
    let cid = app.customer("contoso.onmicrosoft.com").await;
    let (status, body) = app
        .post(
            &format!("/v1/customers/{cid}/users"),
            json!({"userPrincipalName": "ada@contoso.onmicrosoft.com", "displayName": "Ada",
                   "passwordProfile": {"password": "Temporary-Pass-1", "forceChangePassword": true}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert!(matches!(
        roster
            .start_portal_session(
                "ada@contoso.onmicrosoft.com",
                &Password::new("Temporary-Pass-1".to_string()),
                None
            )
            .await,
        Err(SignInError::PasswordChangeRequired)
    ));
}
on_both_backends!(the_portal_sign_in_counts_toward_the_lockout);
