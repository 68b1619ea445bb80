//! Learners: the accounts single sign-on creates and matches.

use chrono::NaiveDateTime;

use super::Email;
use crate::ids::{ConnectionId, OrgId, UserId};
use crate::store::{self, DbConn};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Learner {
    pub id: UserId,
    pub org: OrgId,
    pub email: Email,
    pub display_name: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub department: Option<String>,
    pub employee_id: Option<String>,
    pub created_at: NaiveDateTime,
    pub last_sign_in_at: Option<NaiveDateTime>,
}

/// A (connection, NameID) pair that signs in as a learner.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    pub connection: ConnectionId,
    pub connection_name: String,
    pub name_id: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("organization has no learner {0:?}")]
    NotFound(String),
    #[error(transparent)]
    Store(#[from] store::Error),
}

/// The organization's learners, by email.
pub fn list(conn: &mut DbConn, org: OrgId) -> Result<Vec<Learner>, store::Error> {
    store::learners::for_org(conn, org)
}

/// The learner with this email in the organization.
pub fn find(conn: &mut DbConn, org: OrgId, email: &str) -> Result<Learner, Error> {
    let parsed: Email = email
        .parse()
        .map_err(|_| Error::NotFound(email.to_owned()))?;
    store::learners::by_email(conn, org, &parsed)?.ok_or_else(|| Error::NotFound(email.to_owned()))
}

pub fn find_by_id(conn: &mut DbConn, id: UserId) -> Result<Option<Learner>, store::Error> {
    store::learners::by_id(conn, id)
}

/// How the learner signs in.
pub fn identities(conn: &mut DbConn, learner: UserId) -> Result<Vec<Identity>, store::Error> {
    store::learners::identities(conn, learner)
}
