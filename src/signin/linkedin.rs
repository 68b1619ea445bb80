//! Signing in with LinkedIn, for organizations whose learners have no IdP
//! (`learner_sign_in` linkedin or both). An invited learner binds their
//! LinkedIn member from the invitation (activation); afterwards "Sign in
//! with LinkedIn" finds the learner by the bound member id only, never by the
//! email LinkedIn returns (LinkedIn does not verify it for us).
//!
//! The browser has no session yet, so the attempt is tied to it by a random
//! token in a cookie (only its hash is kept): LinkedIn's answer counts only in
//! the browser that asked, which stops login CSRF and a stolen `state`.

use chrono::TimeDelta;
use serde_json::json;

use super::queries::{self, LinkedInAttempt};
use crate::accounts::learners::{self, Learner};
use crate::audit::{self, Action, Actor};
use crate::binding::linkedin::{self, LinkedIn};
use crate::binding::{self, Callback, Member};
use crate::clock::Clock;
use crate::ids::InvitationId;
use crate::invitations;
use crate::orgs::{self, Organization};
use crate::secret::SecretToken;
use crate::sessions::{self, Principal, Started};
use crate::signin::LocalPath;
use crate::store::{self, DbConn, Store};

/// How long a browser may take at LinkedIn.
const ATTEMPT_LIFETIME: TimeDelta = TimeDelta::minutes(10);

/// What the sign-in is for.
pub enum Purpose<'a> {
    /// The invitation link's token: bind the member to the invited learner.
    Activate(&'a str),
    /// Find the learner the member is bound to, then go on to this path.
    SignIn(LocalPath),
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("signing in with LinkedIn is not set up on this server")]
    NotSetUp,
    #[error("the organization's learners do not sign in with LinkedIn")]
    NotForThisOrganization,
    #[error(transparent)]
    Invitation(#[from] invitations::Error),
    #[error("the LinkedIn answer is unknown, expired or for another browser")]
    UnknownAttempt,
    #[error("LinkedIn answered with the error {0:?}")]
    Declined(String),
    #[error("LinkedIn's answer carries no code")]
    NoCode,
    #[error(transparent)]
    LinkedIn(#[from] linkedin::Error),
    #[error("this LinkedIn profile is connected to no learner who signs in with LinkedIn")]
    UnknownMember,
    #[error("this LinkedIn profile is connected to learners of several organizations")]
    SeveralOrganizations,
    #[error("the learner was deactivated by the organization's IdP (SCIM)")]
    Deactivated,
    #[error(transparent)]
    Binding(binding::Error),
    #[error(transparent)]
    Store(#[from] store::Error),
}

impl From<binding::Error> for Error {
    fn from(e: binding::Error) -> Self {
        match e {
            binding::Error::Store(e) => Self::Store(e),
            other => Self::Binding(other),
        }
    }
}

impl From<orgs::Error> for Error {
    fn from(e: orgs::Error) -> Self {
        match e {
            orgs::Error::Store(e) => Self::Store(e),
            // An invitation's organization exists: only its loss is possible.
            _ => Self::Invitation(invitations::Error::NotFound),
        }
    }
}

/// An attempt started: where to send the browser, and the token for its cookie.
pub struct Begun {
    pub url: String,
    pub browser: SecretToken,
}

/// Starts a LinkedIn sign-in for `purpose`; an activation is checked first
/// (the invitation is open, the organization signs in with LinkedIn).
pub async fn begin(
    store: &Store,
    clock: &Clock,
    linkedin: Option<&LinkedIn>,
    purpose: Purpose<'_>,
) -> Result<Begun, Error> {
    let linkedin = linkedin.ok_or(Error::NotSetUp)?;
    let (invitation, return_to) = match purpose {
        Purpose::SignIn(return_to) => (None, return_to),
        Purpose::Activate(token) => {
            let (token, clock) = (token.to_owned(), clock.clone());
            let invitation = store
                .run(move |conn| {
                    let invitation = invitations::open(conn, &clock, &token)?;
                    let org = orgs::find_by_id(conn, invitation.org)?;
                    if !org.learner_sign_in.allows_linkedin() {
                        return Err(Error::NotForThisOrganization);
                    }
                    Ok(invitation)
                })
                .await?;
            (Some(invitation.id), LocalPath::home())
        }
    };
    let authorization = linkedin.authorization().await?;
    let browser = SecretToken::generate();
    let attempt = LinkedInAttempt {
        state: authorization.state.hash(),
        browser: browser.hash(),
        invitation,
        nonce: authorization.nonce,
        pkce_verifier: authorization.pkce_verifier,
        expires_at: clock.now_naive() + ATTEMPT_LIFETIME,
        return_to: return_to.as_str().to_owned(),
    };
    store
        .run(move |conn| queries::insert_linkedin_attempt(conn, &attempt))
        .await?;
    Ok(Begun {
        url: authorization.url,
        browser,
    })
}

/// LinkedIn's answer as the browser brings it, with the browser's token.
pub struct Answer {
    pub callback: Callback,
    pub browser: Option<String>,
}

/// A learner signed in with LinkedIn.
pub struct SignedIn {
    pub learner: Learner,
    pub org: Organization,
    pub started: Started,
    /// Whether this sign-in activated an invitation.
    pub activated: bool,
    /// Where the learner goes next.
    pub return_to: LocalPath,
}

/// Finishes a LinkedIn sign-in, or answers `None` when the callback's
/// `state` names no sign-in attempt (then it is a signed-in learner
/// connecting a profile: the one redirect URI serves both). The attempt must
/// be this browser's (used once either way); the member is verified at
/// LinkedIn, then bound to the invited learner or looked up by member id; a
/// session starts.
pub async fn finish(
    store: &Store,
    clock: &Clock,
    linkedin: Option<&LinkedIn>,
    answer: Answer,
) -> Result<Option<SignedIn>, Error> {
    let Answer { callback, browser } = answer;
    let Some(state) = callback
        .state
        .as_deref()
        .and_then(SecretToken::from_presented)
    else {
        return Ok(None);
    };
    let now = clock.now_naive();
    let Some(attempt) = store
        .run(move |conn| queries::take_linkedin_attempt(conn, &state.hash(), now))
        .await?
    else {
        return Ok(None);
    };
    let linkedin = linkedin.ok_or(Error::NotSetUp)?;
    let browser = browser
        .as_deref()
        .and_then(SecretToken::from_presented)
        .ok_or(Error::UnknownAttempt)?;
    if browser.hash() != attempt.browser {
        return Err(Error::UnknownAttempt);
    }
    if let Some(error) = callback.error {
        return Err(Error::Declined(error));
    }
    let code = callback.code.ok_or(Error::NoCode)?;
    let member = linkedin
        .member(&code, attempt.pkce_verifier, &attempt.nonce)
        .await?;
    // Checked when the attempt began; a stored value that no longer parses goes home.
    let return_to = attempt
        .return_to
        .parse()
        .unwrap_or_else(|()| LocalPath::home());
    let clock = clock.clone();
    store
        .run(move |conn| {
            store::write_transaction(conn, |conn| match attempt.invitation {
                Some(invitation) => activate(conn, &clock, invitation, &member),
                None => sign_in(conn, &clock, &member),
            })
        })
        .await
        .map(|signed_in| {
            Some(SignedIn {
                return_to,
                ..signed_in
            })
        })
}

/// Binds the member to the invited learner and signs them in.
fn activate(
    conn: &mut DbConn,
    clock: &Clock,
    invitation: InvitationId,
    member: &Member,
) -> Result<SignedIn, Error> {
    let invitation = invitations::open_by_id(conn, clock, invitation)?;
    let org = orgs::find_by_id(conn, invitation.org)?;
    if !org.learner_sign_in.allows_linkedin() {
        return Err(Error::NotForThisOrganization);
    }
    let learner = learners::find_by_id(conn, invitation.learner)?
        .ok_or(Error::Invitation(invitations::Error::NotFound))?;
    binding::bind_within(conn, clock, &org, &learner, member)?;
    invitations::accept(conn, clock, &learner)?;
    started(conn, clock, org, &learner, true)
}

/// Finds the learner the member is bound to, in an organization whose
/// learners sign in with LinkedIn, and signs them in.
fn sign_in(conn: &mut DbConn, clock: &Clock, member: &Member) -> Result<SignedIn, Error> {
    let mut found = Vec::new();
    for id in binding::learners_of_member(conn, &member.sub)? {
        let Some(learner) = learners::find_by_id(conn, id)? else {
            continue;
        };
        let org = orgs::find_by_id(conn, learner.org)?;
        if org.learner_sign_in.allows_linkedin() {
            found.push((learner, org));
        }
    }
    match found.len() {
        0 => Err(Error::UnknownMember),
        1 => {
            let (learner, org) = found.remove(0);
            started(conn, clock, org, &learner, false)
        }
        _ => Err(Error::SeveralOrganizations),
    }
}

fn started(
    conn: &mut DbConn,
    clock: &Clock,
    org: Organization,
    learner: &Learner,
    activated: bool,
) -> Result<SignedIn, Error> {
    if !learner.active {
        return Err(Error::Deactivated);
    }
    let learner = learners::record_sign_in(conn, clock, learner)?;
    audit::record(
        conn,
        clock,
        audit::NewEvent::new(
            Some(org.id),
            &Actor::Learner(learner.id),
            Action::UserSignedIn,
        )
        .target(learner.email.as_str())
        .details(json!({ "via": "linkedin", "activated": activated })),
    )?;
    let started = sessions::rotate_for(
        conn,
        clock,
        None,
        Principal::Learner(learner.id),
        org.learner_session.duration(),
    )?;
    Ok(SignedIn {
        learner,
        org,
        started,
        activated,
        return_to: LocalPath::home(),
    })
}
