//! `seatgate org ...`: organizations and their settings.

use std::io::Write;

use super::Switch;

use clap::{Subcommand, ValueEnum};

use crate::audit::Actor;
use crate::binding;
use crate::clock::Clock;
use crate::licensing::{self, LicenseType};
use crate::orgs::{
    self, DisplayName, EmailDomain, LearnerSignIn, OrgSlug, Organization, ProfileBindingPolicy,
};
use crate::store::Store;

#[derive(Subcommand)]
pub(super) enum OrgCommand {
    /// Create an organization
    Create {
        /// Short name used in URLs, e.g. "acme"
        slug: String,
        /// Display name, e.g. "Acme Corporation"
        #[arg(long)]
        name: String,
    },
    /// List organizations, one per line: slug, then name
    List,
    /// Show one organization and its settings
    Show { slug: String },
    /// Change an organization's settings
    Set {
        slug: String,
        /// Automatically assign licenses at first sign-in
        #[arg(long, value_name = "on|off")]
        auto_assign: Option<Switch>,
        /// The license pool automatic assignment draws from
        #[arg(long, value_name = "TYPE")]
        license_type: Option<String>,
        /// Whether learners connect their LinkedIn profile ("disabled" disconnects existing ones)
        #[arg(long, value_name = "required|optional|disabled")]
        profile_binding: Option<BindingPolicy>,
        /// How learners sign in: their IdP, LinkedIn (for organizations
        /// without SSO: invited learners bind LinkedIn and sign in with it), or both
        #[arg(long, value_name = "sso|linkedin|both")]
        learner_sign_in: Option<SignInMode>,
        /// The email domains of the organization's learners, comma-separated
        /// (replaces the list; "" for none): the start page sends their
        /// addresses to this organization's sign-in
        #[arg(long, value_name = "DOMAIN,...")]
        email_domains: Option<String>,
        /// SAML attributes whose values make groups at each sign-in,
        /// comma-separated (replaces the list; "" for none), e.g. department
        #[arg(long, value_name = "ATTRIBUTE,...")]
        group_attributes: Option<String>,
        /// Learners need a license to be signed in to applications (without
        /// one they see why, never the application)
        #[arg(long, value_name = "on|off")]
        apps_require_license: Option<Switch>,
    },
}

/// A learner sign-in mode on the command line.
#[derive(Clone, Copy, ValueEnum)]
pub(super) enum SignInMode {
    Sso,
    Linkedin,
    Both,
}

impl From<SignInMode> for LearnerSignIn {
    fn from(mode: SignInMode) -> Self {
        match mode {
            SignInMode::Sso => Self::Sso,
            SignInMode::Linkedin => Self::Linkedin,
            SignInMode::Both => Self::Both,
        }
    }
}

/// A profile binding policy on the command line.
#[derive(Clone, Copy, ValueEnum)]
pub(super) enum BindingPolicy {
    Required,
    Optional,
    Disabled,
}

impl From<BindingPolicy> for ProfileBindingPolicy {
    fn from(policy: BindingPolicy) -> Self {
        match policy {
            BindingPolicy::Required => Self::Required,
            BindingPolicy::Optional => Self::Optional,
            BindingPolicy::Disabled => Self::Disabled,
        }
    }
}

pub(super) fn run(command: OrgCommand, store: &Store, clock: &Clock) -> anyhow::Result<()> {
    let mut conn = store.connection()?;
    let mut out = std::io::stdout().lock();
    match command {
        OrgCommand::Create { slug, name } => {
            let org = orgs::create(
                &mut conn,
                clock,
                &Actor::Cli,
                slug.parse::<OrgSlug>()?,
                name.parse::<DisplayName>()?,
            )?;
            writeln!(
                out,
                "created organization {} ({})",
                org.slug, org.display_name
            )?;
        }
        OrgCommand::List => {
            for org in orgs::list(&mut conn)? {
                writeln!(out, "{}\t{}", org.slug, org.display_name)?;
            }
        }
        OrgCommand::Show { slug } => {
            let org = orgs::find(&mut conn, &slug)?;
            show_org(
                &mut out,
                &org,
                &orgs::email_domains(&mut conn, &org)?,
                &crate::groups::attributes(&mut conn, org.id)?,
            )?;
        }
        OrgCommand::Set {
            slug,
            auto_assign,
            license_type,
            profile_binding,
            learner_sign_in,
            email_domains,
            group_attributes,
            apps_require_license,
        } => {
            let org = orgs::find(&mut conn, &slug)?;
            if let Some(switch) = apps_require_license {
                let required = Switch::or(Some(switch), org.apps_require_license);
                orgs::set_apps_require_license(&mut conn, clock, &Actor::Cli, &org, required)?;
            }
            if let Some(list) = group_attributes {
                let names = crate::groups::parse_attributes(&list)?;
                crate::groups::set_attributes(&mut conn, clock, &Actor::Cli, org.id, &names)?;
            }
            if let Some(list) = email_domains {
                let domains = orgs::parse_email_domains(&list)?;
                orgs::set_email_domains(&mut conn, clock, &Actor::Cli, &org, &domains)?;
            }
            if profile_binding.is_some() || learner_sign_in.is_some() {
                binding::set_sign_in_settings(
                    &mut conn,
                    clock,
                    &Actor::Cli,
                    &org,
                    &orgs::SignInSettings {
                        learner_sign_in: learner_sign_in.map_or(org.learner_sign_in, Into::into),
                        profile_binding: profile_binding
                            .map_or(org.profile_binding_policy, Into::into),
                        learner_session: org.learner_session,
                        clock_skew: org.clock_skew,
                    },
                )?;
            }
            if auto_assign.is_some() || license_type.is_some() {
                let license_type = license_type.map(|t| t.parse::<LicenseType>()).transpose()?;
                let on = Switch::or(auto_assign, org.auto_assign_licenses);
                licensing::set_auto_assign(&mut conn, clock, &Actor::Cli, &org, on, license_type)?;
            }
            let org = orgs::find(&mut conn, &slug)?;
            show_org(
                &mut out,
                &org,
                &orgs::email_domains(&mut conn, &org)?,
                &crate::groups::attributes(&mut conn, org.id)?,
            )?;
        }
    }
    Ok(())
}

fn show_org(
    out: &mut impl Write,
    org: &Organization,
    domains: &[EmailDomain],
    group_attributes: &[String],
) -> std::io::Result<()> {
    let on_off = |on: bool| if on { "on" } else { "off" };
    writeln!(out, "slug: {}", org.slug)?;
    writeln!(out, "name: {}", org.display_name)?;
    writeln!(out, "id: {}", org.id)?;
    writeln!(out, "created: {}", org.created_at.and_utc().to_rfc3339())?;
    writeln!(
        out,
        "auto_assign_licenses: {}",
        on_off(org.auto_assign_licenses)
    )?;
    writeln!(
        out,
        "auto_assign_license_type: {}",
        org.auto_assign_license_type
            .as_ref()
            .map_or("none", |t| t.as_str())
    )?;
    writeln!(out, "learner_sign_in: {}", org.learner_sign_in.as_str())?;
    writeln!(
        out,
        "apps_require_license: {}",
        on_off(org.apps_require_license)
    )?;
    writeln!(
        out,
        "profile_binding_policy: {}",
        org.profile_binding_policy.as_str()
    )?;
    writeln!(
        out,
        "learner_session_minutes: {}",
        org.learner_session.minutes()
    )?;
    writeln!(out, "clock_skew_seconds: {}", org.clock_skew.seconds())?;
    // Before email_domains: scripts read the domains from the last line.
    writeln!(
        out,
        "group_attributes: {}",
        if group_attributes.is_empty() {
            "none".to_owned()
        } else {
            group_attributes.join(",")
        }
    )?;
    writeln!(
        out,
        "email_domains: {}",
        if domains.is_empty() {
            "none".to_owned()
        } else {
            orgs::listed_domains(domains)
        }
    )
}
