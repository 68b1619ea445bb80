//! Queries on organizations.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::ids::OrgId;
use crate::orgs::{ClockSkew, EmailDomain, Organization, SessionLifetime, SignInSettings};
use crate::store::schema::{org_email_domains, organizations};
use crate::store::{DbConn, Error, decode, unique};

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = organizations)]
struct OrgRow {
    id: String,
    slug: String,
    display_name: String,
    auto_assign_licenses: bool,
    profile_binding_policy: String,
    created_at: NaiveDateTime,
    clock_skew_seconds: i32,
    auto_assign_license_type: Option<String>,
    learner_session_minutes: i32,
    learner_sign_in: String,
    apps_require_license: bool,
}

impl TryFrom<OrgRow> for Organization {
    type Error = Error;

    fn try_from(row: OrgRow) -> Result<Self, Error> {
        Ok(Organization {
            id: decode("organization id", row.id)?,
            slug: decode("organization slug", row.slug)?,
            display_name: row.display_name,
            auto_assign_licenses: row.auto_assign_licenses,
            profile_binding_policy: decode("profile binding policy", row.profile_binding_policy)?,
            learner_sign_in: decode("learner sign-in", row.learner_sign_in)?,
            created_at: row.created_at,
            clock_skew: ClockSkew::from_seconds(row.clock_skew_seconds.into()).map_err(|_| {
                Error::Corrupt {
                    what: "clock skew",
                    value: row.clock_skew_seconds.to_string(),
                }
            })?,
            auto_assign_license_type: row
                .auto_assign_license_type
                .map(|t| decode("license type", t))
                .transpose()?,
            learner_session: SessionLifetime::from_minutes(row.learner_session_minutes.into())
                .map_err(|_| Error::Corrupt {
                    what: "learner session lifetime",
                    value: row.learner_session_minutes.to_string(),
                })?,
            apps_require_license: row.apps_require_license,
        })
    }
}

/// Inserts a new organization; [`Error::Duplicate`] when the slug is taken.
pub(super) fn insert(conn: &mut DbConn, org: &Organization) -> Result<(), Error> {
    diesel::insert_into(organizations::table)
        .values(OrgRow {
            id: org.id.to_string(),
            slug: org.slug.to_string(),
            display_name: org.display_name.clone(),
            auto_assign_licenses: org.auto_assign_licenses,
            profile_binding_policy: org.profile_binding_policy.as_str().to_owned(),
            created_at: org.created_at,
            clock_skew_seconds: seconds(org.clock_skew),
            auto_assign_license_type: org
                .auto_assign_license_type
                .as_ref()
                .map(ToString::to_string),
            learner_session_minutes: i32::try_from(org.learner_session.minutes())
                .unwrap_or(i32::MAX),
            learner_sign_in: org.learner_sign_in.as_str().to_owned(),
            apps_require_license: org.apps_require_license,
        })
        .execute(conn)
        .map_err(unique)?;
    Ok(())
}

pub(super) fn by_slug(conn: &mut DbConn, slug: &str) -> Result<Option<Organization>, Error> {
    organizations::table
        .filter(organizations::slug.eq(slug))
        .select(OrgRow::as_select())
        .first(conn)
        .optional()?
        .map(Organization::try_from)
        .transpose()
}

pub(super) fn by_id(conn: &mut DbConn, id: OrgId) -> Result<Option<Organization>, Error> {
    organizations::table
        .find(id.to_string())
        .select(OrgRow::as_select())
        .first(conn)
        .optional()?
        .map(Organization::try_from)
        .transpose()
}

pub(super) fn list(conn: &mut DbConn) -> Result<Vec<Organization>, Error> {
    organizations::table
        .order(organizations::slug)
        .select(OrgRow::as_select())
        .load(conn)?
        .into_iter()
        .map(Organization::try_from)
        .collect()
}

/// Sets "Automatically assign licenses" and the license type it draws from.
pub(super) fn set_auto_assign(
    conn: &mut DbConn,
    org: OrgId,
    on: bool,
    license_type: Option<&crate::ids::LicenseType>,
) -> Result<(), Error> {
    diesel::update(organizations::table.find(org.to_string()))
        .set((
            organizations::auto_assign_licenses.eq(on),
            organizations::auto_assign_license_type.eq(license_type.map(|t| t.as_str().to_owned())),
        ))
        .execute(conn)?;
    Ok(())
}

pub(super) fn set_apps_require_license(
    conn: &mut DbConn,
    org: OrgId,
    required: bool,
) -> Result<(), Error> {
    diesel::update(organizations::table.find(org.to_string()))
        .set(organizations::apps_require_license.eq(required))
        .execute(conn)?;
    Ok(())
}

/// Writes the sign-in settings an admin edits on the settings page.
pub(super) fn set_sign_in_settings(
    conn: &mut DbConn,
    org: OrgId,
    settings: &SignInSettings,
) -> Result<(), Error> {
    diesel::update(organizations::table.find(org.to_string()))
        .set((
            organizations::profile_binding_policy.eq(settings.profile_binding.as_str()),
            organizations::learner_session_minutes
                .eq(i32::try_from(settings.learner_session.minutes()).unwrap_or(i32::MAX)),
            organizations::clock_skew_seconds.eq(seconds(settings.clock_skew)),
            organizations::learner_sign_in.eq(settings.learner_sign_in.as_str()),
        ))
        .execute(conn)?;
    Ok(())
}

/// The column's value: at most 600, so it always fits.
fn seconds(skew: ClockSkew) -> i32 {
    i32::try_from(skew.seconds()).unwrap_or(i32::MAX)
}

/// The organization's email domains, sorted.
pub(super) fn email_domains(conn: &mut DbConn, org: OrgId) -> Result<Vec<EmailDomain>, Error> {
    org_email_domains::table
        .filter(org_email_domains::org_id.eq(org.to_string()))
        .select(org_email_domains::domain)
        .order(org_email_domains::domain)
        .load::<String>(conn)?
        .into_iter()
        .map(|domain| decode("email domain", domain))
        .collect()
}

/// Replaces the organization's email domains; a domain another organization
/// holds is a [`Error::Duplicate`].
pub(super) fn set_email_domains(
    conn: &mut DbConn,
    org: OrgId,
    domains: &[EmailDomain],
) -> Result<(), Error> {
    diesel::delete(org_email_domains::table.filter(org_email_domains::org_id.eq(org.to_string())))
        .execute(conn)?;
    for domain in domains {
        diesel::insert_into(org_email_domains::table)
            .values((
                org_email_domains::domain.eq(domain.as_str()),
                org_email_domains::org_id.eq(org.to_string()),
            ))
            .execute(conn)
            .map_err(unique)?;
    }
    Ok(())
}

/// The organization an email domain belongs to, if any.
pub(super) fn by_email_domain(
    conn: &mut DbConn,
    domain: &EmailDomain,
) -> Result<Option<Organization>, Error> {
    organizations::table
        .inner_join(org_email_domains::table)
        .filter(org_email_domains::domain.eq(domain.as_str()))
        .select(OrgRow::as_select())
        .first(conn)
        .optional()?
        .map(Organization::try_from)
        .transpose()
}
