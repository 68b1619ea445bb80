//! The learning applications behind Seatgate: OpenID Connect clients that an
//! operator registers (`seatgate app create`, the operators' console page).
//! An application's id is its `client_id`; a confidential application also
//! has a secret, shown once and kept only as its SHA-256 (it is 256 random
//! bits, so a slow password hash would add nothing but latency).

mod queries;

use std::fmt;
use std::str::FromStr;

use chrono::NaiveDateTime;
use serde_json::json;
use subtle::ConstantTimeEq;
use url::Url;

use crate::audit::{self, Action, Actor};
use crate::clock::Clock;
use crate::ids::ApplicationId;
use crate::secret::{SecretToken, TokenHash};
use crate::store::{self, DbConn};

/// How many redirect URIs one application may register.
const MAX_REDIRECT_URIS: usize = 20;
/// Bounds what we store and compare per URI.
const MAX_URI_LEN: usize = 2000;

/// An absolute URI an application registered, compared exactly (OAuth 2.0
/// Security BCP, RFC 9700 section 4.1.3: no pattern, no prefix matching).
/// https, or http on a loopback host for development and tests; no fragment
/// (RFC 6749, 3.1.2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RedirectUri(String);

impl FromStr for RedirectUri {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Error> {
        let invalid = |why: &str| Error::InvalidUri(format!("{text:?} {why}"));
        if text.len() > MAX_URI_LEN {
            return Err(invalid("is longer than 2,000 characters"));
        }
        let url = Url::parse(text).map_err(|_| invalid("is not an absolute URL"))?;
        let loopback = match url.host() {
            Some(url::Host::Domain(host)) => host == "localhost",
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        };
        match url.scheme() {
            "https" => {}
            "http" if loopback => {}
            _ => return Err(invalid("must use https (http only on localhost)")),
        }
        if url.fragment().is_some() {
            return Err(invalid("must not have a fragment (#...)"));
        }
        // Compared as registered, so keep the text exactly as given.
        Ok(Self(text.to_owned()))
    }
}

impl RedirectUri {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RedirectUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The algorithm an application's ID tokens are signed with (OpenID Connect
/// Registration's `id_token_signed_response_alg`; RS256 is the default every
/// client must support).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum IdTokenAlg {
    #[default]
    Rs256,
    Es256,
}

impl IdTokenAlg {
    pub fn as_str(self) -> &'static str {
        match self {
            IdTokenAlg::Rs256 => "RS256",
            IdTokenAlg::Es256 => "ES256",
        }
    }
}

impl FromStr for IdTokenAlg {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Error> {
        match text.to_ascii_uppercase().as_str() {
            "RS256" => Ok(IdTokenAlg::Rs256),
            "ES256" => Ok(IdTokenAlg::Es256),
            _ => Err(Error::InvalidAlg(text.to_owned())),
        }
    }
}

/// Whether the application can keep a secret (a server) or not (a
/// single-page or mobile app, which must use PKCE).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientKind {
    Confidential(TokenHash),
    Public,
}

/// A registered application.
#[derive(Clone, Debug)]
pub struct Application {
    pub id: ApplicationId,
    pub name: String,
    pub kind: ClientKind,
    pub redirect_uris: Vec<RedirectUri>,
    pub post_logout_redirect_uris: Vec<RedirectUri>,
    /// Where "Go to <application>" on the learner home leads.
    pub launch_url: RedirectUri,
    pub id_token_alg: IdTokenAlg,
    pub created_at: NaiveDateTime,
}

impl Application {
    pub fn is_public(&self) -> bool {
        self.kind == ClientKind::Public
    }

    /// The registered redirect URI equal to `presented`, if any.
    pub fn redirect_uri(&self, presented: &str) -> Option<&RedirectUri> {
        self.redirect_uris.iter().find(|u| u.as_str() == presented)
    }

    /// Whether `secret` is this application's secret: compared in constant
    /// time, through its hash. A public application has none.
    pub fn secret_matches(&self, secret: &str) -> bool {
        match (&self.kind, SecretToken::from_presented(secret)) {
            (ClientKind::Confidential(stored), Some(presented)) => presented
                .hash()
                .as_str()
                .as_bytes()
                .ct_eq(stored.as_str().as_bytes())
                .into(),
            _ => false,
        }
    }
}

/// What an operator registers.
#[derive(Clone, Debug)]
pub struct NewApplication {
    pub name: String,
    pub redirect_uris: Vec<RedirectUri>,
    pub post_logout_redirect_uris: Vec<RedirectUri>,
    /// Defaults to the first redirect URI's origin.
    pub launch_url: Option<RedirectUri>,
    pub public: bool,
    pub id_token_alg: IdTokenAlg,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("the application name must have 1 to 200 characters and no control characters")]
    InvalidName,
    #[error("an application named {0:?} exists already")]
    NameTaken(String),
    #[error("the redirect URI {0}")]
    InvalidUri(String),
    #[error("give at least one redirect URI and at most {MAX_REDIRECT_URIS}")]
    RedirectUriCount,
    #[error("the ID token algorithm {0:?} is not RS256 or ES256")]
    InvalidAlg(String),
    #[error("no application {0:?}")]
    NotFound(String),
    #[error("the application {0:?} is public: it has no secret to rotate")]
    PublicHasNoSecret(String),
    #[error(transparent)]
    Store(#[from] store::Error),
}

/// Registers an application; returns it with its secret (confidential
/// applications only), shown this once.
pub fn create(
    conn: &mut DbConn,
    clock: &Clock,
    actor: &Actor,
    new: NewApplication,
) -> Result<(Application, Option<SecretToken>), Error> {
    let name = new.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 200 || name.chars().any(char::is_control) {
        return Err(Error::InvalidName);
    }
    if new.redirect_uris.is_empty()
        || new.redirect_uris.len() > MAX_REDIRECT_URIS
        || new.post_logout_redirect_uris.len() > MAX_REDIRECT_URIS
    {
        return Err(Error::RedirectUriCount);
    }
    let launch_url = match new.launch_url {
        Some(url) => url,
        None => origin_of(&new.redirect_uris[0])?,
    };
    let secret = (!new.public).then(SecretToken::generate);
    let application = Application {
        id: ApplicationId::generate(),
        name,
        kind: match &secret {
            Some(secret) => ClientKind::Confidential(secret.hash()),
            None => ClientKind::Public,
        },
        redirect_uris: new.redirect_uris,
        post_logout_redirect_uris: new.post_logout_redirect_uris,
        launch_url,
        id_token_alg: new.id_token_alg,
        created_at: clock.now_naive(),
    };
    store::write_transaction(conn, |conn| {
        queries::insert(conn, &application).map_err(|e| match e {
            store::Error::Duplicate => Error::NameTaken(application.name.clone()),
            other => other.into(),
        })?;
        audit::record(
            conn,
            clock,
            audit::NewEvent::new(None, actor, Action::ApplicationCreated)
                .target(&application.id.to_string())
                .details(json!({ "name": application.name, "public": new.public })),
        )?;
        Ok::<_, Error>(())
    })?;
    Ok((application, secret))
}

/// `https://host/` of a registered URI: where the application lives.
fn origin_of(uri: &RedirectUri) -> Result<RedirectUri, Error> {
    let url = Url::parse(uri.as_str()).map_err(|_| Error::InvalidUri(uri.to_string()))?;
    format!("{}/", url.origin().ascii_serialization()).parse()
}

/// Every application, by name.
pub fn list(conn: &mut DbConn) -> Result<Vec<Application>, store::Error> {
    queries::list(conn)
}

/// The application whose client id is `client_id`, if any. Anything that is
/// not one of our ids names nothing.
pub fn find(conn: &mut DbConn, client_id: &str) -> Result<Option<Application>, store::Error> {
    match client_id.parse::<ApplicationId>() {
        Ok(id) => queries::by_id(conn, id),
        Err(_) => Ok(None),
    }
}

fn existing(conn: &mut DbConn, client_id: &str) -> Result<Application, Error> {
    find(conn, client_id)?.ok_or_else(|| Error::NotFound(client_id.to_owned()))
}

/// A new secret for a confidential application; the old one stops working at once.
pub fn rotate_secret(
    conn: &mut DbConn,
    clock: &Clock,
    actor: &Actor,
    client_id: &str,
) -> Result<(Application, SecretToken), Error> {
    store::write_transaction(conn, |conn| {
        let application = existing(conn, client_id)?;
        if application.is_public() {
            return Err(Error::PublicHasNoSecret(application.name));
        }
        let secret = SecretToken::generate();
        queries::set_secret(conn, application.id, &secret.hash())?;
        audit::record(
            conn,
            clock,
            audit::NewEvent::new(None, actor, Action::ApplicationSecretRotated)
                .target(&application.id.to_string())
                .details(json!({ "name": application.name })),
        )?;
        Ok((application, secret))
    })
}

/// Removes an application: its codes and tokens go with it.
pub fn remove(
    conn: &mut DbConn,
    clock: &Clock,
    actor: &Actor,
    client_id: &str,
) -> Result<Application, Error> {
    store::write_transaction(conn, |conn| {
        let application = existing(conn, client_id)?;
        queries::delete(conn, application.id)?;
        audit::record(
            conn,
            clock,
            audit::NewEvent::new(None, actor, Action::ApplicationRemoved)
                .target(&application.id.to_string())
                .details(json!({ "name": application.name })),
        )?;
        Ok(application)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uris_are_https_or_loopback_http_without_fragment() {
        assert!("https://learn.example/cb".parse::<RedirectUri>().is_ok());
        assert!("http://127.0.0.1:9000/cb".parse::<RedirectUri>().is_ok());
        assert!("http://localhost/cb".parse::<RedirectUri>().is_ok());
        assert!("http://learn.example/cb".parse::<RedirectUri>().is_err());
        assert!("https://learn.example/cb#x".parse::<RedirectUri>().is_err());
        assert!("javascript:alert(1)".parse::<RedirectUri>().is_err());
        assert!("/relative".parse::<RedirectUri>().is_err());
    }

    #[test]
    fn launch_url_defaults_to_the_first_redirect_uris_origin() {
        let uri: RedirectUri = "https://learn.example:8443/auth/cb?x=1".parse().unwrap();
        assert_eq!(
            origin_of(&uri).unwrap().as_str(),
            "https://learn.example:8443/"
        );
    }

    #[test]
    fn only_the_issued_secret_matches() {
        let secret = SecretToken::generate();
        let mut app = Application {
            id: ApplicationId::generate(),
            name: "LMS".into(),
            kind: ClientKind::Confidential(secret.hash()),
            redirect_uris: vec![],
            post_logout_redirect_uris: vec![],
            launch_url: "https://l.example/".parse().unwrap(),
            id_token_alg: IdTokenAlg::Rs256,
            created_at: chrono::DateTime::UNIX_EPOCH.naive_utc(),
        };
        assert!(app.secret_matches(secret.expose()));
        assert!(!app.secret_matches(SecretToken::generate().expose()));
        assert!(!app.secret_matches(secret.hash().as_str()));
        app.kind = ClientKind::Public;
        assert!(!app.secret_matches(secret.expose()));
    }
}
