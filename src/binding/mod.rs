//! LinkedIn profile binding: which learner is which LinkedIn member, and what
//! the organization's policy asks of a learner after signing in.
//!
//! The OpenID Connect exchange itself is in [`linkedin`]; this module keeps
//! the rules and the records. Tokens are never stored: only the member's
//! `sub`, name, email and picture, from the verified ID token.

pub mod linkedin;
mod queries;

pub use queries::purge_expired_pending;

use chrono::{NaiveDateTime, TimeDelta};
use serde_json::json;

use crate::accounts::learners::Learner;
use crate::audit::{self, Action, Actor};
use crate::clock::Clock;
use crate::ids::{OrgId, UserId};
use crate::orgs::{Organization, ProfileBindingPolicy, SignInSettings};
use crate::secret::TokenHash;
use crate::store::{self, DbConn, Store};
use linkedin::LinkedIn;

/// How long a learner may take at LinkedIn before the callback is refused.
const PENDING_LIFETIME: TimeDelta = TimeDelta::minutes(10);

/// A LinkedIn member, as the verified ID token describes them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    /// The member's stable identifier at LinkedIn (for this client).
    pub sub: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub picture: Option<String>,
}

/// A learner's connected profile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Binding {
    pub user: UserId,
    pub member: Member,
    pub bound_at: NaiveDateTime,
}

/// An authorization request sent to LinkedIn, awaiting its callback.
#[derive(Clone, Debug)]
pub(crate) struct Pending {
    /// SHA-256 of the `state` parameter.
    pub state: TokenHash,
    /// The session that started it: the callback must come back to the same one.
    pub session: TokenHash,
    pub user: UserId,
    /// Only when PKCE is on for the client (`linkedin_pkce`).
    pub pkce_verifier: Option<String>,
    pub nonce: String,
    /// Where the learner goes once connected.
    pub return_to: String,
    pub expires_at: NaiveDateTime,
}

/// What the policy asks of a signed-in learner.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gate {
    /// Nothing: on to learning.
    Open,
    /// Offer to connect once ("Connect" or "Not now").
    Prompt,
    /// No learning until connected.
    MustConnect,
}

/// The policy decision. An organization cannot require what this server
/// cannot do: without a LinkedIn client configured, nobody is held up.
pub fn gate(policy: ProfileBindingPolicy, available: bool, bound: bool, dismissed: bool) -> Gate {
    match policy {
        _ if !available || bound => Gate::Open,
        ProfileBindingPolicy::Disabled => Gate::Open,
        ProfileBindingPolicy::Required => Gate::MustConnect,
        ProfileBindingPolicy::Optional if dismissed => Gate::Open,
        ProfileBindingPolicy::Optional => Gate::Prompt,
    }
}

/// [`gate`] for a learner, from the database.
pub fn gate_for(
    conn: &mut DbConn,
    org: &Organization,
    learner: &Learner,
    available: bool,
) -> Result<Gate, store::Error> {
    if org.profile_binding_policy == ProfileBindingPolicy::Disabled || !available {
        return Ok(Gate::Open);
    }
    let bound = queries::binding_of(conn, learner.id)?.is_some();
    let dismissed = queries::prompt_dismissed(conn, learner.id)?;
    Ok(gate(
        org.profile_binding_policy,
        available,
        bound,
        dismissed,
    ))
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("this LinkedIn profile is already connected to another learner of the organization")]
    TakenByAnother,
    #[error("the organization does not allow connecting LinkedIn profiles")]
    NotAllowed,
    #[error(transparent)]
    Store(#[from] store::Error),
}

/// The learner's connected profile, if any.
pub fn binding_of(conn: &mut DbConn, learner: UserId) -> Result<Option<Binding>, store::Error> {
    queries::binding_of(conn, learner)
}

/// Connects `member` to `learner`, replacing the learner's previous binding;
/// refused when the member is another learner's in the same organization.
pub fn bind(
    conn: &mut DbConn,
    clock: &Clock,
    org: &Organization,
    learner: &Learner,
    member: &Member,
) -> Result<(), Error> {
    store::write_transaction(conn, |conn| bind_within(conn, clock, org, learner, member))
}

/// The learners a LinkedIn member is bound to, in any organization: how
/// "Sign in with LinkedIn" finds a learner (by member id, never by email).
pub fn learners_of_member(conn: &mut DbConn, sub: &str) -> Result<Vec<UserId>, store::Error> {
    queries::holders_of_member(conn, sub)
}

/// [`bind`] inside the caller's transaction.
pub(crate) fn bind_within(
    conn: &mut DbConn,
    clock: &Clock,
    org: &Organization,
    learner: &Learner,
    member: &Member,
) -> Result<(), Error> {
    if org.profile_binding_policy == ProfileBindingPolicy::Disabled {
        return Err(Error::NotAllowed);
    }
    match queries::holder_of(conn, org.id, &member.sub)? {
        Some(holder) if holder != learner.id => return Err(Error::TakenByAnother),
        _ => {}
    }
    queries::delete_binding(conn, learner.id)?;
    queries::insert_binding(conn, org.id, learner.id, member, clock.now_naive()).map_err(|e| {
        match e {
            // Another learner bound the same member a moment ago.
            store::Error::Duplicate => Error::TakenByAnother,
            other => other.into(),
        }
    })?;
    audit::record(
        conn,
        clock,
        audit::NewEvent::new(
            Some(org.id),
            &Actor::Learner(learner.id),
            Action::ProfileBound,
        )
        .target(learner.email.as_str())
        .details(json!({ "linkedin_sub": member.sub, "linkedin_name": member.name })),
    )?;
    Ok(())
}

/// Disconnects the learner's profile; whether there was one.
pub fn unbind(
    conn: &mut DbConn,
    clock: &Clock,
    actor: &Actor,
    learner: &Learner,
) -> Result<bool, store::Error> {
    store::write_transaction(conn, |conn| {
        let Some(binding) = queries::binding_of(conn, learner.id)? else {
            return Ok(false);
        };
        queries::delete_binding(conn, learner.id)?;
        record_unbound(
            conn,
            clock,
            actor,
            learner.org,
            learner.email.as_str(),
            &binding,
            "disconnected",
        )?;
        Ok(true)
    })
}

/// Removes every binding of the organization, when it switches to "not
/// allowed"; runs inside the caller's transaction.
fn unbind_all(
    conn: &mut DbConn,
    clock: &Clock,
    actor: &Actor,
    org: OrgId,
) -> Result<usize, store::Error> {
    let bindings = queries::bindings_of_org(conn, org)?;
    for binding in &bindings {
        queries::delete_binding(conn, binding.user)?;
        let email = crate::accounts::learners::find_by_id(conn, binding.user)?
            .map(|l| l.email.to_string())
            .unwrap_or_default();
        record_unbound(
            conn,
            clock,
            actor,
            org,
            &email,
            binding,
            "policy_not_allowed",
        )?;
    }
    Ok(bindings.len())
}

/// Changes the organization's sign-in settings and records them. Making
/// binding "not allowed" removes the bindings there are
/// (docs/profile-binding.md), in the same transaction.
pub fn set_sign_in_settings(
    conn: &mut DbConn,
    clock: &Clock,
    actor: &Actor,
    org: &Organization,
    settings: &SignInSettings,
) -> Result<(), store::Error> {
    store::write_transaction(conn, |conn| {
        if settings.profile_binding == ProfileBindingPolicy::Disabled
            && org.profile_binding_policy != ProfileBindingPolicy::Disabled
        {
            unbind_all(conn, clock, actor, org.id)?;
        }
        crate::orgs::save_sign_in_settings(conn, org.id, settings)?;
        audit::record(
            conn,
            clock,
            audit::NewEvent::new(Some(org.id), actor, Action::OrgSettingsChanged)
                .target(org.slug.as_str())
                .details(json!({
                    "learner_sign_in": settings.learner_sign_in.as_str(),
                    "profile_binding": settings.profile_binding.as_str(),
                    "learner_session_minutes": settings.learner_session.minutes(),
                    "clock_skew_seconds": settings.clock_skew.seconds(),
                })),
        )?;
        Ok(())
    })
}

fn record_unbound(
    conn: &mut DbConn,
    clock: &Clock,
    actor: &Actor,
    org: OrgId,
    email: &str,
    binding: &Binding,
    reason: &str,
) -> Result<(), store::Error> {
    audit::record(
        conn,
        clock,
        audit::NewEvent::new(Some(org), actor, Action::ProfileUnbound)
            .target(email)
            .details(json!({ "linkedin_sub": binding.member.sub, "reason": reason })),
    )
}

/// Remembers "Not now" on the optional prompt.
pub fn dismiss_prompt(
    conn: &mut DbConn,
    clock: &Clock,
    learner: &Learner,
) -> Result<(), store::Error> {
    queries::dismiss_prompt(conn, learner.id, clock.now_naive())
}

/// Why connecting a LinkedIn profile did not happen.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("the organization does not allow connecting LinkedIn profiles")]
    NotAllowed,
    #[error("connecting a LinkedIn profile is not set up on this server")]
    NotSetUp,
    #[error("the callback's state is unknown, expired or another session's")]
    UnknownAttempt,
    #[error("LinkedIn answered with the error {0:?}")]
    Declined(String),
    #[error("LinkedIn's answer carries no code")]
    NoCode,
    #[error(transparent)]
    LinkedIn(#[from] linkedin::Error),
    #[error("this LinkedIn profile is already connected to another learner of the organization")]
    TakenByAnother,
    #[error(transparent)]
    Store(#[from] store::Error),
}

impl From<Error> for ConnectError {
    fn from(e: Error) -> Self {
        match e {
            Error::TakenByAnother => Self::TakenByAnother,
            Error::NotAllowed => Self::NotAllowed,
            Error::Store(e) => Self::Store(e),
        }
    }
}

/// Who is connecting: the learner, their organization and the session the
/// callback must come back to.
pub struct Connecting<'a> {
    pub org: &'a Organization,
    pub learner: &'a Learner,
    pub session: &'a TokenHash,
}

/// Starts connecting: remembers state, nonce and PKCE verifier for this
/// session and returns the LinkedIn URL to send the browser to.
pub async fn begin_connect(
    store: &Store,
    clock: &Clock,
    linkedin: Option<&LinkedIn>,
    who: Connecting<'_>,
    return_to: &str,
) -> Result<String, ConnectError> {
    if who.org.profile_binding_policy == ProfileBindingPolicy::Disabled {
        return Err(ConnectError::NotAllowed);
    }
    let authorization = linkedin
        .ok_or(ConnectError::NotSetUp)?
        .authorization()
        .await?;
    let pending = Pending {
        state: authorization.state.hash(),
        session: who.session.clone(),
        user: who.learner.id,
        pkce_verifier: authorization.pkce_verifier,
        nonce: authorization.nonce,
        return_to: return_to.to_owned(),
        expires_at: clock.now_naive() + PENDING_LIFETIME,
    };
    store
        .run(move |conn| queries::insert_pending(conn, &pending))
        .await?;
    Ok(authorization.url)
}

/// LinkedIn's answer at the callback, as the browser brings it.
#[derive(Clone)]
pub struct Callback {
    pub code: Option<String>,
    pub state: Option<String>,
    pub error: Option<String>,
}

/// A connected profile, and where the learner goes on.
pub struct Connected {
    pub member: Member,
    pub return_to: String,
}

/// Finishes connecting: the `state` must name a pending attempt of this very
/// session and learner (used up either way); then a cancellation, an error
/// or a code is handled, and the verified member bound to the learner.
pub async fn finish_connect(
    store: &Store,
    clock: &Clock,
    linkedin: Option<&LinkedIn>,
    who: Connecting<'_>,
    callback: Callback,
) -> Result<Connected, ConnectError> {
    let presented = callback
        .state
        .as_deref()
        .and_then(crate::secret::SecretToken::from_presented);
    let now = clock.now_naive();
    let pending = match presented {
        Some(token) => {
            let hash = token.hash();
            store
                .run(move |conn| queries::take_pending(conn, &hash, now))
                .await?
        }
        None => None,
    };
    let pending = pending
        .filter(|p| &p.session == who.session && p.user == who.learner.id)
        .ok_or(ConnectError::UnknownAttempt)?;
    if let Some(error) = callback.error {
        return Err(ConnectError::Declined(error));
    }
    let code = callback.code.ok_or(ConnectError::NoCode)?;
    let member = linkedin
        .ok_or(ConnectError::NotSetUp)?
        .member(&code, pending.pkce_verifier, &pending.nonce)
        .await?;
    let (clock, org, learner, bound) = (
        clock.clone(),
        who.org.clone(),
        who.learner.clone(),
        member.clone(),
    );
    store
        .run(move |conn| bind(conn, &clock, &org, &learner, &bound))
        .await?;
    Ok(Connected {
        member,
        return_to: pending.return_to,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ProfileBindingPolicy::{Disabled, Optional, Required};

    #[test]
    fn required_holds_learners_until_connected() {
        assert_eq!(gate(Required, true, false, false), Gate::MustConnect);
        assert_eq!(
            gate(Required, true, false, true),
            Gate::MustConnect,
            "Not now does not apply"
        );
        assert_eq!(gate(Required, true, true, false), Gate::Open);
    }

    #[test]
    fn optional_asks_once() {
        assert_eq!(gate(Optional, true, false, false), Gate::Prompt);
        assert_eq!(gate(Optional, true, false, true), Gate::Open);
        assert_eq!(gate(Optional, true, true, false), Gate::Open);
    }

    #[test]
    fn not_allowed_and_unavailable_hold_nobody() {
        for bound in [false, true] {
            assert_eq!(gate(Disabled, true, bound, false), Gate::Open);
        }
        for policy in [Required, Optional, Disabled] {
            assert_eq!(gate(policy, false, false, false), Gate::Open);
        }
    }
}
