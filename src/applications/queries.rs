//! Queries on applications.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::{Application, ClientKind, RedirectUri};
use crate::ids::ApplicationId;
use crate::secret::TokenHash;
use crate::store::schema::applications;
use crate::store::{DbConn, Error, decode, unique};

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = applications)]
struct ApplicationRow {
    id: String,
    name: String,
    secret_hash: Option<String>,
    redirect_uris: String,
    post_logout_redirect_uris: String,
    launch_url: String,
    id_token_alg: String,
    created_at: NaiveDateTime,
}

/// URIs are stored one per line: a parsed URI holds no line break.
fn uris(what: &'static str, text: String) -> Result<Vec<RedirectUri>, Error> {
    text.lines()
        .map(|line| decode(what, line.to_owned()))
        .collect()
}

fn joined(uris: &[RedirectUri]) -> String {
    uris.iter()
        .map(RedirectUri::as_str)
        .collect::<Vec<_>>()
        .join("\n")
}

impl TryFrom<ApplicationRow> for Application {
    type Error = Error;

    fn try_from(row: ApplicationRow) -> Result<Self, Error> {
        Ok(Application {
            id: decode("application id", row.id)?,
            name: row.name,
            kind: match row.secret_hash {
                Some(hash) => ClientKind::Confidential(TokenHash::from_stored(hash)),
                None => ClientKind::Public,
            },
            redirect_uris: uris("redirect URI", row.redirect_uris)?,
            post_logout_redirect_uris: uris(
                "post-logout redirect URI",
                row.post_logout_redirect_uris,
            )?,
            launch_url: decode("launch URL", row.launch_url)?,
            id_token_alg: decode("ID token algorithm", row.id_token_alg)?,
            created_at: row.created_at,
        })
    }
}

/// [`Error::Duplicate`] when the name is taken.
pub(super) fn insert(conn: &mut DbConn, app: &Application) -> Result<(), Error> {
    diesel::insert_into(applications::table)
        .values(ApplicationRow {
            id: app.id.to_string(),
            name: app.name.clone(),
            secret_hash: match &app.kind {
                ClientKind::Confidential(hash) => Some(hash.as_str().to_owned()),
                ClientKind::Public => None,
            },
            redirect_uris: joined(&app.redirect_uris),
            post_logout_redirect_uris: joined(&app.post_logout_redirect_uris),
            launch_url: app.launch_url.to_string(),
            id_token_alg: app.id_token_alg.as_str().to_owned(),
            created_at: app.created_at,
        })
        .execute(conn)
        .map_err(unique)?;
    Ok(())
}

pub(super) fn list(conn: &mut DbConn) -> Result<Vec<Application>, Error> {
    applications::table
        .order(applications::name)
        .select(ApplicationRow::as_select())
        .load(conn)?
        .into_iter()
        .map(Application::try_from)
        .collect()
}

pub(super) fn by_id(conn: &mut DbConn, id: ApplicationId) -> Result<Option<Application>, Error> {
    applications::table
        .find(id.to_string())
        .select(ApplicationRow::as_select())
        .first(conn)
        .optional()?
        .map(Application::try_from)
        .transpose()
}

pub(super) fn set_secret(
    conn: &mut DbConn,
    id: ApplicationId,
    hash: &TokenHash,
) -> Result<(), Error> {
    diesel::update(applications::table.find(id.to_string()))
        .set(applications::secret_hash.eq(hash.as_str()))
        .execute(conn)?;
    Ok(())
}

pub(super) fn delete(conn: &mut DbConn, id: ApplicationId) -> Result<(), Error> {
    diesel::delete(applications::table.find(id.to_string())).execute(conn)?;
    Ok(())
}
