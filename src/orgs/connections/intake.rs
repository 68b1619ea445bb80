//! IdP metadata as people hand it in: a file, a URL to fetch, or the three
//! values typed by hand. The console and the CLI both read it here, so they
//! accept and refuse the same things, with the same messages.
//!
//! Fetching a URL is I/O on somebody's say-so. An organization's admin may
//! only have Seatgate fetch public https URLs: the host must not be, nor
//! resolve to, a private, loopback or link-local address (checked on the
//! addresses actually connected to, so DNS cannot be used to slip past), and
//! redirects are not followed. The operator, who runs the server, may fetch
//! any http(s) URL, such as an AD FS on the company network.

use std::error::Error as StdError;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::time::Duration;

use actix_tls::connect::{Resolve, Resolver};

use crate::saml::metadata::{Certificate, IdpMetadata, MAX_METADATA_BYTES, MetadataError};

const FETCH_TIMEOUT: Duration = Duration::from_secs(10);

/// Who asked for metadata to be fetched, which decides what a URL may name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Requester {
    /// An organization's admin in the console: public https hosts only.
    OrgAdmin,
    /// The operator, by CLI: any http(s) URL.
    Operator,
}

/// What was handed in.
pub enum Source {
    /// The bytes of a metadata XML file.
    File(Vec<u8>),
    /// A metadata URL to fetch.
    Url(String),
    /// The values typed by hand, with one or more PEM certificates.
    Manual {
        entity_id: String,
        sso_url: String,
        certificates: Vec<Vec<u8>>,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    #[error("the metadata is not text (UTF-8): it must be the IdP's metadata XML file")]
    NotText,
    #[error("{0:?} is not a URL")]
    NotAUrl(String),
    #[error("the metadata URL must start with https://")]
    NotHttps,
    #[error("the metadata URL must name a public host")]
    NotPublic,
    #[error("the single sign-on URL must be an http(s) URL")]
    BadSsoUrl,
    #[error("add the IdP's signing certificate")]
    NoCertificate,
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error(transparent)]
    Metadata(#[from] MetadataError),
}

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("cannot fetch {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("{url} answered HTTP {status}")]
    Status { url: String, status: u16 },
    #[error("the metadata at {url} is larger than 1 MiB or unreadable: {reason}")]
    Body { url: String, reason: String },
}

/// Whether a `--metadata` argument names a URL rather than a file.
pub fn is_url(text: &str) -> bool {
    text.starts_with("https://") || text.starts_with("http://")
}

/// Reads `source` into IdP metadata, fetching a URL as `requester` may.
pub async fn read(source: Source, requester: Requester) -> Result<IdpMetadata, IntakeError> {
    match source {
        Source::File(bytes) => {
            let text = std::str::from_utf8(&bytes).map_err(|_| IntakeError::NotText)?;
            Ok(text.parse()?)
        }
        Source::Url(url) => Ok(fetch(&url, requester).await?.parse()?),
        Source::Manual {
            entity_id,
            sso_url,
            certificates,
        } => {
            if certificates.is_empty() {
                return Err(IntakeError::NoCertificate);
            }
            let certificates = certificates
                .iter()
                .map(|pem| Certificate::from_pem(pem))
                .collect::<Result<Vec<_>, _>>()?;
            IdpMetadata::manual(entity_id, sso_url, certificates).map_err(|e| match e {
                MetadataError::NoSsoEndpoint => IntakeError::BadSsoUrl,
                other => other.into(),
            })
        }
    }
}

/// Whether `requester` may have Seatgate fetch `url`, judged on its text
/// (the addresses a name resolves to are checked when connecting).
pub fn check_url(url: &str, requester: Requester) -> Result<(), IntakeError> {
    let parsed = url::Url::parse(url).map_err(|_| IntakeError::NotAUrl(url.to_owned()))?;
    match requester {
        Requester::Operator if is_url(url) => Ok(()),
        Requester::Operator => Err(IntakeError::NotAUrl(url.to_owned())),
        Requester::OrgAdmin => {
            if parsed.scheme() != "https" {
                return Err(IntakeError::NotHttps);
            }
            let public = match parsed.host() {
                Some(url::Host::Ipv4(ip)) => is_public(ip.into()),
                Some(url::Host::Ipv6(ip)) => is_public(ip.into()),
                Some(url::Host::Domain(name)) => !name.eq_ignore_ascii_case("localhost"),
                None => false,
            };
            if public {
                Ok(())
            } else {
                Err(IntakeError::NotPublic)
            }
        }
    }
}

/// Fetches metadata text from `url`, with a timeout and a size limit, as
/// `requester` may.
pub async fn fetch(url: &str, requester: Requester) -> Result<String, IntakeError> {
    check_url(url, requester)?;
    let (resolver, redirects) = match requester {
        Requester::Operator => (Resolver::default(), 10),
        // A redirect could lead anywhere, and an IP literal in it would not
        // even reach the resolver: the IdP's metadata URL must be the final one.
        Requester::OrgAdmin => (Resolver::custom(PublicOnly), 0),
    };
    let connector = awc::Connector::new()
        .timeout(FETCH_TIMEOUT)
        .connector(actix_tls::connect::Connector::new(resolver).service());
    let client = awc::Client::builder()
        .connector(connector)
        .max_redirects(redirects)
        .timeout(FETCH_TIMEOUT)
        .finish();
    let unreachable = |reason: String| FetchError::Unreachable {
        url: url.to_owned(),
        reason,
    };
    let mut response = client
        .get(url)
        .send()
        .await
        .map_err(|e| unreachable(e.to_string()))?;
    if !response.status().is_success() {
        return Err(FetchError::Status {
            url: url.to_owned(),
            status: response.status().as_u16(),
        }
        .into());
    }
    let body = response
        .body()
        .limit(MAX_METADATA_BYTES)
        .await
        .map_err(|e| FetchError::Body {
            url: url.to_owned(),
            reason: e.to_string(),
        })?;
    String::from_utf8(body.to_vec()).map_err(|_| {
        FetchError::Body {
            url: url.to_owned(),
            reason: "not UTF-8".into(),
        }
        .into()
    })
}

/// Whether an address is on the public internet: not private, loopback,
/// link-local (cloud metadata services live there), shared, unspecified or
/// otherwise reserved, in either IP version.
fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_documentation()
                || v4.is_multicast()
                // 100.64.0.0/10, carrier-grade NAT; 0.0.0.0/8; 240.0.0.0/4.
                || (a == 100 && (64..128).contains(&b))
                || a == 0
                || a >= 240)
        }
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public(v4.into()),
            None => {
                !(v6.is_loopback()
                    || v6.is_unspecified()
                    || v6.is_unique_local()
                    || v6.is_unicast_link_local()
                    || v6.is_multicast())
            }
        },
    }
}

/// Resolves names as usual, and refuses a name with any non-public address.
struct PublicOnly;

type Lookup<'a> = Pin<Box<dyn Future<Output = Result<Vec<SocketAddr>, Box<dyn StdError>>> + 'a>>;

impl Resolve for PublicOnly {
    fn lookup<'a>(&'a self, host: &'a str, port: u16) -> Lookup<'a> {
        Box::pin(async move {
            let addresses: Vec<SocketAddr> = tokio::net::lookup_host((host, port)).await?.collect();
            if addresses.iter().any(|a| !is_public(a.ip())) {
                return Err(format!("{host} resolves to a non-public address").into());
            }
            Ok(addresses)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn org_admins_may_fetch_only_public_https_urls() {
        let admin = |url| check_url(url, Requester::OrgAdmin);
        assert!(admin("https://login.microsoftonline.com/x/federationmetadata.xml").is_ok());
        assert!(admin("https://8.8.8.8/m").is_ok());
        for refused in [
            "http://idp.example/metadata",
            "https://127.0.0.1/metadata",
            "https://10.1.2.3/metadata",
            "https://172.16.0.1/m",
            "https://192.168.0.1/m",
            "https://100.64.0.1/m",
            "https://0.0.0.0/m",
            "https://169.254.169.254/latest/meta-data",
            "https://[::1]/m",
            "https://[fd00::1]/m",
            "https://[fe80::1]/m",
            "https://[::ffff:127.0.0.1]/m",
            "https://localhost/m",
            "file:///etc/passwd",
            "not a url",
        ] {
            assert!(admin(refused).is_err(), "{refused}");
        }
    }

    #[test]
    fn operators_may_fetch_any_http_url() {
        let operator = |url| check_url(url, Requester::Operator);
        assert!(
            operator("http://adfs.corp.local/FederationMetadata/2007-06/FederationMetadata.xml")
                .is_ok()
        );
        assert!(operator("http://127.0.0.1:8080/m").is_ok());
        assert!(operator("file:///etc/passwd").is_err());
        assert!(operator("ftp://idp.example/m").is_err());
    }

    #[actix_rt::test]
    async fn names_resolving_to_internal_addresses_are_refused_on_connect() {
        // "localhost" passes no text check here: the resolver alone refuses it.
        let refused = PublicOnly.lookup("localhost", 443).await;
        assert!(refused.is_err(), "{refused:?}");
        let literal = PublicOnly.lookup("127.0.0.1", 443).await;
        assert!(literal.is_err(), "{literal:?}");
    }

    #[actix_rt::test]
    async fn manual_values_need_a_certificate_and_an_http_sso_url() {
        let manual = |sso_url: &str, certificates| Source::Manual {
            entity_id: "https://idp.example".into(),
            sso_url: sso_url.into(),
            certificates,
        };
        assert!(matches!(
            read(
                manual("https://idp.example/sso", vec![]),
                Requester::Operator
            )
            .await,
            Err(IntakeError::NoCertificate)
        ));
        assert!(matches!(
            read(
                manual("https://idp.example/sso", vec![b"nope".to_vec()]),
                Requester::Operator
            )
            .await,
            Err(IntakeError::Metadata(_))
        ));
        assert!(matches!(
            read(Source::File(vec![0xff, 0xfe]), Requester::Operator).await,
            Err(IntakeError::NotText)
        ));
    }
}
