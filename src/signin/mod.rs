//! The one sign-in use case: validate the SAML response, match or create the
//! learner, audit, start the session. Handlers call [`complete`] and render.

pub mod linkedin;
mod queries;
mod reason;
pub mod start;
pub mod verdict;

use std::fmt;
use std::str::FromStr;

use chrono::{NaiveDateTime, TimeDelta};
use serde_json::json;

use crate::accounts::Email;
use crate::accounts::jit::{self, Claim};
use crate::accounts::learners::Learner;
use crate::audit::{self, Action, Actor};
use crate::binding::{self, Gate};
use crate::clock::Clock;
use crate::config::BaseUrl;
use crate::ids::{ConnectionId, OrgId, SsoTestId};
use crate::licensing::{self, AutoAssign};
use crate::orgs::Organization;
use crate::orgs::connections::IdpConnection;
use crate::saml::SpEndpoints;
use crate::saml::keys::SpKeys;
use crate::saml::request::{self, RequestError};
use crate::saml::validate::{self, Expected, Rejection, Trust, VerifiedAssertion};
use crate::sessions::{self, Principal, Session, Started};
use crate::store::{self, DbConn};

pub use queries::{SsoError, purge_expired, recent_errors};
pub use reason::Reason;

/// How long an SP-initiated request waits for its response.
const REQUEST_LIFETIME: TimeDelta = TimeDelta::minutes(10);

/// A path on this site (`/courses/42?tab=2`), never another site: what
/// `return_to` and RelayState may hold, so sign-in cannot be an open redirect.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalPath(String);

impl FromStr for LocalPath {
    type Err = ();

    fn from_str(text: &str) -> Result<Self, ()> {
        let local = text.starts_with('/')
            && !text.starts_with("//")
            && !text.contains('\\')
            && !text.chars().any(char::is_control)
            && text.len() <= 2048;
        if local {
            Ok(Self(text.to_owned()))
        } else {
            Err(())
        }
    }
}

impl LocalPath {
    pub fn home() -> Self {
        Self("/".to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for LocalPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What the sign-in needs besides the database.
pub struct SsoContext<'a> {
    pub base_url: &'a BaseUrl,
    pub keys: std::sync::Arc<SpKeys>,
    pub clock: &'a Clock,
    /// Whether this server can connect LinkedIn profiles (a client is configured).
    pub linkedin_available: bool,
}

/// An SP-initiated sign-in on its way to the IdP: how the browser takes
/// the AuthnRequest there, and what [`remember`] keeps for the response's
/// InResponseTo.
pub struct Begun {
    to: ToIdp,
    request_id: String,
    org: OrgId,
    connection: ConnectionId,
    return_to: LocalPath,
    expires_at: NaiveDateTime,
    test: bool,
}

/// How the browser takes the AuthnRequest to the IdP.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ToIdp {
    /// Redirected to this URL (HTTP-Redirect binding).
    Redirect(String),
    /// A form posting `saml_request` as `SAMLRequest` to `url` (HTTP-POST).
    Post { url: String, saml_request: String },
}

impl Begun {
    /// How to send the browser.
    pub fn to(&self) -> &ToIdp {
        &self.to
    }
}

/// Starts an SP-initiated sign-in (the learner's, or the console's Test
/// sign-in when `test`): signs an AuthnRequest for `connection`. Needs no
/// database, so no pooled connection waits on the RSA signature; then
/// [`remember`] it.
pub fn begin(
    ctx: &SsoContext,
    org: &Organization,
    connection: &IdpConnection,
    return_to: LocalPath,
    test: bool,
) -> Result<Begun, RequestError> {
    let sp = SpEndpoints::for_org(ctx.base_url, &org.slug);
    let key = connection.saml.sign_requests.then_some(&ctx.keys.current);
    let options = &connection.saml.request;
    let (to, request_id) = match (options.binding, &connection.sso_post_url) {
        (request::Binding::Post, Some(post_url)) => {
            let post = request::authn_request_post(&sp, key, post_url, ctx.clock.now(), options)?;
            let to = ToIdp::Post {
                url: post.url,
                saml_request: post.saml_request,
            };
            (to, post.request_id)
        }
        // A POST binding without a POST URL cannot be saved; should the
        // metadata lose it, the redirect binding still signs people in.
        _ => {
            let redirect = request::authn_request_redirect(
                &sp,
                key,
                &connection.sso_url,
                ctx.clock.now(),
                options,
            )?;
            (ToIdp::Redirect(redirect.url), redirect.request_id)
        }
    };
    Ok(Begun {
        to,
        request_id,
        org: org.id,
        connection: connection.id,
        return_to,
        expires_at: ctx.clock.now_naive() + REQUEST_LIFETIME,
        test,
    })
}

/// Remembers a begun sign-in, for [`complete`] to match its response.
pub fn remember(conn: &mut DbConn, begun: &Begun) -> Result<(), store::Error> {
    queries::insert_request(
        conn,
        &queries::PendingRequest {
            id: &begun.request_id,
            org: begun.org,
            connection: begun.connection,
            return_to: begun.return_to.as_str(),
            expires_at: begun.expires_at,
            test: begun.test,
        },
    )
}

/// What a completed response did.
#[derive(Debug)]
pub enum Completed {
    SignedIn(Box<SignedIn>),
    /// A test sign-in from the console, passed or refused: nobody signed
    /// in, the verdict kept for the console to show.
    Tested(SsoTestId),
}

/// A learner signed in.
#[derive(Debug)]
pub struct SignedIn {
    pub learner: Learner,
    pub started: Started,
    pub return_to: LocalPath,
    /// What the LinkedIn policy asks before the learner goes on to `return_to`.
    pub gate: Gate,
    /// Whether this sign-in created the account.
    pub created: bool,
    /// The learner's license after "Automatically assign licenses" had its say.
    pub license: AutoAssign,
}

/// Why a sign-in failed. Messages are precise, for logs and the IdP admin.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    #[error(transparent)]
    Rejected(#[from] Rejection),
    #[error("{}", unknown_issuer(.0.as_deref()))]
    UnknownIssuer(Option<String>),
    #[error("InResponseTo {0:?} matches no outstanding sign-in request of ours")]
    UnknownRequest(String),
    #[error("assertion {0:?} was already used (replay)")]
    Replay(String),
    #[error(
        "the response carries no usable email address: send one of the attributes {tried}, or the email as NameID"
    )]
    NoEmail { tried: String },
    #[error("the email {0:?} sent by the IdP belongs to another learner of this organization")]
    EmailTaken(String),
    #[error("the learner {0} was deactivated by the organization's IdP (SCIM)")]
    Deactivated(Email),
    #[error("license assignment failed: {0}")]
    Licensing(#[from] crate::licensing::Error),
    #[error(transparent)]
    Store(#[from] store::Error),
}

fn unknown_issuer(issuer: Option<&str>) -> String {
    match issuer {
        Some(issuer) => {
            format!("no enabled IdP connection of this organization has the entity ID \"{issuer}\"")
        }
        None => "the response names no issuer (no Issuer element)".to_owned(),
    }
}

impl From<jit::Error> for Failure {
    fn from(error: jit::Error) -> Self {
        match error {
            jit::Error::NoEmail { tried } => Self::NoEmail { tried },
            jit::Error::EmailTaken(email) => Self::EmailTaken(email.to_string()),
            jit::Error::Store(e) => Self::Store(e),
        }
    }
}

impl Failure {
    pub fn reason(&self) -> Reason {
        self.into()
    }
}

/// A failed sign-in, with the reference code shown to the learner and kept in the SSO error list.
#[derive(Debug)]
pub struct Refusal {
    pub failure: Failure,
    pub reference: String,
}

/// What the browser posted to the ACS, besides the response itself.
pub struct Posted<'a> {
    /// What a refusal is filed under and shown as: the request id in the logs.
    pub reference: &'a str,
    pub relay_state: Option<&'a str>,
    /// The session the browser already had, if its cookie came along; it is
    /// replaced, never promoted.
    pub previous_session: Option<&'a Session>,
}

/// The outcome of [`check`], for [`complete`]: opaque, so nothing but
/// `complete` acts on it.
pub struct Checked {
    result: Result<Verified, (Failure, Option<ConnectionId>)>,
    /// The response as decoded, for a test sign-in's report.
    decoded: Option<validate::Decoded>,
    /// The request it claims to answer (unverified), to tell a test.
    claims_to_answer: Option<String>,
}

struct Verified {
    connection: IdpConnection,
    assertion: VerifiedAssertion,
}

/// The first half of a sign-in: validates a posted `SAMLResponse` against the
/// organization's enabled connections. Pure computation with bounded cost:
/// no database connection is held and nothing is fetched or opened, so
/// callers run it on the blocking pool without tying up the store.
pub fn check(
    ctx: &SsoContext,
    org: &Organization,
    connections: &[IdpConnection],
    saml_response: &str,
) -> Checked {
    let mut connection_id = None;
    let mut claims_to_answer = None;
    let decoded = match validate::decode(saml_response) {
        Ok(decoded) => decoded,
        Err(e) => {
            return Checked {
                result: Err((e.into(), None)),
                decoded: None,
                claims_to_answer: None,
            };
        }
    };
    let result = (|| {
        let parsed = decoded.parse()?;
        claims_to_answer = parsed.claimed_in_response_to().map(str::to_owned);
        let issuer = parsed.claimed_issuer();
        let connection = connections
            .iter()
            .find(|c| c.enabled && Some(c.entity_id.as_str()) == issuer)
            .ok_or_else(|| Failure::UnknownIssuer(issuer.map(str::to_owned)))?;
        connection_id = Some(connection.id);
        let sp = SpEndpoints::for_org(ctx.base_url, &org.slug);
        let certificates = connection.certificate_ders(ctx.clock.now_naive());
        let assertion = validate::validate(
            &parsed,
            &Trust {
                idp_entity_id: &connection.entity_id,
                certificates: &certificates,
                require_signed_assertion: connection.require_signed_assertion,
                require_encrypted_assertion: connection.saml.require_encrypted_assertion,
                allow_sha1: connection.allow_sha1,
                allow_unsolicited: connection.allow_idp_initiated,
            },
            &Expected {
                sp: &sp,
                keys: &ctx.keys,
                now: ctx.clock.now(),
                clock_skew: org.clock_skew.duration(),
            },
        )?;
        Ok(Verified {
            connection: connection.clone(),
            assertion,
        })
    })();
    Checked {
        result: result.map_err(|failure| (failure, connection_id)),
        decoded: Some(decoded),
        claims_to_answer,
    }
}

/// The second half: for a checked response, spends the assertion, matches
/// or creates the learner and signs them in. On failure (of the check or
/// here) the reason is logged and recorded for the organization's IdP admin,
/// and nothing else is written.
pub fn complete(
    conn: &mut DbConn,
    ctx: &SsoContext,
    org: &Organization,
    checked: Checked,
    posted: &Posted,
) -> Result<Completed, Refusal> {
    let Checked {
        result,
        decoded,
        claims_to_answer,
    } = checked;
    let (outcome, connection_id) = match result {
        Ok(verified) => {
            let id = verified.connection.id;
            (
                attempt(conn, ctx, org, verified, posted, decoded.as_ref()),
                Some(id),
            )
        }
        Err((failure, connection_id)) => (Err(failure), connection_id),
    };
    let failure = match outcome {
        Ok(done) => return Ok(done),
        Err(failure) => failure,
    };
    let refusal = {
        let reference = posted.reference.to_owned();
        tracing::warn!(
            org = org.slug.as_str(),
            connection = connection_id.map(|c| c.to_string()),
            reason = failure.reason().code(),
            detail = %failure,
            "SSO sign-in refused"
        );
        if let Err(e) = queries::record_error(
            conn,
            org.id,
            connection_id,
            &reference,
            failure.reason().code(),
            &failure.to_string(),
            ctx.clock.now_naive(),
        ) {
            tracing::error!(reason = %e, "cannot record the SSO error");
        }
        Refusal { failure, reference }
    };
    // A refused answer to a test request: its verdict goes to the console
    // that asked, never to the learner's error page.
    let Some(request) = claims_to_answer else {
        return Err(refusal);
    };
    match refused_test(conn, ctx, org, &request, &refusal.failure, decoded.as_ref()) {
        Ok(Some(tested)) => Ok(tested),
        Ok(None) => Err(refusal),
        Err(e) => {
            tracing::error!(reason = %e, "cannot record the test sign-in");
            Err(refusal)
        }
    }
}

/// When `request` is an outstanding test request of `org`, spends it and
/// records the refusal as its verdict.
fn refused_test(
    conn: &mut DbConn,
    ctx: &SsoContext,
    org: &Organization,
    request: &str,
    failure: &Failure,
    decoded: Option<&validate::Decoded>,
) -> Result<Option<Completed>, store::Error> {
    let now = ctx.clock.now_naive();
    let Some(connection) = queries::take_test_request(conn, request, org.id, now)? else {
        return Ok(None);
    };
    let name = crate::orgs::connections::find(conn, org, connection)
        .map(|c| c.name)
        .unwrap_or_else(|_| "a removed connection".to_owned());
    let sp = SpEndpoints::for_org(ctx.base_url, &org.slug);
    let verdict = verdict::Verdict {
        connection_name: name,
        checked_at: ctx
            .clock
            .now()
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        clock_skew_seconds: org.clock_skew.duration().num_seconds(),
        refusal: Some(verdict::Refused {
            code: failure.reason().code().to_owned(),
            detail: failure.to_string(),
            fix: failure.reason().fix(&sp),
        }),
        would_sign_in: None,
        sent: inspected(decoded),
    };
    let id = verdict::record(conn, org.id, now, &verdict)?;
    Ok(Some(Completed::Tested(id)))
}

/// What the IdP sent, for a test's report.
fn inspected(decoded: Option<&validate::Decoded>) -> crate::saml::inspect::Inspection {
    match decoded {
        Some(decoded) => crate::saml::inspect::inspect(decoded, decoded.parse().ok().as_ref()),
        None => crate::saml::inspect::Inspection::default(),
    }
}

fn attempt(
    conn: &mut DbConn,
    ctx: &SsoContext,
    org: &Organization,
    Verified {
        connection,
        assertion: verified,
    }: Verified,
    posted: &Posted,
    decoded: Option<&validate::Decoded>,
) -> Result<Completed, Failure> {
    store::write_transaction(conn, |conn| {
        let now = ctx.clock.now_naive();
        let (return_to, test) = match verified.in_response_to() {
            Some(request) => queries::take_request(conn, request, org.id, connection.id, now)?
                .and_then(|(path, test)| Some((path.parse().ok()?, test)))
                .ok_or_else(|| Failure::UnknownRequest(request.to_owned()))?,
            // IdP-initiated: RelayState, when the IdP sends one, is honoured only as a local path.
            None => (
                posted
                    .relay_state
                    .and_then(|r| r.parse().ok())
                    .unwrap_or_else(LocalPath::home),
                false,
            ),
        };
        queries::remember_assertion(
            conn,
            connection.id,
            verified.assertion_id(),
            verified.expires_at().naive_utc(),
        )
        .map_err(|e| match e {
            store::Error::Duplicate => Failure::Replay(verified.assertion_id().to_owned()),
            other => other.into(),
        })?;
        if test {
            return test_report(conn, ctx, org, &connection, &verified, decoded)
                .map(Completed::Tested);
        }
        let (mut learner, created) =
            jit::provision(conn, ctx.clock, org.id, &claim(&connection, &verified)?)?;
        // The transaction rolls back: a refused sign-in changes nothing.
        if !learner.active {
            return Err(Failure::Deactivated(learner.email));
        }
        crate::invitations::accept(conn, ctx.clock, &learner)?;
        if let Some(role) = &connection.admin_role {
            let granted = role.granted_by(verified.attributes());
            if granted != learner.is_admin {
                crate::accounts::learners::change_admin(
                    conn,
                    ctx.clock,
                    &Actor::System,
                    &learner,
                    granted,
                )?;
                learner.is_admin = granted;
            }
        }
        if crate::groups::sync_from_sign_in(
            conn,
            ctx.clock,
            org.id,
            learner.id,
            verified.attributes(),
        )? {
            // A learner the IdP also provisions over SCIM holds what mapped groups give.
            crate::scim::licenses::reconcile(conn, ctx.clock, org, &learner)?;
        }
        let license = licensing::auto_assign(conn, ctx.clock, org, &learner)?;
        crate::orgs::connections::signed_in(conn, connection.id, now)?;
        audit::record(
            conn,
            ctx.clock,
            audit::NewEvent::new(
                Some(org.id),
                &Actor::Learner(learner.id),
                Action::UserSignedIn,
            )
            .target(learner.email.as_str())
            .details(json!({ "connection": connection.id.to_string() })),
        )?;
        // Never longer than the IdP's own session (SessionNotOnOrAfter).
        let lifetime = org.learner_session.duration();
        let lifetime = verified
            .session_not_on_or_after()
            .map_or(lifetime, |end| lifetime.min(end - ctx.clock.now()));
        let started = sessions::rotate_for(
            conn,
            ctx.clock,
            posted.previous_session,
            Principal::Learner(learner.id),
            lifetime,
        )?;
        let gate = binding::gate_for(conn, org, &learner, ctx.linkedin_available)?;
        Ok(Completed::SignedIn(Box::new(SignedIn {
            learner,
            started,
            return_to,
            gate,
            created,
            license,
        })))
    })
}

/// A test sign-in that passed: what the IdP sent and whom it would sign
/// in; audited, the assertion spent, the verdict kept for the console, but
/// no account or session touched.
fn test_report(
    conn: &mut DbConn,
    ctx: &SsoContext,
    org: &Organization,
    connection: &IdpConnection,
    verified: &VerifiedAssertion,
    decoded: Option<&validate::Decoded>,
) -> Result<SsoTestId, Failure> {
    let claim = claim(connection, verified)?;
    let existing = jit::matches(conn, org.id, &claim)?;
    // A passing test shows the connection working, as a real sign-in does.
    crate::orgs::connections::signed_in(conn, connection.id, ctx.clock.now_naive())?;
    audit::record(
        conn,
        ctx.clock,
        audit::NewEvent::new(Some(org.id), &Actor::System, Action::SsoTestSignIn)
            .target(claim.email.as_str())
            .details(json!({ "connection": connection.id.to_string(), "existing": existing })),
    )?;
    let verdict = verdict::Verdict {
        connection_name: connection.name.clone(),
        checked_at: ctx
            .clock
            .now()
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        clock_skew_seconds: org.clock_skew.duration().num_seconds(),
        refusal: None,
        would_sign_in: Some(verdict::Person {
            email: claim.email.to_string(),
            display_name: claim.display_name,
            existing,
            name_id: verified.name_id().to_owned(),
            attributes: verified.attributes().to_vec(),
        }),
        sent: inspected(decoded),
    };
    Ok(verdict::record(
        conn,
        org.id,
        ctx.clock.now_naive(),
        &verdict,
    )?)
}

/// What the assertion says about the person, read by the connection's mapping.
fn claim(connection: &IdpConnection, verified: &VerifiedAssertion) -> Result<Claim, Failure> {
    Ok(Claim::from_attributes(
        connection.id,
        &connection.mapping,
        verified.name_id(),
        verified.attributes(),
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_accepted() {
        for good in ["/", "/courses/42?tab=2", "/a/b#c"] {
            assert!(good.parse::<LocalPath>().is_ok(), "{good}");
        }
        for bad in [
            "",
            "https://evil.example/",
            "//evil.example",
            "/\\evil.example",
            "javascript:alert(1)",
            "/a\nb",
        ] {
            assert!(bad.parse::<LocalPath>().is_err(), "{bad}");
        }
    }
}
