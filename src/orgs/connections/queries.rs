//! Queries on IdP connections and their certificates.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::ids::{ConnectionId, OrgId};
use crate::orgs::connections::{AdminRole, IdpConnection, Policy, SamlOptions, TrustedCertificate};
use crate::saml::attributes::{Field, Mapping};
use crate::saml::metadata::Certificate;
use crate::saml::request::{AuthnContext, Comparison, RequestOptions};
use crate::store::schema::{idp_certificates, idp_connections};
use crate::store::{DbConn, Error, decode, unique};

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = idp_connections)]
struct ConnectionRow {
    id: String,
    org_id: String,
    name: String,
    entity_id: String,
    sso_url: String,
    enabled: bool,
    allow_idp_initiated: bool,
    require_signed_assertion: bool,
    allow_sha1: bool,
    attribute_preset: String,
    attribute_overrides: String,
    metadata_url: Option<String>,
    created_at: NaiveDateTime,
    metadata_fetched_at: Option<NaiveDateTime>,
    metadata_error: Option<String>,
    admin_role_attribute: Option<String>,
    admin_role_value: Option<String>,
    last_signed_in_at: Option<NaiveDateTime>,
    sign_requests: bool,
    force_authn: bool,
    name_id_format: Option<String>,
    authn_context_class: Option<String>,
    authn_context_comparison: String,
    require_encrypted_assertion: bool,
    sso_post_url: Option<String>,
    request_binding: String,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = idp_certificates)]
struct CertificateRow {
    connection_id: String,
    fingerprint_sha256: String,
    der_base64: String,
    subject: String,
    not_after: NaiveDateTime,
    retired_at: Option<NaiveDateTime>,
}

pub(super) fn insert(conn: &mut DbConn, connection: &IdpConnection) -> Result<(), Error> {
    let overrides: BTreeMap<Field, String> = connection.mapping.overrides.clone();
    diesel::insert_into(idp_connections::table)
        .values(ConnectionRow {
            id: connection.id.to_string(),
            org_id: connection.org.to_string(),
            name: connection.name.clone(),
            entity_id: connection.entity_id.clone(),
            sso_url: connection.sso_url.clone(),
            enabled: connection.enabled,
            allow_idp_initiated: connection.allow_idp_initiated,
            require_signed_assertion: connection.require_signed_assertion,
            allow_sha1: connection.allow_sha1,
            attribute_preset: connection.mapping.preset.as_str().to_owned(),
            attribute_overrides: serde_json::to_string(&overrides)
                .expect("a map of strings serialises"),
            metadata_url: connection.metadata_url.clone(),
            created_at: connection.created_at,
            metadata_fetched_at: connection.metadata_fetched_at,
            metadata_error: connection.metadata_error.clone(),
            admin_role_attribute: connection.admin_role.as_ref().map(|r| r.attribute.clone()),
            admin_role_value: connection.admin_role.as_ref().map(|r| r.value.clone()),
            last_signed_in_at: connection.last_signed_in_at,
            sign_requests: connection.saml.sign_requests,
            force_authn: connection.saml.request.force_authn,
            name_id_format: connection
                .saml
                .request
                .name_id_format
                .map(|f| f.as_str().to_owned()),
            authn_context_class: connection
                .saml
                .request
                .authn_context
                .as_ref()
                .map(|c| c.class_ref().to_owned()),
            authn_context_comparison: connection
                .saml
                .request
                .authn_context
                .as_ref()
                .map_or(Comparison::Exact, |c| c.comparison)
                .as_str()
                .to_owned(),
            require_encrypted_assertion: connection.saml.require_encrypted_assertion,
            sso_post_url: connection.sso_post_url.clone(),
            request_binding: connection.saml.request.binding.as_str().to_owned(),
        })
        .execute(conn)
        .map_err(unique)?;
    insert_certificates(conn, connection.id, &connection.certificates)
}

// One statement per row: MultiConnection has no batch insert.
fn insert_certificates(
    conn: &mut DbConn,
    id: ConnectionId,
    certificates: &[TrustedCertificate],
) -> Result<(), Error> {
    for trusted in certificates {
        let cert = &trusted.certificate;
        diesel::insert_into(idp_certificates::table)
            .values(CertificateRow {
                connection_id: id.to_string(),
                fingerprint_sha256: cert.fingerprint.clone(),
                der_base64: STANDARD.encode(&cert.der),
                subject: cert.subject.clone(),
                not_after: cert.not_after,
                retired_at: trusted.retired_at,
            })
            .execute(conn)?;
    }
    Ok(())
}

/// Sets what a connection trusts: its SSO URL and certificates (run inside
/// the caller's transaction).
pub(super) fn set_trust(
    conn: &mut DbConn,
    id: ConnectionId,
    (sso_url, sso_post_url): (&str, Option<&str>),
    certificates: &[TrustedCertificate],
) -> Result<(), Error> {
    diesel::update(idp_connections::table.find(id.to_string()))
        .set((
            idp_connections::sso_url.eq(sso_url),
            idp_connections::sso_post_url.eq(sso_post_url),
        ))
        .execute(conn)?;
    diesel::delete(
        idp_certificates::table.filter(idp_certificates::connection_id.eq(id.to_string())),
    )
    .execute(conn)?;
    insert_certificates(conn, id, certificates)
}

fn with_certificates(
    conn: &mut DbConn,
    rows: Vec<ConnectionRow>,
) -> Result<Vec<IdpConnection>, Error> {
    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    let certificates: Vec<CertificateRow> = idp_certificates::table
        .filter(idp_certificates::connection_id.eq_any(&ids))
        .order(idp_certificates::not_after.desc())
        .select(CertificateRow::as_select())
        .load(conn)?;
    rows.into_iter()
        .map(|row| {
            let certs = certificates
                .iter()
                .filter(|c| c.connection_id == row.id)
                .map(|c| {
                    let der = STANDARD.decode(&c.der_base64).map_err(|_| Error::Corrupt {
                        what: "certificate",
                        value: c.fingerprint_sha256.clone(),
                    })?;
                    Ok(TrustedCertificate {
                        certificate: Certificate {
                            der,
                            subject: c.subject.clone(),
                            fingerprint: c.fingerprint_sha256.clone(),
                            not_after: c.not_after,
                        },
                        retired_at: c.retired_at,
                    })
                })
                .collect::<Result<Vec<_>, Error>>()?;
            let overrides: BTreeMap<Field, String> = serde_json::from_str(&row.attribute_overrides)
                .map_err(|_| Error::Corrupt {
                    what: "attribute overrides",
                    value: row.attribute_overrides.clone(),
                })?;
            Ok(IdpConnection {
                id: decode("connection id", row.id)?,
                org: decode("organization id", row.org_id)?,
                name: row.name,
                entity_id: row.entity_id,
                sso_url: row.sso_url,
                sso_post_url: row.sso_post_url,
                enabled: row.enabled,
                allow_idp_initiated: row.allow_idp_initiated,
                require_signed_assertion: row.require_signed_assertion,
                allow_sha1: row.allow_sha1,
                mapping: Mapping {
                    preset: decode("attribute preset", row.attribute_preset)?,
                    overrides,
                },
                metadata_url: row.metadata_url,
                certificates: certs,
                created_at: row.created_at,
                metadata_fetched_at: row.metadata_fetched_at,
                metadata_error: row.metadata_error,
                admin_role: match (row.admin_role_attribute, row.admin_role_value) {
                    (Some(attribute), Some(value)) => Some(AdminRole { attribute, value }),
                    _ => None,
                },
                last_signed_in_at: row.last_signed_in_at,
                saml: SamlOptions {
                    sign_requests: row.sign_requests,
                    request: RequestOptions {
                        binding: decode("request binding", row.request_binding)?,
                        force_authn: row.force_authn,
                        name_id_format: row
                            .name_id_format
                            .map(|f| decode("NameID format", f))
                            .transpose()?,
                        authn_context: match row.authn_context_class {
                            Some(class) => Some(
                                AuthnContext::new(
                                    &class,
                                    decode("comparison", row.authn_context_comparison)?,
                                )
                                .map_err(|_| Error::Corrupt {
                                    what: "authentication context",
                                    value: class,
                                })?,
                            ),
                            None => None,
                        },
                    },
                    require_encrypted_assertion: row.require_encrypted_assertion,
                },
            })
        })
        .collect()
}

pub(super) fn for_org(conn: &mut DbConn, org: OrgId) -> Result<Vec<IdpConnection>, Error> {
    let rows = idp_connections::table
        .filter(idp_connections::org_id.eq(org.to_string()))
        .order(idp_connections::created_at)
        .select(ConnectionRow::as_select())
        .load(conn)?;
    with_certificates(conn, rows)
}

pub(super) fn by_id(conn: &mut DbConn, id: ConnectionId) -> Result<Option<IdpConnection>, Error> {
    let rows = idp_connections::table
        .find(id.to_string())
        .select(ConnectionRow::as_select())
        .load(conn)?;
    Ok(with_certificates(conn, rows)?.pop())
}

pub(super) fn delete(conn: &mut DbConn, id: ConnectionId) -> Result<(), Error> {
    diesel::delete(idp_connections::table.find(id.to_string())).execute(conn)?;
    Ok(())
}

pub(super) fn set_policy(conn: &mut DbConn, id: ConnectionId, policy: Policy) -> Result<(), Error> {
    diesel::update(idp_connections::table.find(id.to_string()))
        .set((
            idp_connections::enabled.eq(policy.enabled),
            idp_connections::allow_idp_initiated.eq(policy.allow_idp_initiated),
            idp_connections::require_signed_assertion.eq(policy.require_signed_assertion),
            idp_connections::allow_sha1.eq(policy.allow_sha1),
        ))
        .execute(conn)?;
    Ok(())
}

/// Stamps a successful sign-in through connection `id`, unless one was
/// stamped since `unless_after` (no write, no row lock, for most sign-ins).
pub(super) fn signed_in(
    conn: &mut DbConn,
    id: ConnectionId,
    now: NaiveDateTime,
    unless_after: NaiveDateTime,
) -> Result<(), Error> {
    diesel::update(
        idp_connections::table.find(id.to_string()).filter(
            idp_connections::last_signed_in_at
                .is_null()
                .or(idp_connections::last_signed_in_at.lt(unless_after)),
        ),
    )
    .set(idp_connections::last_signed_in_at.eq(now))
    .execute(conn)?;
    Ok(())
}

pub(super) fn set_saml_options(
    conn: &mut DbConn,
    id: ConnectionId,
    options: &SamlOptions,
) -> Result<(), Error> {
    let request = &options.request;
    diesel::update(idp_connections::table.find(id.to_string()))
        .set((
            idp_connections::request_binding.eq(request.binding.as_str()),
            idp_connections::sign_requests.eq(options.sign_requests),
            idp_connections::force_authn.eq(request.force_authn),
            idp_connections::name_id_format.eq(request.name_id_format.map(|f| f.as_str())),
            idp_connections::authn_context_class
                .eq(request.authn_context.as_ref().map(|c| c.class_ref())),
            idp_connections::authn_context_comparison.eq(request
                .authn_context
                .as_ref()
                .map_or(Comparison::Exact, |c| c.comparison)
                .as_str()),
            idp_connections::require_encrypted_assertion.eq(options.require_encrypted_assertion),
        ))
        .execute(conn)?;
    Ok(())
}

pub(super) fn rename(conn: &mut DbConn, id: ConnectionId, name: &str) -> Result<(), Error> {
    diesel::update(idp_connections::table.find(id.to_string()))
        .set(idp_connections::name.eq(name))
        .execute(conn)?;
    Ok(())
}

pub(super) fn set_admin_role(
    conn: &mut DbConn,
    id: ConnectionId,
    role: Option<&AdminRole>,
) -> Result<(), Error> {
    diesel::update(idp_connections::table.find(id.to_string()))
        .set((
            idp_connections::admin_role_attribute.eq(role.map(|r| r.attribute.as_str())),
            idp_connections::admin_role_value.eq(role.map(|r| r.value.as_str())),
        ))
        .execute(conn)?;
    Ok(())
}

/// Connections with a metadata URL last fetched before `before` (or never).
pub(super) fn due_for_refresh(
    conn: &mut DbConn,
    before: NaiveDateTime,
) -> Result<Vec<IdpConnection>, Error> {
    let rows = idp_connections::table
        .filter(idp_connections::metadata_url.is_not_null())
        .filter(
            idp_connections::metadata_fetched_at
                .is_null()
                .or(idp_connections::metadata_fetched_at.lt(before)),
        )
        .select(ConnectionRow::as_select())
        .load(conn)?;
    with_certificates(conn, rows)
}

/// Records a good refresh (what it changed is [`set_trust`]'s).
pub(super) fn refreshed(
    conn: &mut DbConn,
    id: ConnectionId,
    at: NaiveDateTime,
) -> Result<(), Error> {
    diesel::update(idp_connections::table.find(id.to_string()))
        .set((
            idp_connections::metadata_fetched_at.eq(at),
            idp_connections::metadata_error.eq(None::<String>),
        ))
        .execute(conn)?;
    Ok(())
}

/// Records a failed refresh; the last good metadata stays in force.
pub(super) fn refresh_failed(
    conn: &mut DbConn,
    id: ConnectionId,
    at: NaiveDateTime,
    error: &str,
) -> Result<(), Error> {
    diesel::update(idp_connections::table.find(id.to_string()))
        .set((
            idp_connections::metadata_fetched_at.eq(at),
            idp_connections::metadata_error.eq(error),
        ))
        .execute(conn)?;
    Ok(())
}
