//! Settings: defaults < TOML file (`--config`) < `SEATGATE_*` environment < command-line flags,
//! validated once at start-up into typed values.

use std::fmt;
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use url::Url;

const DEFAULT_BIND: &str = "127.0.0.1:8080";
const DEFAULT_DATABASE_URL: &str = "sqlite://data/seatgate.db";
const DEFAULT_BASE_URL: &str = "http://127.0.0.1:8080";
const DEFAULT_CERTS_DIR: &str = "certs";
const DEFAULT_LINKEDIN_ISSUER: &str = "https://www.linkedin.com/oauth";
/// Ten a second from one address: a company's NAT at nine in the morning
/// stays well below, one attacker's address gets about 1 % of a core.
const DEFAULT_ACS_RATE_LIMIT: &str = "600";
/// 100 requests a second per token: far above what Entra ID and Okta send
/// in a provisioning cycle, low enough that one leaked token cannot keep the
/// database busy for everyone; raise it for a big initial import.
const DEFAULT_SCIM_RATE_LIMIT: &str = "6000";

/// Validated settings of one Seatgate process.
#[derive(Clone, Debug)]
pub struct Settings {
    pub bind: SocketAddr,
    pub database_url: DatabaseUrl,
    pub base_url: BaseUrl,
    pub certs_dir: PathBuf,
    /// Serve the built-in development IdP at `/demo-idp` (never in production).
    pub demo_idp: bool,
    /// Sign-in responses (`POST /sso/{org}/acs`) one client address may post
    /// per minute; `None` for no limit.
    pub acs_rate_limit: Option<NonZeroU32>,
    /// SCIM requests one configuration's token may make per minute; `None`
    /// for no limit.
    pub scim_rate_limit: Option<NonZeroU32>,
    /// Sign-in responses one organization's learners may post per minute,
    /// all addresses together; `None` (the default) for no limit.
    pub acs_org_rate_limit: Option<NonZeroU32>,
    /// Administrator sign-in attempts per client address and minute.
    pub admin_login_rate_limit: Option<NonZeroU32>,
    /// Invitation and setup-link requests per client address and minute.
    pub link_rate_limit: Option<NonZeroU32>,
    /// The reverse proxies whose `X-Forwarded-For` is believed: the client
    /// address is the last one in it that is not one of these.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// "Sign In with LinkedIn using OpenID Connect"; `None` without a client ID:
    /// learners cannot connect a profile then, and pages say so.
    pub linkedin: Option<LinkedIn>,
    /// Outgoing email (invitations); `None` without `smtp_url`: links are
    /// then shown to copy instead of sent.
    pub mail: Option<Mail>,
    /// The SFTP drop folders (`imports/<org>/incoming/` under it), watched
    /// by `seatgate serve`; `None`: no drop folders.
    pub imports_dir: Option<PathBuf>,
    /// How often the drop folders are looked at.
    pub imports_poll: std::time::Duration,
    /// After SIGTERM: how long `/readyz` says 503 while requests are still
    /// served, so a load balancer stops sending new ones first.
    pub shutdown_drain: std::time::Duration,
    /// Then: how long requests under way may take to finish.
    pub shutdown_timeout: std::time::Duration,
    /// How often the purges and the metadata refresh run (in one process).
    pub housekeeping_interval: std::time::Duration,
    /// The bearer token Prometheus sends to `GET /metrics`; `None`: the
    /// endpoint is off (it names organizations and their seat counts).
    pub metrics_token: Option<ClientSecret>,
}

/// Where email goes out, and from whom.
#[derive(Clone, Debug)]
pub struct Mail {
    /// `smtp://host:port`, `smtp://host?tls=required` (STARTTLS) or
    /// `smtps://user:pass@host`: it may carry a password, so it is never printed.
    pub smtp_url: ClientSecret,
    pub from: String,
}

/// The LinkedIn (OpenID Connect) client Seatgate is registered as.
#[derive(Clone, Debug)]
pub struct LinkedIn {
    pub client_id: String,
    pub client_secret: ClientSecret,
    /// The OpenID Connect issuer, exactly as the provider spells it in its
    /// discovery document and ID tokens (no trailing slash added).
    pub issuer: String,
    /// Whether to use PKCE. LinkedIn refuses it (`invalid_client` at the
    /// token endpoint) unless it enabled PKCE for the app; a standard
    /// provider may require it.
    pub pkce: bool,
}

/// An OAuth client secret: never printed.
#[derive(Clone)]
pub struct ClientSecret(String);

impl ClientSecret {
    pub fn new(secret: String) -> Self {
        Self(secret)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// One layer of raw, unvalidated values (a file, the environment or the flags).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Layer {
    pub bind: Option<String>,
    pub database_url: Option<String>,
    pub base_url: Option<String>,
    pub certs_dir: Option<String>,
    #[serde(default, deserialize_with = "bool_as_text")]
    pub demo_idp: Option<String>,
    pub linkedin_client_id: Option<String>,
    pub linkedin_client_secret: Option<String>,
    pub linkedin_issuer: Option<String>,
    #[serde(default, deserialize_with = "bool_as_text")]
    pub linkedin_pkce: Option<String>,
    #[serde(default, deserialize_with = "number_as_text")]
    pub acs_rate_limit: Option<String>,
    #[serde(default, deserialize_with = "number_as_text")]
    pub scim_rate_limit: Option<String>,
    #[serde(default, deserialize_with = "number_as_text")]
    pub acs_org_rate_limit: Option<String>,
    #[serde(default, deserialize_with = "number_as_text")]
    pub admin_login_rate_limit: Option<String>,
    #[serde(default, deserialize_with = "number_as_text")]
    pub link_rate_limit: Option<String>,
    pub trusted_proxies: Option<String>,
    pub smtp_url: Option<String>,
    pub mail_from: Option<String>,
    pub imports_dir: Option<String>,
    #[serde(default, deserialize_with = "number_as_text")]
    pub imports_poll_seconds: Option<String>,
    #[serde(default, deserialize_with = "number_as_text")]
    pub shutdown_drain_seconds: Option<String>,
    #[serde(default, deserialize_with = "number_as_text")]
    pub shutdown_timeout_seconds: Option<String>,
    #[serde(default, deserialize_with = "number_as_text")]
    pub housekeeping_interval_seconds: Option<String>,
    pub metrics_token: Option<String>,
}

/// TOML writes `acs_rate_limit = 600`; the other layers carry text.
fn number_as_text<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    u32::deserialize(deserializer).map(|n| Some(n.to_string()))
}

/// TOML writes `demo_idp = true` and `linkedin_pkce = true`; the other layers carry text.
fn bool_as_text<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    bool::deserialize(deserializer).map(|b| Some(b.to_string()))
}

/// Why the configuration was refused; every message names the key and where it came from.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read configuration file {path}: {source}")]
    Unreadable {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("configuration file {path}: {message}")]
    Malformed { path: PathBuf, message: String },
    #[error("{key} (from {origin}): {problem}")]
    Invalid {
        key: &'static str,
        origin: Origin,
        problem: String,
    },
}

/// Where a value came from, for error messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    Default,
    File(PathBuf),
    Environment(&'static str),
    Flag(&'static str),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Default => f.write_str("the default"),
            Origin::File(path) => write!(f, "{}", path.display()),
            Origin::Environment(var) => write!(f, "environment variable {var}"),
            Origin::Flag(flag) => write!(f, "flag {flag}"),
        }
    }
}

impl Settings {
    /// Reads the optional file, then applies the environment (read through `env`) and the flags.
    pub fn load(
        file: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
        flags: Layer,
    ) -> Result<Self, ConfigError> {
        let from_file = match file {
            Some(path) => Some((path.to_path_buf(), read_file(path)?)),
            None => None,
        };
        let pick = |get: fn(&Layer) -> &Option<String>,
                    env_var: &'static str,
                    flag: &'static str,
                    default: &str| {
            let flag_value = get(&flags).clone().map(|v| (v, Origin::Flag(flag)));
            let env_value = || env(env_var).map(|v| (v, Origin::Environment(env_var)));
            let file_value = || {
                from_file.as_ref().and_then(|(path, layer)| {
                    get(layer).clone().map(|v| (v, Origin::File(path.clone())))
                })
            };
            flag_value
                .or_else(env_value)
                .or_else(file_value)
                .unwrap_or_else(|| (default.to_owned(), Origin::Default))
        };

        let (bind, origin) = pick(|l| &l.bind, "SEATGATE_BIND", "--bind", DEFAULT_BIND);
        let bind = bind.parse().map_err(|_| ConfigError::Invalid {
            key: "bind",
            origin,
            problem: format!("{bind:?} is not an address and port such as 127.0.0.1:8080"),
        })?;

        let (url, origin) = pick(
            |l| &l.database_url,
            "SEATGATE_DATABASE_URL",
            "--database-url",
            DEFAULT_DATABASE_URL,
        );
        let database_url = DatabaseUrl::parse(&url).map_err(|problem| ConfigError::Invalid {
            key: "database_url",
            origin,
            problem,
        })?;

        let (url, origin) = pick(
            |l| &l.base_url,
            "SEATGATE_BASE_URL",
            "--base-url",
            DEFAULT_BASE_URL,
        );
        let base_url = BaseUrl::parse(&url).map_err(|problem| ConfigError::Invalid {
            key: "base_url",
            origin,
            problem,
        })?;

        let (certs_dir, origin) = pick(
            |l| &l.certs_dir,
            "SEATGATE_CERTS_DIR",
            "--certs-dir",
            DEFAULT_CERTS_DIR,
        );
        if certs_dir.trim().is_empty() {
            return Err(ConfigError::Invalid {
                key: "certs_dir",
                origin,
                problem: "must name a folder".into(),
            });
        }

        let (demo_idp, origin) = pick(|l| &l.demo_idp, "SEATGATE_DEMO_IDP", "--demo-idp", "false");
        let demo_idp = switch("demo_idp", origin, &demo_idp)?;

        let (limit, origin) = pick(
            |l| &l.acs_rate_limit,
            "SEATGATE_ACS_RATE_LIMIT",
            "--acs-rate-limit",
            DEFAULT_ACS_RATE_LIMIT,
        );
        let acs_rate_limit = per_minute("acs_rate_limit", origin, &limit)?;
        let (limit, origin) = pick(
            |l| &l.scim_rate_limit,
            "SEATGATE_SCIM_RATE_LIMIT",
            "",
            DEFAULT_SCIM_RATE_LIMIT,
        );
        let scim_rate_limit = per_minute("scim_rate_limit", origin, &limit)?;
        let (limit, origin) = pick(
            |l| &l.acs_org_rate_limit,
            "SEATGATE_ACS_ORG_RATE_LIMIT",
            "",
            "0",
        );
        let acs_org_rate_limit = per_minute("acs_org_rate_limit", origin, &limit)?;
        let (limit, origin) = pick(
            |l| &l.admin_login_rate_limit,
            "SEATGATE_ADMIN_LOGIN_RATE_LIMIT",
            "",
            "30",
        );
        let admin_login_rate_limit = per_minute("admin_login_rate_limit", origin, &limit)?;
        let (limit, origin) = pick(
            |l| &l.link_rate_limit,
            "SEATGATE_LINK_RATE_LIMIT",
            "",
            "600",
        );
        let link_rate_limit = per_minute("link_rate_limit", origin, &limit)?;
        let (proxies, origin) = pick(|l| &l.trusted_proxies, "SEATGATE_TRUSTED_PROXIES", "", "");
        let trusted_proxies = proxies
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| {
                p.parse().map_err(|_| ConfigError::Invalid {
                    key: "trusted_proxies",
                    origin: origin.clone(),
                    problem: format!("{p:?} is not an IP address"),
                })
            })
            .collect::<Result<Vec<std::net::IpAddr>, _>>()?;

        // No command-line flags for these: a secret on the command line is
        // visible to every user of the machine.
        let (client_id, _) = pick(
            |l| &l.linkedin_client_id,
            "SEATGATE_LINKEDIN_CLIENT_ID",
            "",
            "",
        );
        let (client_secret, secret_origin) = pick(
            |l| &l.linkedin_client_secret,
            "SEATGATE_LINKEDIN_CLIENT_SECRET",
            "",
            "",
        );
        let (issuer, issuer_origin) = pick(
            |l| &l.linkedin_issuer,
            "SEATGATE_LINKEDIN_ISSUER",
            "",
            DEFAULT_LINKEDIN_ISSUER,
        );
        let (pkce, pkce_origin) = pick(|l| &l.linkedin_pkce, "SEATGATE_LINKEDIN_PKCE", "", "false");
        let pkce = switch("linkedin_pkce", pkce_origin, &pkce)?;
        let linkedin = match client_id.trim() {
            "" => None,
            client_id => {
                if client_secret.trim().is_empty() {
                    return Err(ConfigError::Invalid {
                        key: "linkedin_client_secret",
                        origin: secret_origin,
                        problem: "is required with linkedin_client_id".into(),
                    });
                }
                if !Url::parse(&issuer).is_ok_and(|u| matches!(u.scheme(), "https" | "http")) {
                    return Err(ConfigError::Invalid {
                        key: "linkedin_issuer",
                        origin: issuer_origin,
                        problem: format!("{issuer:?} is not an http(s) URL"),
                    });
                }
                Some(LinkedIn {
                    client_id: client_id.to_owned(),
                    client_secret: ClientSecret(client_secret.trim().to_owned()),
                    issuer,
                    pkce,
                })
            }
        };

        // No flag for the SMTP URL either: it may carry a password.
        let (smtp_url, smtp_origin) = pick(|l| &l.smtp_url, "SEATGATE_SMTP_URL", "", "");
        let (mail_from, from_origin) = pick(|l| &l.mail_from, "SEATGATE_MAIL_FROM", "", "");
        let mail = match smtp_url.trim() {
            "" => None,
            url => {
                if !Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "smtp" | "smtps")) {
                    return Err(ConfigError::Invalid {
                        key: "smtp_url",
                        origin: smtp_origin,
                        problem: "is not an smtp:// or smtps:// URL".into(),
                    });
                }
                if mail_from.parse::<lettre::message::Mailbox>().is_err() {
                    return Err(ConfigError::Invalid {
                        key: "mail_from",
                        origin: from_origin,
                        problem: format!(
                            "{mail_from:?} is not an address such as \"Seatgate <learning@example.com>\" \
                             (required with smtp_url)"
                        ),
                    });
                }
                Some(Mail {
                    smtp_url: ClientSecret(url.to_owned()),
                    from: mail_from,
                })
            }
        };

        let (imports_dir, _) = pick(
            |l| &l.imports_dir,
            "SEATGATE_IMPORTS_DIR",
            "--imports-dir",
            "",
        );
        let imports_dir = (!imports_dir.trim().is_empty()).then(|| PathBuf::from(imports_dir));
        let (poll, origin) = pick(
            |l| &l.imports_poll_seconds,
            "SEATGATE_IMPORTS_POLL_SECONDS",
            "",
            "10",
        );
        let imports_poll = match poll.trim().parse::<u64>() {
            Ok(seconds @ 1..=3600) => std::time::Duration::from_secs(seconds),
            _ => {
                return Err(ConfigError::Invalid {
                    key: "imports_poll_seconds",
                    origin,
                    problem: format!("{poll:?} is not a number of seconds from 1 to 3600"),
                });
            }
        };

        let seconds = |key: &'static str,
                       get: fn(&Layer) -> &Option<String>,
                       env_var: &'static str,
                       default: &str,
                       range: std::ops::RangeInclusive<u64>| {
            let (text, origin) = pick(get, env_var, "", default);
            match text.trim().parse::<u64>() {
                Ok(n) if range.contains(&n) => Ok(std::time::Duration::from_secs(n)),
                _ => Err(ConfigError::Invalid {
                    key,
                    origin,
                    problem: format!(
                        "{text:?} is not a number of seconds from {} to {}",
                        range.start(),
                        range.end()
                    ),
                }),
            }
        };
        let shutdown_drain = seconds(
            "shutdown_drain_seconds",
            |l| &l.shutdown_drain_seconds,
            "SEATGATE_SHUTDOWN_DRAIN_SECONDS",
            "5",
            0..=300,
        )?;
        let shutdown_timeout = seconds(
            "shutdown_timeout_seconds",
            |l| &l.shutdown_timeout_seconds,
            "SEATGATE_SHUTDOWN_TIMEOUT_SECONDS",
            "30",
            1..=3600,
        )?;
        let housekeeping_interval = seconds(
            "housekeeping_interval_seconds",
            |l| &l.housekeeping_interval_seconds,
            "SEATGATE_HOUSEKEEPING_INTERVAL_SECONDS",
            "600",
            1..=86_400,
        )?;

        let (metrics_token, metrics_origin) =
            pick(|l| &l.metrics_token, "SEATGATE_METRICS_TOKEN", "", "");
        let metrics_token = match metrics_token.trim() {
            "" => None,
            token if token.len() >= 16 => Some(ClientSecret(token.to_owned())),
            _ => {
                return Err(ConfigError::Invalid {
                    key: "metrics_token",
                    origin: metrics_origin,
                    problem: "is shorter than 16 characters".to_owned(),
                });
            }
        };

        Ok(Settings {
            bind,
            database_url,
            base_url,
            certs_dir: PathBuf::from(certs_dir),
            demo_idp,
            acs_rate_limit,
            scim_rate_limit,
            acs_org_rate_limit,
            admin_login_rate_limit,
            link_rate_limit,
            trusted_proxies,
            linkedin,
            mail,
            imports_dir,
            imports_poll,
            shutdown_drain,
            shutdown_timeout,
            housekeeping_interval,
            metrics_token,
        })
    }
}

/// A limit of requests per minute; 0 switches it off.
fn per_minute(
    key: &'static str,
    origin: Origin,
    text: &str,
) -> Result<Option<NonZeroU32>, ConfigError> {
    text.trim()
        .parse::<u32>()
        .map(NonZeroU32::new)
        .map_err(|_| ConfigError::Invalid {
            key,
            origin,
            problem: format!("{text:?} is not a number of requests per minute (0: no limit)"),
        })
}

/// An on/off setting.
fn switch(key: &'static str, origin: Origin, text: &str) -> Result<bool, ConfigError> {
    match text {
        "true" | "on" | "1" => Ok(true),
        "false" | "off" | "0" => Ok(false),
        other => Err(ConfigError::Invalid {
            key,
            origin,
            problem: format!("{other:?} is not true or false"),
        }),
    }
}

fn read_file(path: &Path) -> Result<Layer, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Unreadable {
        path: path.to_path_buf(),
        source,
    })?;
    toml::from_str(&text).map_err(|e| ConfigError::Malformed {
        path: path.to_path_buf(),
        message: e.message().to_owned(),
    })
}

/// Where the data lives: an embedded SQLite file or a PostgreSQL server.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// `sqlite://data/seatgate.db` (relative to the working directory) or `sqlite:///abs/path.db`.
    Sqlite(PathBuf),
    /// `postgres://user@host:port/db`, kept whole for libpq.
    Postgres(String),
}

impl DatabaseUrl {
    pub fn parse(text: &str) -> Result<Self, String> {
        if let Some(path) = text.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err("sqlite:// needs a file path, e.g. sqlite://data/seatgate.db".into());
            }
            return Ok(Self::Sqlite(PathBuf::from(path)));
        }
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            let url = Url::parse(text).map_err(|e| format!("not a valid PostgreSQL URL: {e}"))?;
            if url.host_str().is_none_or(str::is_empty) {
                return Err("the PostgreSQL URL needs a host".into());
            }
            return Ok(Self::Postgres(text.to_owned()));
        }
        let scheme = text.split("://").next().unwrap_or(text);
        Err(format!(
            "unsupported database {scheme:?}: use sqlite://PATH or postgres://USER@HOST/DB"
        ))
    }
}

/// Shows the URL without its password.
impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite(path) => write!(f, "sqlite://{}", path.display()),
            Self::Postgres(text) => match Url::parse(text) {
                Ok(mut url) if url.password().is_some() => {
                    let _ = url.set_password(Some("redacted"));
                    write!(f, "{url}")
                }
                _ => f.write_str(text),
            },
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({self})")
    }
}

/// The public URL of this Seatgate, without a trailing slash: SAML entity IDs,
/// ACS URLs and links are built from it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BaseUrl(String);

impl BaseUrl {
    pub fn parse(text: &str) -> Result<Self, String> {
        let url = Url::parse(text).map_err(|e| format!("{text:?} is not a URL: {e}"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!(
                "{text:?} must start with https:// (or http:// for local use)"
            ));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(format!("{text:?} has no host"));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(format!("{text:?} must not have a query or fragment"));
        }
        Ok(Self(url.as_str().trim_end_matches('/').to_owned()))
    }

    pub fn is_https(&self) -> bool {
        self.0.starts_with("https://")
    }

    /// An absolute URL for a local path that starts with `/`.
    pub fn join(&self, path: &str) -> String {
        debug_assert!(path.starts_with('/'));
        format!("{}{path}", self.0)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn defaults_apply_without_file_env_or_flags() {
        let settings = Settings::load(None, no_env, Layer::default()).expect("defaults are valid");
        assert_eq!(settings.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(
            settings.database_url,
            DatabaseUrl::Sqlite(PathBuf::from("data/seatgate.db"))
        );
        assert_eq!(settings.base_url.as_str(), "http://127.0.0.1:8080");
        assert_eq!(settings.certs_dir, PathBuf::from("certs"));
    }

    #[test]
    fn flags_beat_environment_which_beats_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("seatgate.toml");
        std::fs::write(
            &path,
            "bind = \"127.0.0.1:1001\"\nbase_url = \"https://file.example\"\ncerts_dir = \"file-certs\"\n",
        )
        .expect("write config");
        let env = |var: &str| match var {
            "SEATGATE_BIND" => Some("127.0.0.1:1002".to_owned()),
            "SEATGATE_BASE_URL" => Some("https://env.example/".to_owned()),
            _ => None,
        };
        let flags = Layer {
            bind: Some("127.0.0.1:1003".into()),
            ..Layer::default()
        };
        let settings = Settings::load(Some(&path), env, flags).expect("valid");
        assert_eq!(settings.bind.to_string(), "127.0.0.1:1003");
        assert_eq!(settings.base_url.as_str(), "https://env.example");
        assert_eq!(settings.certs_dir, PathBuf::from("file-certs"));
    }

    #[test]
    fn operations_settings_have_defaults_and_refuse_bad_values() {
        let defaults = Settings::load(None, no_env, Layer::default()).expect("defaults");
        assert_eq!(
            defaults.admin_login_rate_limit.map(NonZeroU32::get),
            Some(30)
        );
        assert_eq!(defaults.link_rate_limit.map(NonZeroU32::get), Some(600));
        assert_eq!(defaults.acs_org_rate_limit, None);
        assert!(defaults.trusted_proxies.is_empty());
        assert!(defaults.metrics_token.is_none());
        assert_eq!(defaults.shutdown_drain.as_secs(), 5);
        assert_eq!(defaults.shutdown_timeout.as_secs(), 30);
        assert_eq!(defaults.housekeeping_interval.as_secs(), 600);
        let env = |var: &str| match var {
            "SEATGATE_TRUSTED_PROXIES" => Some("10.0.0.5, ::1".to_owned()),
            "SEATGATE_METRICS_TOKEN" => Some("0123456789abcdef".to_owned()),
            _ => None,
        };
        let set = Settings::load(None, env, Layer::default()).expect("valid");
        assert_eq!(set.trusted_proxies.len(), 2);
        assert!(set.metrics_token.is_some());
        for (var, value, key) in [
            (
                "SEATGATE_TRUSTED_PROXIES",
                "proxy.internal",
                "trusted_proxies",
            ),
            ("SEATGATE_METRICS_TOKEN", "short", "metrics_token"),
            (
                "SEATGATE_SHUTDOWN_TIMEOUT_SECONDS",
                "0",
                "shutdown_timeout_seconds",
            ),
            (
                "SEATGATE_HOUSEKEEPING_INTERVAL_SECONDS",
                "soon",
                "housekeeping_interval_seconds",
            ),
        ] {
            let bad = |asked: &str| (asked == var).then(|| value.to_owned());
            let error = Settings::load(None, bad, Layer::default())
                .unwrap_err()
                .to_string();
            assert!(error.starts_with(key) && error.contains(var), "{error}");
        }
    }

    #[test]
    fn the_acs_rate_limit_reads_from_file_and_environment_and_zero_switches_it_off() {
        let defaults = Settings::load(None, no_env, Layer::default()).expect("defaults");
        assert_eq!(defaults.acs_rate_limit.map(NonZeroU32::get), Some(600));
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("seatgate.toml");
        std::fs::write(&path, "acs_rate_limit = 30\n").expect("write config");
        let from_file = Settings::load(Some(&path), no_env, Layer::default()).expect("valid");
        assert_eq!(from_file.acs_rate_limit.map(NonZeroU32::get), Some(30));
        let off = |var: &str| (var == "SEATGATE_ACS_RATE_LIMIT").then(|| "0".to_owned());
        assert_eq!(
            Settings::load(None, off, Layer::default())
                .expect("valid")
                .acs_rate_limit,
            None
        );
        let junk = |var: &str| (var == "SEATGATE_ACS_RATE_LIMIT").then(|| "lots".to_owned());
        let error = Settings::load(None, junk, Layer::default())
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("acs_rate_limit") && error.contains("SEATGATE_ACS_RATE_LIMIT"),
            "{error}"
        );
    }

    #[test]
    fn linkedin_pkce_is_off_unless_switched_on() {
        let env = |pkce: &'static str| {
            move |var: &str| match var {
                "SEATGATE_LINKEDIN_CLIENT_ID" => Some("client".to_owned()),
                "SEATGATE_LINKEDIN_CLIENT_SECRET" => Some("secret".to_owned()),
                "SEATGATE_LINKEDIN_PKCE" if !pkce.is_empty() => Some(pkce.to_owned()),
                _ => None,
            }
        };
        let pkce = |text| {
            Settings::load(None, env(text), Layer::default())
                .map(|s| s.linkedin.expect("configured").pkce)
        };
        assert!(!pkce("").expect("default"));
        assert!(pkce("true").expect("on"));
        assert!(!pkce("off").expect("off"));
        let error = pkce("maybe").unwrap_err().to_string();
        assert_eq!(
            error,
            "linkedin_pkce (from environment variable SEATGATE_LINKEDIN_PKCE): \"maybe\" is not true or false"
        );
    }

    #[test]
    fn mail_needs_an_smtp_url_and_a_sender_and_never_shows_the_url() {
        let env = |url: &'static str, from: &'static str| {
            move |var: &str| match var {
                "SEATGATE_SMTP_URL" => Some(url.to_owned()),
                "SEATGATE_MAIL_FROM" if !from.is_empty() => Some(from.to_owned()),
                _ => None,
            }
        };
        let load = |url, from| Settings::load(None, env(url, from), Layer::default());
        assert!(load("", "").expect("no mail").mail.is_none());
        let mail = load(
            "smtps://user:hunter2@mail.example",
            "Learning <l@example.com>",
        )
        .expect("mail")
        .mail
        .expect("configured");
        assert_eq!(mail.from, "Learning <l@example.com>");
        assert!(!format!("{mail:?}").contains("hunter2"));
        let error = load("http://user:hunter2@mail.example", "l@example.com")
            .unwrap_err()
            .to_string();
        assert_eq!(
            error,
            "smtp_url (from environment variable SEATGATE_SMTP_URL): is not an smtp:// or smtps:// URL"
        );
        let error = load("smtp://127.0.0.1:2525", "").unwrap_err().to_string();
        assert!(
            error.starts_with("mail_from (from the default): \"\" is not an address"),
            "{error}"
        );
    }

    #[test]
    fn unknown_file_key_is_named() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("seatgate.toml");
        std::fs::write(&path, "bnd = \"127.0.0.1:1\"\n").expect("write config");
        let error = Settings::load(Some(&path), no_env, Layer::default()).unwrap_err();
        assert!(error.to_string().contains("unknown field `bnd`"), "{error}");
    }

    #[test]
    fn malformed_values_name_key_and_origin() {
        let env = |var: &str| (var == "SEATGATE_BASE_URL").then(|| "ftp://x".to_owned());
        let error = Settings::load(None, env, Layer::default()).unwrap_err();
        let message = error.to_string();
        assert!(
            message.starts_with("base_url (from environment variable SEATGATE_BASE_URL)"),
            "{message}"
        );

        let flags = Layer {
            database_url: Some("mysql://x/y".into()),
            ..Layer::default()
        };
        let message = Settings::load(None, no_env, flags).unwrap_err().to_string();
        assert!(
            message.starts_with("database_url (from flag --database-url)"),
            "{message}"
        );

        let flags = Layer {
            bind: Some("localhost".into()),
            ..Layer::default()
        };
        let message = Settings::load(None, no_env, flags).unwrap_err().to_string();
        assert!(message.starts_with("bind (from flag --bind)"), "{message}");
    }

    #[test]
    fn database_url_display_hides_the_password() {
        let url = DatabaseUrl::parse("postgres://seatgate:hunter2@db.internal:5432/seatgate")
            .expect("valid");
        assert!(!url.to_string().contains("hunter2"));
        assert!(!format!("{url:?}").contains("hunter2"));
    }
}
