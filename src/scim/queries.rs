//! Queries on SCIM configurations.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::ScimConfig;
use crate::ids::{OrgId, ScimConfigId};
use crate::secret::TokenHash;
use crate::store::schema::{scim_configs, scim_request_errors};
use crate::store::{DbConn, Error, decode, unique};

#[derive(Queryable, Selectable)]
#[diesel(table_name = scim_configs)]
struct ConfigRow {
    id: String,
    org_id: String,
    name: String,
    auto_assign: bool,
    license_type: Option<String>,
    created_at: NaiveDateTime,
    last_used_at: Option<NaiveDateTime>,
}

impl TryFrom<ConfigRow> for ScimConfig {
    type Error = Error;

    fn try_from(row: ConfigRow) -> Result<Self, Error> {
        Ok(ScimConfig {
            id: decode("SCIM configuration id", row.id)?,
            org: decode("organization id", row.org_id)?,
            name: row.name,
            auto_assign: row.auto_assign,
            license_type: row
                .license_type
                .map(|t| decode("license type", t))
                .transpose()?,
            created_at: row.created_at,
            last_used_at: row.last_used_at,
        })
    }
}

pub(super) fn insert(
    conn: &mut DbConn,
    config: &ScimConfig,
    token: &TokenHash,
) -> Result<(), Error> {
    diesel::insert_into(scim_configs::table)
        .values((
            scim_configs::id.eq(config.id.to_string()),
            scim_configs::org_id.eq(config.org.to_string()),
            scim_configs::name.eq(&config.name),
            scim_configs::token_hash.eq(token.as_str()),
            scim_configs::auto_assign.eq(config.auto_assign),
            scim_configs::license_type.eq(config.license_type.as_ref().map(|t| t.as_str())),
            scim_configs::created_at.eq(config.created_at),
        ))
        .execute(conn)
        .map_err(unique)?;
    Ok(())
}

pub(super) fn for_org(conn: &mut DbConn, org: OrgId) -> Result<Vec<ScimConfig>, Error> {
    scim_configs::table
        .filter(scim_configs::org_id.eq(org.to_string()))
        .order(scim_configs::name)
        .select(ConfigRow::as_select())
        .load(conn)?
        .into_iter()
        .map(ScimConfig::try_from)
        .collect()
}

pub(super) fn by_id(conn: &mut DbConn, id: ScimConfigId) -> Result<Option<ScimConfig>, Error> {
    scim_configs::table
        .find(id.to_string())
        .select(ConfigRow::as_select())
        .first(conn)
        .optional()?
        .map(ScimConfig::try_from)
        .transpose()
}

pub(super) fn by_token(conn: &mut DbConn, token: &TokenHash) -> Result<Option<ScimConfig>, Error> {
    scim_configs::table
        .filter(scim_configs::token_hash.eq(token.as_str()))
        .select(ConfigRow::as_select())
        .first(conn)
        .optional()?
        .map(ScimConfig::try_from)
        .transpose()
}

pub(super) fn set_token(
    conn: &mut DbConn,
    id: ScimConfigId,
    token: &TokenHash,
) -> Result<(), Error> {
    diesel::update(scim_configs::table.find(id.to_string()))
        .set(scim_configs::token_hash.eq(token.as_str()))
        .execute(conn)?;
    Ok(())
}

pub(super) fn set_last_used(
    conn: &mut DbConn,
    id: ScimConfigId,
    at: NaiveDateTime,
) -> Result<(), Error> {
    diesel::update(scim_configs::table.find(id.to_string()))
        .set(scim_configs::last_used_at.eq(at))
        .execute(conn)?;
    Ok(())
}

pub(super) fn delete(conn: &mut DbConn, id: ScimConfigId) -> Result<(), Error> {
    diesel::delete(scim_configs::table.find(id.to_string())).execute(conn)?;
    Ok(())
}

/// Keeps a refused request; only the newest `keep` of the configuration stay.
pub(super) fn insert_request_error(
    conn: &mut DbConn,
    error: &super::RequestError,
    keep: i64,
) -> Result<(), Error> {
    diesel::insert_into(scim_request_errors::table)
        .values((
            scim_request_errors::id.eq(uuid::Uuid::new_v4().to_string()),
            scim_request_errors::config_id.eq(error.config.to_string()),
            scim_request_errors::method.eq(&error.method),
            scim_request_errors::path.eq(&error.path),
            scim_request_errors::status.eq(i32::from(error.status)),
            scim_request_errors::detail.eq(&error.detail),
            scim_request_errors::at.eq(error.at),
        ))
        .execute(conn)?;
    let newest = scim_request_errors::table
        .filter(scim_request_errors::config_id.eq(error.config.to_string()))
        .order((
            scim_request_errors::at.desc(),
            scim_request_errors::id.desc(),
        ))
        .select(scim_request_errors::at)
        .offset(keep)
        .first::<NaiveDateTime>(conn)
        .optional()?;
    if let Some(cutoff) = newest {
        diesel::delete(
            scim_request_errors::table
                .filter(scim_request_errors::config_id.eq(error.config.to_string()))
                .filter(scim_request_errors::at.le(cutoff)),
        )
        .execute(conn)?;
    }
    Ok(())
}

pub(super) fn recent_request_errors(
    conn: &mut DbConn,
    config: ScimConfigId,
    limit: i64,
) -> Result<Vec<super::RequestError>, Error> {
    scim_request_errors::table
        .filter(scim_request_errors::config_id.eq(config.to_string()))
        .order((
            scim_request_errors::at.desc(),
            scim_request_errors::id.desc(),
        ))
        .limit(limit)
        .select((
            scim_request_errors::method,
            scim_request_errors::path,
            scim_request_errors::status,
            scim_request_errors::detail,
            scim_request_errors::at,
        ))
        .load::<(String, String, i32, String, NaiveDateTime)>(conn)?
        .into_iter()
        .map(|(method, path, status, detail, at)| {
            Ok(super::RequestError {
                config,
                method,
                path,
                status: u16::try_from(status).map_err(|_| Error::Corrupt {
                    what: "HTTP status",
                    value: status.to_string(),
                })?,
                detail,
                at,
            })
        })
        .collect()
}
