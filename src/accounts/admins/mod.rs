//! Local administrators: creation with a one-time sign-in link, password sign-in, throttling.

mod queries;

use chrono::{NaiveDateTime, TimeDelta};
use serde_json::json;

use super::Email;
use crate::audit::{self, Action, Actor};
use crate::clock::Clock;
use crate::config::BaseUrl;
use crate::ids::{AdminId, OrgId};
use crate::orgs::Organization;
use crate::secret::{Password, PasswordDigest, SecretToken, WeakPassword};
use crate::store::{self, DbConn};

/// How long a one-time sign-in link stays valid.
pub const LINK_LIFETIME: TimeDelta = TimeDelta::minutes(15);
/// Failed password sign-ins are counted over this window.
pub const THROTTLE_WINDOW: TimeDelta = TimeDelta::minutes(15);
/// Failures allowed per account email within the window.
const MAX_FAILURES_PER_EMAIL: i64 = 5;
/// Failures allowed per client address within the window: higher, since
/// several admins may share one office address.
const MAX_FAILURES_PER_CLIENT: i64 = 50;

#[derive(Clone, Debug)]
pub struct AdminAccount {
    pub id: AdminId,
    pub org: OrgId,
    pub email: Email,
    pub password: Option<PasswordDigest>,
    pub created_at: NaiveDateTime,
    /// An operator of the whole service: sees every organization in the console.
    pub operator: bool,
}

/// A freshly issued one-time sign-in link.
#[derive(Debug)]
pub struct IssuedLink {
    pub admin: AdminAccount,
    /// Whether the account was created by this call (else it existed and got a new link).
    pub created: bool,
    pub url: String,
    pub expires_at: NaiveDateTime,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("admin {email:?} belongs to another organization")]
    OtherOrganization { email: String },
    #[error("this sign-in link is invalid, expired or already used")]
    LinkUnusable,
    #[error(transparent)]
    WeakPassword(#[from] WeakPassword),
    #[error("the two passwords differ")]
    PasswordMismatch,
    #[error(transparent)]
    Store(#[from] store::Error),
}

/// Creates an admin of `org` (or finds the existing one) and issues a one-time
/// link that signs them in and lets them set a password. Issuing a link for an
/// existing admin is how an operator resets a forgotten password. With
/// `operator` the account sees every organization (and an existing account
/// becomes an operator); without it an existing operator stays one.
pub fn create_with_link(
    conn: &mut DbConn,
    clock: &Clock,
    base_url: &BaseUrl,
    org: &Organization,
    email: Email,
    operator: bool,
) -> Result<IssuedLink, Error> {
    let token = SecretToken::generate();
    let expires_at = clock.now_naive() + LINK_LIFETIME;
    store::write_transaction(conn, |conn| {
        let (admin, created) = match queries::by_email(conn, &email)? {
            Some(admin) if admin.org != org.id => {
                return Err(Error::OtherOrganization {
                    email: email.to_string(),
                });
            }
            Some(admin) if operator && !admin.operator => {
                queries::make_operator(conn, admin.id)?;
                audit::record(
                    conn,
                    clock,
                    audit::NewEvent::new(Some(org.id), &Actor::Cli, Action::OperatorGranted)
                        .target(email.as_str()),
                )?;
                (AdminAccount { operator, ..admin }, false)
            }
            Some(admin) => (admin, false),
            None => {
                let admin = AdminAccount {
                    id: AdminId::generate(),
                    org: org.id,
                    email: email.clone(),
                    password: None,
                    created_at: clock.now_naive(),
                    operator,
                };
                queries::insert(conn, &admin)?;
                audit::record(
                    conn,
                    clock,
                    audit::NewEvent::new(Some(org.id), &Actor::Cli, Action::AdminCreated)
                        .target(email.as_str())
                        .details(json!({ "operator": operator })),
                )?;
                (admin, true)
            }
        };
        queries::insert_link(conn, &token.hash(), admin.id, expires_at)?;
        audit::record(
            conn,
            clock,
            audit::NewEvent::new(Some(org.id), &Actor::Cli, Action::AdminSignInLinkIssued)
                .target(email.as_str())
                .details(json!({ "expires_at": expires_at.and_utc().to_rfc3339() })),
        )?;
        Ok(IssuedLink {
            admin,
            created,
            url: base_url.join(&format!("/admin/link/{}", token.expose())),
            expires_at,
        })
    })
}

/// The admin a link would sign in, if the link can still be used.
pub fn link_holder(
    conn: &mut DbConn,
    clock: &Clock,
    token: &SecretToken,
) -> Result<AdminAccount, Error> {
    queries::usable_link_holder(conn, &token.hash(), clock.now_naive())?.ok_or(Error::LinkUnusable)
}

/// Uses a one-time link: sets the admin's password and spends the link, atomically.
pub fn redeem_link(
    conn: &mut DbConn,
    clock: &Clock,
    token: &SecretToken,
    password: &Password,
    confirmation: &Password,
) -> Result<AdminAccount, Error> {
    password.check_strength()?;
    if !password.matches(confirmation) {
        return Err(Error::PasswordMismatch);
    }
    // Hash outside the transaction: it is slow on purpose and needs no lock.
    let digest = password.hash();
    store::write_transaction(conn, |conn| {
        let admin = link_holder(conn, clock, token)?;
        // The conditional update is what makes the link single-use when two
        // requests race: only one of them sees a row change.
        if !queries::spend_link(conn, &token.hash(), clock.now_naive())? {
            return Err(Error::LinkUnusable);
        }
        queries::set_password(conn, admin.id, &digest)?;
        audit::record(
            conn,
            clock,
            audit::NewEvent::new(
                Some(admin.org),
                &Actor::Admin(admin.id),
                Action::AdminPasswordSet,
            )
            .target(admin.email.as_str()),
        )?;
        Ok(admin)
    })
}

/// Why a password sign-in failed.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// Wrong email or password; deliberately not saying which.
    #[error("the email or password is not right")]
    BadCredentials,
    #[error("too many failed sign-ins; try again later")]
    Throttled,
    #[error(transparent)]
    Store(#[from] store::Error),
}

/// Checks an admin's email and password. After too many failures for the
/// email or the client address within [`THROTTLE_WINDOW`], refuses without
/// checking, so the password cannot be guessed at speed.
pub fn sign_in(
    conn: &mut DbConn,
    clock: &Clock,
    email: &str,
    password: &Password,
    client: &str,
) -> Result<AdminAccount, SignInError> {
    let now = clock.now_naive();
    let since = now - THROTTLE_WINDOW;
    let email_key = format!("email:{}", email.trim().to_lowercase());
    let client_key = format!("client:{client}");
    if queries::failures_since(conn, &email_key, since)? >= MAX_FAILURES_PER_EMAIL
        || queries::failures_since(conn, &client_key, since)? >= MAX_FAILURES_PER_CLIENT
    {
        tracing::warn!(client, "admin sign-in throttled");
        return Err(SignInError::Throttled);
    }

    let admin = match email.parse::<Email>() {
        Ok(email) => queries::by_email(conn, &email)?,
        Err(_) => None,
    };
    let verified = match admin.as_ref().and_then(|a| a.password.as_ref()) {
        Some(digest) => password.verify(digest),
        None => {
            password.verify_against_nothing();
            false
        }
    };

    match admin {
        Some(admin) if verified => store::write_transaction(conn, |conn| {
            queries::clear_failures(conn, &email_key)?;
            audit::record(
                conn,
                clock,
                audit::NewEvent::new(
                    Some(admin.org),
                    &Actor::Admin(admin.id),
                    Action::AdminSignedIn,
                )
                .target(admin.email.as_str()),
            )?;
            Ok(admin)
        }),
        admin => {
            // Committed on its own: the failure must count although the sign-in fails.
            store::write_transaction(conn, |conn| {
                queries::record_failure(conn, &email_key, now)?;
                queries::record_failure(conn, &client_key, now)?;
                if let Some(admin) = admin {
                    audit::record(
                        conn,
                        clock,
                        audit::NewEvent::new(
                            Some(admin.org),
                            &Actor::System,
                            Action::AdminSignInFailed,
                        )
                        .target(admin.email.as_str())
                        .details(json!({ "client": client })),
                    )?;
                }
                Ok::<_, SignInError>(())
            })?;
            Err(SignInError::BadCredentials)
        }
    }
}

/// The administrators of an organization (local accounts), by email.
pub fn list(conn: &mut DbConn, org: OrgId) -> Result<Vec<AdminAccount>, store::Error> {
    queries::for_org(conn, org)
}

/// The admin account with this id.
pub fn find(conn: &mut DbConn, id: AdminId) -> Result<Option<AdminAccount>, store::Error> {
    queries::by_id(conn, id)
}
