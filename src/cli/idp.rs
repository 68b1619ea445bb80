//! `seatgate idp ...`: identity provider connections.

use std::io::Write;

use super::Switch;
use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;

use std::collections::BTreeMap;

use crate::audit::Actor;
use crate::clock::Clock;
use crate::orgs;
use crate::orgs::connections::intake::{self, Requester, Source};
use crate::orgs::connections::{self, NewConnection, Policy, rollover};
use crate::saml::attributes::{Field, Preset};
use crate::saml::request::{AuthnContext, PASSWORD_PROTECTED_TRANSPORT};
use crate::store::Store;

#[derive(Subcommand)]
pub(super) enum IdpCommand {
    /// Add an IdP connection from its SAML metadata
    Add {
        /// The organization's slug
        org: String,
        /// Metadata XML file, or an http(s) URL (then refreshed daily)
        #[arg(long, value_name = "FILE|URL", required_unless_present = "entity_id", conflicts_with_all = ["entity_id", "sso_url", "certificate"])]
        metadata: Option<String>,
        /// Without metadata: the IdP's entity ID (with --sso-url and --certificate)
        #[arg(long, requires_all = ["sso_url", "certificate"])]
        entity_id: Option<String>,
        /// Without metadata: the IdP's HTTP-Redirect single sign-on URL
        #[arg(long, requires = "entity_id")]
        sso_url: Option<String>,
        /// Without metadata: a PEM signing certificate file (repeat for rollover)
        #[arg(long, value_name = "PEM_FILE", requires = "entity_id")]
        certificate: Vec<PathBuf>,
        /// Display name (default: the IdP's entity ID)
        #[arg(long)]
        name: Option<String>,
        /// Attribute names preset: entra, okta, onelogin, adfs, google, generic
        #[arg(long, default_value = "generic")]
        preset: String,
        /// Read a profile field from another attribute, e.g. --map email=workEmail
        #[arg(long = "map", value_name = "FIELD=ATTRIBUTE")]
        map: Vec<String>,
    },
    /// List an organization's IdP connections: id, name, entity ID, state
    List { org: String },
    /// Create a single-use, expiring link that lets someone without a
    /// console account set up this organization's SSO (prints the URL once)
    SetupLink {
        org: String,
        /// How long the link lives, in hours (at most 336)
        #[arg(long, default_value_t = crate::orgs::setup_links::DEFAULT_HOURS)]
        hours: u32,
    },
    /// Update a connection's trust without an outage: new metadata (a
    /// certificate it no longer lists stays trusted until removed or
    /// expired), or one certificate added or removed
    Update {
        org: String,
        id: String,
        /// The IdP's new metadata: an XML file or an http(s) URL
        #[arg(long, value_name = "FILE|URL", required_unless_present_any = ["add_certificate", "remove_certificate"], conflicts_with_all = ["add_certificate", "remove_certificate"])]
        metadata: Option<String>,
        /// Also trust this PEM certificate file
        #[arg(long, value_name = "PEM_FILE", conflicts_with = "remove_certificate")]
        add_certificate: Option<PathBuf>,
        /// Stop trusting the certificate with this SHA-256 fingerprint
        #[arg(long, value_name = "FINGERPRINT")]
        remove_certificate: Option<String>,
    },
    /// Remove an IdP connection (its learners keep their accounts)
    Remove { org: String, id: String },
    /// Change a connection's switches; those not given stay as they are
    Set {
        org: String,
        id: String,
        /// Accept sign-ins through this connection
        #[arg(long, value_name = "on|off")]
        enabled: Option<Switch>,
        /// Accept IdP-initiated (unsolicited) sign-ins, as app tiles need
        #[arg(long, value_name = "on|off")]
        idp_initiated: Option<Switch>,
        /// Refuse responses whose Assertion is not itself signed
        #[arg(long, value_name = "on|off")]
        require_signed_assertion: Option<Switch>,
        /// Accept SHA-1 signatures (legacy IdPs only)
        #[arg(long, value_name = "on|off")]
        allow_sha1: Option<Switch>,
        /// Learners whose assertion carries this attribute (with --admin-role-value) open the console
        #[arg(long, value_name = "NAME", requires = "admin_role_value")]
        admin_role_attribute: Option<String>,
        /// The value of --admin-role-attribute that grants the console, e.g. a group
        #[arg(long, value_name = "VALUE", requires = "admin_role_attribute")]
        admin_role_value: Option<String>,
        /// Stop granting the console through this connection's attributes
        #[arg(long, conflicts_with = "admin_role_attribute")]
        no_admin_role: bool,
        /// Rename the connection (learners see the name on the sign-in button; at most 200 characters)
        #[arg(long)]
        name: Option<String>,
        /// Send the AuthnRequest by HTTP-Redirect or HTTP-POST (the metadata must list a POST URL)
        #[arg(long, value_name = "redirect|post")]
        binding: Option<String>,
        /// Sign the AuthnRequest (off only for an IdP that refuses signed requests)
        #[arg(long, value_name = "on|off")]
        sign_requests: Option<Switch>,
        /// Ask the IdP to sign the learner in again even with a session (ForceAuthn)
        #[arg(long, value_name = "on|off")]
        force_authn: Option<Switch>,
        /// Refuse assertions that are not encrypted
        #[arg(long, value_name = "on|off")]
        require_encrypted_assertion: Option<Switch>,
        /// The NameID format to ask for: none, unspecified, email, persistent, transient
        #[arg(long, value_name = "FORMAT")]
        name_id_format: Option<String>,
        /// The authentication context to ask for: none, password-protected-transport, or a class URI
        #[arg(long, value_name = "CONTEXT")]
        authn_context: Option<String>,
        /// How the IdP's context must compare: exact, minimum, maximum, better
        #[arg(long, value_name = "COMPARISON", requires = "authn_context")]
        authn_context_comparison: Option<String>,
    },
}

pub(super) fn run(
    command: IdpCommand,
    settings: &crate::config::Settings,
    store: &Store,
    clock: &Clock,
) -> anyhow::Result<()> {
    let mut conn = store.connection()?;
    let mut out = std::io::stdout().lock();
    match command {
        IdpCommand::Add {
            org,
            metadata,
            entity_id,
            sso_url,
            certificate,
            name,
            preset,
            map,
        } => {
            let org = orgs::find(&mut conn, &org)?;
            let (source, metadata_url) = match (metadata, entity_id, sso_url) {
                (Some(url), _, _) if intake::is_url(&url) => (Source::Url(url.clone()), Some(url)),
                (Some(file), _, _) => {
                    let bytes = std::fs::read(&file)
                        .with_context(|| format!("cannot read metadata file {file}"))?;
                    (Source::File(bytes), None)
                }
                (None, Some(entity_id), Some(sso_url)) => {
                    let mut certificates = Vec::new();
                    for path in &certificate {
                        certificates.push(std::fs::read(path).with_context(|| {
                            format!("cannot read certificate file {}", path.display())
                        })?);
                    }
                    let manual = Source::Manual {
                        entity_id,
                        sso_url,
                        certificates,
                    };
                    (manual, None)
                }
                _ => unreachable!(
                    "clap requires --metadata or --entity-id with --sso-url and --certificate"
                ),
            };
            let parsed =
                actix_web::rt::System::new().block_on(intake::read(source, Requester::Operator))?;
            let mut overrides = BTreeMap::new();
            for pair in map {
                let (field, attribute) = pair
                    .split_once('=')
                    .with_context(|| format!("--map {pair:?}: expected FIELD=ATTRIBUTE"))?;
                overrides.insert(
                    field.parse::<Field>().map_err(anyhow::Error::msg)?,
                    attribute.to_owned(),
                );
            }
            let now = clock.now_naive();
            let expired: Vec<_> = parsed
                .certificates
                .iter()
                .filter(|c| c.not_after <= now)
                .cloned()
                .collect();
            let connection = connections::add(
                &mut conn,
                clock,
                &Actor::Cli,
                &org,
                parsed,
                NewConnection {
                    name,
                    metadata_url,
                    preset: preset.parse::<Preset>().map_err(anyhow::Error::msg)?,
                    overrides,
                },
            )?;
            for cert in expired {
                eprintln!(
                    "warning: certificate {} ({}) expired on {}",
                    cert.fingerprint,
                    cert.subject,
                    cert.not_after.format("%Y-%m-%d")
                );
            }
            writeln!(
                out,
                "added IdP connection {} ({}) to {}",
                connection.id, connection.entity_id, org.slug
            )?;
        }
        IdpCommand::List { org } => {
            let org = orgs::find(&mut conn, &org)?;
            for c in connections::list(&mut conn, org.id)? {
                let state = if c.enabled { "enabled" } else { "disabled" };
                writeln!(out, "{}\t{}\t{}\t{state}", c.id, c.name, c.entity_id)?;
            }
        }
        IdpCommand::Set {
            org,
            id,
            enabled,
            idp_initiated,
            require_signed_assertion,
            allow_sha1,
            admin_role_attribute,
            admin_role_value,
            no_admin_role,
            name,
            binding,
            sign_requests,
            force_authn,
            require_encrypted_assertion,
            name_id_format,
            authn_context,
            authn_context_comparison,
        } => {
            let org = orgs::find(&mut conn, &org)?;
            let connection = find(&mut conn, &org, &id)?;
            let current = connection.policy();
            let policy = Policy {
                enabled: Switch::or(enabled, current.enabled),
                allow_idp_initiated: Switch::or(idp_initiated, current.allow_idp_initiated),
                require_signed_assertion: Switch::or(
                    require_signed_assertion,
                    current.require_signed_assertion,
                ),
                allow_sha1: Switch::or(allow_sha1, current.allow_sha1),
            };
            connections::set_policy(&mut conn, clock, &Actor::Cli, &org, connection.id, policy)?;
            let role = match (admin_role_attribute, admin_role_value) {
                (Some(attribute), Some(value)) => {
                    Some(connections::AdminRole::from_input(&attribute, &value)?)
                }
                _ if no_admin_role => Some(None),
                _ => None,
            };
            if let Some(role) = role {
                connections::set_admin_role(
                    &mut conn,
                    clock,
                    &Actor::Cli,
                    &org,
                    connection.id,
                    role,
                )?;
            }
            if let Some(name) = name {
                let name =
                    connections::rename(&mut conn, clock, &Actor::Cli, &org, connection.id, &name)?;
                writeln!(out, "{}: name {name}", connection.id)?;
            }
            let asked = binding.is_some()
                || sign_requests.is_some()
                || force_authn.is_some()
                || require_encrypted_assertion.is_some()
                || name_id_format.is_some()
                || authn_context.is_some();
            if asked {
                let mut saml = connection.saml.clone();
                if let Some(binding) = binding {
                    saml.request.binding = binding.parse().map_err(anyhow::Error::msg)?;
                }
                saml.sign_requests = Switch::or(sign_requests, saml.sign_requests);
                saml.request.force_authn = Switch::or(force_authn, saml.request.force_authn);
                saml.require_encrypted_assertion = Switch::or(
                    require_encrypted_assertion,
                    saml.require_encrypted_assertion,
                );
                if let Some(format) = name_id_format {
                    saml.request.name_id_format = match format.as_str() {
                        "none" => None,
                        text => Some(text.parse().map_err(anyhow::Error::msg)?),
                    };
                }
                if let Some(context) = authn_context {
                    let comparison = authn_context_comparison
                        .as_deref()
                        .unwrap_or("exact")
                        .parse()
                        .map_err(anyhow::Error::msg)?;
                    saml.request.authn_context = match context.as_str() {
                        "none" => None,
                        "password-protected-transport" => Some(
                            AuthnContext::new(PASSWORD_PROTECTED_TRANSPORT, comparison)
                                .map_err(anyhow::Error::msg)?,
                        ),
                        uri => {
                            Some(AuthnContext::new(uri, comparison).map_err(anyhow::Error::msg)?)
                        }
                    };
                }
                connections::set_saml_options(
                    &mut conn,
                    clock,
                    &Actor::Cli,
                    &org,
                    connection.id,
                    &saml,
                )?;
                let on_off = |on: bool| if on { "on" } else { "off" };
                writeln!(
                    out,
                    "{}: binding {}, sign-requests {}, force-authn {}, require-encrypted-assertion {}, name-id-format {}, authn-context {}",
                    connection.id,
                    saml.request.binding.as_str(),
                    on_off(saml.sign_requests),
                    on_off(saml.request.force_authn),
                    on_off(saml.require_encrypted_assertion),
                    saml.request.name_id_format.map_or("none", |f| f.as_str()),
                    saml.request
                        .authn_context
                        .as_ref()
                        .map_or("none".to_owned(), |c| format!(
                            "{} ({})",
                            c.class_ref(),
                            c.comparison.as_str()
                        )),
                )?;
            }
            let on_off = |on: bool| if on { "on" } else { "off" };
            writeln!(
                out,
                "{}: enabled {}, idp-initiated {}, require-signed-assertion {}, allow-sha1 {}",
                connection.id,
                on_off(policy.enabled),
                on_off(policy.allow_idp_initiated),
                on_off(policy.require_signed_assertion),
                on_off(policy.allow_sha1)
            )?;
        }
        IdpCommand::Update {
            org,
            id,
            metadata,
            add_certificate,
            remove_certificate,
        } => {
            let org = orgs::find(&mut conn, &org)?;
            let connection = find(&mut conn, &org, &id)?;
            if let Some(metadata) = metadata {
                let source = if intake::is_url(&metadata) {
                    Source::Url(metadata)
                } else {
                    Source::File(
                        std::fs::read(&metadata)
                            .with_context(|| format!("cannot read metadata file {metadata}"))?,
                    )
                };
                let parsed = actix_web::rt::System::new()
                    .block_on(intake::read(source, Requester::Operator))?;
                let changes =
                    rollover::update(&mut conn, clock, &Actor::Cli, &org, connection.id, &parsed)?;
                if changes.is_empty() {
                    writeln!(out, "{}: unchanged", connection.id)?;
                }
                if let Some(url) = &changes.sso_url {
                    writeln!(out, "{}: single sign-on URL now {url}", connection.id)?;
                }
                for (verb, certs) in [
                    ("added", &changes.added),
                    (
                        "retiring (trusted until removed or expired)",
                        &changes.retiring,
                    ),
                    ("dropped (retired and expired)", &changes.dropped),
                ] {
                    for cert in certs {
                        writeln!(
                            out,
                            "{}: certificate {verb}: {}",
                            connection.id, cert.fingerprint
                        )?;
                    }
                }
            } else if let Some(path) = add_certificate {
                let pem = std::fs::read(&path)
                    .with_context(|| format!("cannot read certificate file {}", path.display()))?;
                let certificate = crate::saml::metadata::Certificate::from_pem(&pem)?;
                let fingerprint = certificate.fingerprint.clone();
                rollover::add_certificate(
                    &mut conn,
                    clock,
                    &Actor::Cli,
                    &org,
                    connection.id,
                    certificate,
                )?;
                writeln!(out, "{}: certificate added: {fingerprint}", connection.id)?;
            } else if let Some(fingerprint) = remove_certificate {
                let removed = rollover::remove_certificate(
                    &mut conn,
                    clock,
                    &Actor::Cli,
                    &org,
                    connection.id,
                    &fingerprint,
                )?;
                writeln!(
                    out,
                    "{}: certificate removed: {}",
                    connection.id, removed.fingerprint
                )?;
            }
        }
        IdpCommand::SetupLink { org, hours } => {
            let org = orgs::find(&mut conn, &org)?;
            let created = crate::orgs::setup_links::create(
                &mut conn,
                clock,
                &Actor::Cli,
                &settings.base_url,
                &org,
                hours,
            )?;
            writeln!(
                out,
                "setup link for {} (expires {}, works once):",
                org.slug,
                created.link.expires_at.and_utc().to_rfc3339()
            )?;
            writeln!(out, "{}", created.url)?;
        }
        IdpCommand::Remove { org, id } => {
            let org = orgs::find(&mut conn, &org)?;
            let not_found = || connections::Error::NotFound {
                org: org.slug.to_string(),
                id: id.clone(),
            };
            let id = id.parse().map_err(|_| not_found())?;
            let removed = connections::remove(&mut conn, clock, &Actor::Cli, &org, id)?;
            writeln!(
                out,
                "removed IdP connection {} ({})",
                removed.id, removed.entity_id
            )?;
        }
    }
    Ok(())
}

/// Connection `id` (as typed) of `org`.
fn find(
    conn: &mut crate::store::DbConn,
    org: &orgs::Organization,
    id: &str,
) -> Result<connections::IdpConnection, connections::Error> {
    connections::list(conn, org.id)?
        .into_iter()
        .find(|c| c.id.to_string() == id)
        .ok_or_else(|| connections::Error::NotFound {
            org: org.slug.to_string(),
            id: id.to_owned(),
        })
}
