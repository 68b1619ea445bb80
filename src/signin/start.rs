//! Where a learner signs in, found from their work email: the organization
//! whose email domains include it, then its single sign-on (home realm
//! discovery). An unknown domain says so and names nobody: the start page
//! must not become a list of our customers.

use crate::accounts::Email;
use crate::orgs::{self, EmailDomain, LearnerSignIn, OrgSlug, connections};
use crate::store::{self, DbConn};

/// Where the learner goes.
#[derive(Debug, PartialEq, Eq)]
pub enum Route {
    /// The organization's SSO (one IdP: straight there; several: the chooser).
    Sso(OrgSlug),
    /// "Sign in with LinkedIn" (an organization without SSO).
    LinkedIn,
    /// The organization has no IdP switched on yet.
    NotSetUp,
}

#[derive(Debug, thiserror::Error)]
pub enum RouteError {
    #[error("{0:?} is not an email address")]
    NotAnEmail(String),
    #[error("no organization has the email domain {0:?}")]
    UnknownDomain(String),
    #[error(transparent)]
    Store(#[from] store::Error),
}

/// Where `email` signs in.
pub fn route_for(conn: &mut DbConn, email: &str) -> Result<Route, RouteError> {
    let email: Email = email
        .parse()
        .map_err(|_| RouteError::NotAnEmail(email.to_owned()))?;
    let unknown = || RouteError::UnknownDomain(email.domain().to_owned());
    let domain: EmailDomain = email.domain().parse().map_err(|_| unknown())?;
    let org = orgs::by_email_domain(conn, &domain)?.ok_or_else(unknown)?;
    let enabled = connections::list(conn, org.id)?.iter().any(|c| c.enabled);
    Ok(match org.learner_sign_in {
        LearnerSignIn::Sso | LearnerSignIn::Both if enabled => Route::Sso(org.slug),
        LearnerSignIn::Linkedin | LearnerSignIn::Both => Route::LinkedIn,
        LearnerSignIn::Sso => Route::NotSetUp,
    })
}
