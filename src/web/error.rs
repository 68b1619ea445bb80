//! The one mapping from domain errors to HTTP responses.
//!
//! People see a calm page with a reference, the request id; the log gets the
//! precise reason in that request's span.

use actix_web::http::StatusCode;
use actix_web::http::header::LOCATION;
use actix_web::{HttpResponse, ResponseError};

use super::pages;
use crate::invitations::Status;
use crate::{accounts, imports, orgs, store};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("not found")]
    NotFound,
    /// The page needs a signed-in administrator.
    #[error("sign-in required")]
    SignInRequired,
    /// The page needs a learner signed in with single sign-on.
    #[error("learner sign-in required")]
    LearnerSignInRequired,
    #[error("forbidden for this account")]
    Forbidden,
    /// A state-changing request without a valid CSRF token or from another site.
    #[error("forbidden: {0}")]
    CsrfRejected(&'static str),
    #[error("this link can no longer be used")]
    LinkGone,
    /// An invitation link that is unknown, or was accepted, cancelled or expired.
    /// `None`: no invitation has that link.
    #[error("invitation link unusable: {0:?}")]
    InvitationUnusable(Option<crate::invitations::Status>),
    #[error("too many failed sign-ins")]
    Throttled,
    /// Too many sign-in responses from one address; try again after this long.
    #[error("too many sign-in attempts from this address")]
    RateLimited(std::time::Duration),
    #[error("bad request: {0}")]
    BadRequest(String),
    /// An upload over its form's limit, in bytes.
    #[error("the upload is larger than {} KiB", .0 / 1024)]
    UploadTooLarge(usize),
    /// A SAML sign-in refused; already logged and recorded under its reference.
    #[error("single sign-on refused: {}", .0.failure)]
    SignInRefused(crate::signin::Refusal),
    #[error("storage: {0}")]
    Store(#[from] store::Error),
    #[error("page rendering: {0}")]
    Render(#[from] askama::Error),
}

impl From<orgs::Error> for Error {
    fn from(e: orgs::Error) -> Self {
        match e {
            orgs::Error::NotFound(_) => Error::NotFound,
            orgs::Error::Store(e) => Error::Store(e),
            other => Error::BadRequest(other.to_string()),
        }
    }
}

impl From<imports::Error> for Error {
    fn from(e: imports::Error) -> Self {
        match e {
            imports::Error::NotFound => Error::NotFound,
            imports::Error::Store(e) => Error::Store(e),
            other => Error::BadRequest(pages::sentence(&other.to_string())),
        }
    }
}

impl From<accounts::admins::Error> for Error {
    fn from(e: accounts::admins::Error) -> Self {
        match e {
            accounts::admins::Error::LinkUnusable => Error::LinkGone,
            accounts::admins::Error::Store(e) => Error::Store(e),
            other => Error::BadRequest(other.to_string()),
        }
    }
}

impl From<crate::invitations::Error> for Error {
    fn from(e: crate::invitations::Error) -> Self {
        use crate::invitations::Error as E;
        match e {
            E::NotFound => Error::NotFound,
            E::Store(e) => Error::Store(e),
            other => Error::BadRequest(super::pages::sentence(&other.to_string())),
        }
    }
}

impl Error {
    /// An invitation link that no longer leads anywhere gets the learner's
    /// page for it; other invitation errors map as usual.
    pub fn from_invitation_link(e: crate::invitations::Error) -> Self {
        match e {
            crate::invitations::Error::NotFound => Error::InvitationUnusable(None),
            crate::invitations::Error::Ended(status) => Error::InvitationUnusable(Some(status)),
            other => other.into(),
        }
    }
}

impl From<crate::signin::linkedin::Error> for Error {
    fn from(e: crate::signin::linkedin::Error) -> Self {
        use crate::signin::linkedin::Error as E;
        let says = match e {
            E::Store(e) => return Error::Store(e),
            E::Invitation(e) => return Error::from_invitation_link(e),
            E::UnknownMember => {
                "This LinkedIn profile is not connected to a learner here. If your organization \
                 invited you, open the link in your invitation email; otherwise ask your learning \
                 administrator for an invitation."
            }
            E::Binding(crate::binding::Error::TakenByAnother) => {
                "This LinkedIn profile is already connected to another learner of your \
                 organization. Sign in to LinkedIn as yourself and open your invitation link again."
            }
            E::UnknownAttempt => {
                "That LinkedIn sign-in expired or was started in another browser. Please start again."
            }
            E::Declined(error) if error == "access_denied" => {
                "You cancelled signing in with LinkedIn."
            }
            E::NotForThisOrganization | E::Binding(_) => {
                "Your organization's learners do not sign in with LinkedIn. Use your company \
                 sign-in, or ask your learning administrator."
            }
            E::SeveralOrganizations => {
                "This LinkedIn profile is connected in several organizations: open your \
                 organization's invitation or sign-in link instead."
            }
            E::NotSetUp => "Signing in with LinkedIn is not set up on this server.",
            E::Deactivated => {
                "Your account has been deactivated by your company. If you still need access to \
                 learning, ask your learning administrator."
            }
            other => {
                tracing::warn!(reason = %other, "LinkedIn sign-in failed");
                "LinkedIn could not complete the sign-in. Please try again."
            }
        };
        Error::BadRequest(says.to_owned())
    }
}

impl From<crate::licensing::Error> for Error {
    fn from(e: crate::licensing::Error) -> Self {
        match e {
            crate::licensing::Error::Store(e) => Error::Store(e),
            crate::licensing::Error::NoPool { .. } => Error::NotFound,
            other => Error::BadRequest(super::pages::sentence(&other.to_string())),
        }
    }
}

impl From<crate::scim::Error> for Error {
    fn from(e: crate::scim::Error) -> Self {
        match e {
            crate::scim::Error::NotFound(_) => Error::NotFound,
            crate::scim::Error::Store(e) => Error::Store(e),
            other => Error::BadRequest(super::pages::sentence(&other.to_string())),
        }
    }
}

impl From<crate::scim::ConfigError> for Error {
    fn from(e: crate::scim::ConfigError) -> Self {
        match e {
            crate::scim::ConfigError::NotFound(_) => Error::NotFound,
            crate::scim::ConfigError::Store(e) => Error::Store(e),
            other => Error::BadRequest(super::pages::sentence(&other.to_string())),
        }
    }
}

impl From<crate::orgs::connections::Error> for Error {
    fn from(e: crate::orgs::connections::Error) -> Self {
        match e {
            crate::orgs::connections::Error::NotFound { .. } => Error::NotFound,
            crate::orgs::connections::Error::Store(e) => Error::Store(e),
            other => Error::BadRequest(other.to_string()),
        }
    }
}

impl ResponseError for Error {
    fn status_code(&self) -> StatusCode {
        match self {
            Error::NotFound => StatusCode::NOT_FOUND,
            Error::SignInRequired | Error::LearnerSignInRequired => StatusCode::SEE_OTHER,
            Error::Forbidden => StatusCode::FORBIDDEN,
            Error::CsrfRejected(_) => StatusCode::FORBIDDEN,
            Error::LinkGone => StatusCode::GONE,
            Error::InvitationUnusable(None) => StatusCode::NOT_FOUND,
            Error::InvitationUnusable(_) => StatusCode::GONE,
            Error::Throttled | Error::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            Error::BadRequest(_) => StatusCode::BAD_REQUEST,
            Error::UploadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Error::SignInRefused(refusal) => match refusal.failure {
                crate::signin::Failure::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
                _ => StatusCode::FORBIDDEN,
            },
            Error::Store(_) | Error::Render(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        match self {
            Error::SignInRequired => {
                return HttpResponse::SeeOther()
                    .insert_header((LOCATION, "/admin/login"))
                    .finish();
            }
            // Learners sign in through their company: the start page says how.
            Error::LearnerSignInRequired => {
                return HttpResponse::SeeOther()
                    .insert_header((LOCATION, "/"))
                    .finish();
            }
            _ => {}
        }
        if let Error::SignInRefused(refusal) = self {
            return sign_in_refused_page(status, refusal);
        }
        let reference = &super::telemetry::reference();
        if status.is_server_error() {
            tracing::error!(reason = %self, "request failed");
        } else {
            tracing::warn!(reason = %self, "request refused");
        }
        let (title, explanation) = match self {
            Error::NotFound | Error::SignInRequired | Error::LearnerSignInRequired => {
                ("Page not found", "There is nothing at this address.".to_owned())
            }
            Error::Forbidden => (
                "Not for this account",
                "This page is for administrators. You are signed in with an account that cannot open it."
                    .to_owned(),
            ),
            Error::CsrfRejected(_) => (
                "Your form has expired",
                "For your safety the form could not be accepted. Go back, reload the page and try again."
                    .to_owned(),
            ),
            Error::LinkGone => (
                "This sign-in link can no longer be used",
                "Sign-in links work once and for 15 minutes. Ask your Seatgate operator for a new one."
                    .to_owned(),
            ),
            Error::InvitationUnusable(why) => (
                "This invitation link cannot be used",
                match why {
                    Some(Status::Accepted) => "It was used already: you have signed in with it. Sign in from the start page with your work email.",
                    Some(Status::Cancelled) => "Your administrator cancelled this invitation. Ask them for a new one if you need it.",
                    Some(Status::Expired) => "Invitation links work for 14 days. Ask your administrator to send you a new one.",
                    Some(Status::Pending) | None => "Check that you opened the whole link from your invitation email, or ask your administrator for a new one.",
                }
                .to_owned(),
            ),
            Error::Throttled => (
                "Too many failed sign-ins",
                "Sign-in is paused for this account for 15 minutes. Try again later.".to_owned(),
            ),
            Error::RateLimited(_) => (
                "Too many attempts",
                "Too many requests like this one came from your network in the last minute. Wait a \
                 minute and try again."
                    .to_owned(),
            ),
            Error::BadRequest(reason) => ("The request could not be accepted", reason.clone()),
            Error::UploadTooLarge(_) => (
                "The file is too large",
                pages::sentence(&self.to_string()),
            ),
            Error::SignInRefused(_) => unreachable!("rendered above"),
            Error::Store(_) | Error::Render(_) => (
                "Something went wrong on our side",
                "Please try again in a moment. If it keeps happening, tell your administrator the reference below."
                    .to_owned(),
            ),
        };
        let mut page = pages::error_page(status, title, &explanation, reference);
        if let Error::RateLimited(wait) = self {
            page.headers_mut().insert(
                actix_web::http::header::RETRY_AFTER,
                actix_web::http::header::HeaderValue::from(wait.as_secs().max(1)),
            );
        }
        page
    }
}

/// What a learner sees when their company sign-in fails: calm, with what to
/// try; the precise reason is in the log and the organization's SSO error list.
fn sign_in_refused_page(status: StatusCode, refusal: &crate::signin::Refusal) -> HttpResponse {
    let explanation = match &refusal.failure {
        crate::signin::Failure::NoEmail { tried } => format!(
            "Your company's identity provider did not send your email address. Your IT administrator \
             needs to send it as one of these attributes: {tried} (or as the NameID)."
        ),
        crate::signin::Failure::Deactivated(_) => "Your account has been deactivated by your \
             company. If you still need access to learning, ask your IT helpdesk to assign you \
             to the application again; give them the reference below."
            .to_owned(),
        _ => "Please go back and sign in again. If it keeps failing, give your IT helpdesk the reference below."
            .to_owned(),
    };
    pages::error_page(
        status,
        "Your company sign-in could not be completed",
        &explanation,
        &refusal.reference,
    )
}
