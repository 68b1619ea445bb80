//! Learners: the accounts single sign-on creates and matches.

pub(super) mod queries;

use chrono::NaiveDateTime;

use super::Email;
use crate::audit::{self, Action, Actor};
use crate::clock::Clock;
use crate::ids::{ConnectionId, OrgId, ScimConfigId, UserId};
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
    /// An SSO admin: an administrator promoted this learner to open the console.
    pub is_admin: bool,
    /// Whether the learner may sign in (SCIM's `active`). An inactive
    /// learner holds no seat and keeps their history.
    pub active: bool,
    /// What a SCIM client knows the learner by.
    pub scim: ScimProfile,
    /// Counts the changes to the account (SCIM's ETag).
    pub version: u32,
    pub updated_at: NaiveDateTime,
}

/// A learner as a SCIM client pushed them; empty for learners no client pushed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ScimProfile {
    /// The configuration that manages the learner: the IdP is then the source
    /// of truth for their licenses.
    pub managed_by: Option<ScimConfigId>,
    /// SCIM's `userName` as sent (unique per organization, any case).
    pub user_name: Option<String>,
    pub external_id: Option<String>,
    /// The enterprise extension's `manager.value`.
    pub manager_id: Option<String>,
}

impl Learner {
    /// A new learner of `org` with a fresh ID: no profile yet, never signed in, no admin.
    pub fn new(org: OrgId, email: Email, display_name: String, now: NaiveDateTime) -> Self {
        Self {
            id: UserId::generate(),
            org,
            email,
            display_name,
            first_name: None,
            last_name: None,
            department: None,
            employee_id: None,
            created_at: now,
            last_sign_in_at: None,
            is_admin: false,
            active: true,
            scim: ScimProfile::default(),
            version: 1,
            updated_at: now,
        }
    }
}

impl Learner {
    /// Whether a SCIM client deleted the learner: kept, with their history,
    /// but inactive, handed back to the administrators and no longer shown
    /// to SCIM clients (RFC 7644, 3.6: a deleted resource is not found).
    pub fn removed_by_idp(&self) -> bool {
        !self.active && self.scim.managed_by.is_none()
    }
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
    queries::for_org(conn, org)
}

/// The learner with this email in the organization.
pub fn find(conn: &mut DbConn, org: OrgId, email: &str) -> Result<Learner, Error> {
    let parsed: Email = email
        .parse()
        .map_err(|_| Error::NotFound(email.to_owned()))?;
    queries::by_email(conn, org, &parsed)?.ok_or_else(|| Error::NotFound(email.to_owned()))
}

/// The learner of `org` with exactly this email, if any.
pub fn by_email(
    conn: &mut DbConn,
    org: OrgId,
    email: &Email,
) -> Result<Option<Learner>, store::Error> {
    queries::by_email(conn, org, email)
}

/// Adds a learner as given, with no identity yet (the way invitations and
/// imports add people; sign-in goes through [`super::jit`]).
pub fn insert(conn: &mut DbConn, learner: &Learner) -> Result<(), store::Error> {
    queries::insert(conn, learner)
}

/// Writes the learner's new state (the use cases that change a learner
/// outside sign-in: SCIM); [`store::Error::Duplicate`] when the email,
/// userName or externalId is another learner's.
pub fn save(conn: &mut DbConn, learner: &Learner) -> Result<(), store::Error> {
    queries::update(conn, learner)
}

/// `limit` of the learners a SCIM configuration sees from `offset` that
/// meet `condition` (all when there is none), oldest first, and how many
/// it sees in all (see [`Learner::removed_by_idp`]).
pub fn scim_page(
    conn: &mut DbConn,
    org: OrgId,
    config: ScimConfigId,
    condition: Option<&Condition>,
    offset: i64,
    limit: i64,
) -> Result<(Vec<Learner>, i64), store::Error> {
    queries::scim_page(conn, org, config, condition, offset, limit)
}

/// A condition on learners the database evaluates: a SCIM filter, where its
/// attributes are columns (`scim::user_filter` makes them).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Condition {
    /// The field has a value that passes the test, compared byte for byte.
    Text {
        field: TextField,
        test: TextTest,
        value: String,
    },
    /// The instant is in `[from, before)`, either end open when absent.
    Within {
        instant: Instant,
        from: Option<NaiveDateTime>,
        before: Option<NaiveDateTime>,
    },
    Active(bool),
    Always(bool),
    And(Box<Condition>, Box<Condition>),
    Or(Box<Condition>, Box<Condition>),
    Not(Box<Condition>),
}

/// The text a [`Condition`] looks at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextField {
    Id,
    ExternalId,
    /// The SCIM userName lower-cased, or (for a learner SCIM never named)
    /// the email, as the learner's SCIM resource shows it.
    UserNameKey,
    /// Stored lower-case.
    Email,
    /// The rest are lower-cased, as SCIM filters compare them.
    DisplayName,
    GivenName,
    FamilyName,
    Department,
    EmployeeNumber,
    /// The manager's id (`manager.value`).
    Manager,
    /// `meta.created`, as the resource shows it.
    Created,
    /// `meta.lastModified`, as the resource shows it.
    LastModified,
    /// `meta.version`, the weak ETag.
    Version,
}

/// An instant a [`Condition`] looks at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Instant {
    Created,
    /// The last change, or the creation when there was none.
    LastModified,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextTest {
    /// Not empty.
    Present,
    Eq,
    Contains,
    StartsWith,
    EndsWith,
    Greater,
    GreaterOrEqual,
    Less,
    LessOrEqual,
}

/// Records that the learner signed in now (sign-ins other than SAML's, which
/// refreshes the whole profile).
pub fn record_sign_in(
    conn: &mut DbConn,
    clock: &Clock,
    learner: &Learner,
) -> Result<Learner, store::Error> {
    let learner = Learner {
        last_sign_in_at: Some(clock.now_naive()),
        ..learner.clone()
    };
    queries::update(conn, &learner)?;
    Ok(learner)
}

/// Most learners [`fill_filter_keys`] writes in one transaction.
const FILL_BATCH: i64 = 1_000;

/// Writes the SCIM filter keys of learners stored before there were any
/// (migration 000018 adds the columns; only Rust folds case the way the
/// filters do). Returns how many were filled: none once done, so running
/// it at every start costs one look into an empty index.
pub fn fill_filter_keys(conn: &mut DbConn) -> Result<usize, store::Error> {
    let mut filled = 0;
    loop {
        let batch = store::write_transaction(conn, |conn| {
            let learners = queries::without_filter_keys(conn, FILL_BATCH)?;
            for learner in &learners {
                queries::write_filter_keys(conn, learner)?;
            }
            Ok::<_, store::Error>(learners.len())
        })?;
        if batch == 0 {
            return Ok(filled);
        }
        filled += batch;
    }
}

/// The learners with these ids (those that exist), in no particular order.
pub fn by_ids(conn: &mut DbConn, ids: &[UserId]) -> Result<Vec<Learner>, store::Error> {
    queries::by_ids(conn, ids)
}

pub fn find_by_id(conn: &mut DbConn, id: UserId) -> Result<Option<Learner>, store::Error> {
    queries::by_id(conn, id)
}

/// How the learner signs in.
pub fn identities(conn: &mut DbConn, learner: UserId) -> Result<Vec<Identity>, store::Error> {
    queries::identities(conn, learner)
}

/// Which learners the console lists.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LearnerFilter {
    /// Part of the email or name, any case.
    pub text: Option<String>,
    pub license: LicenseFilter,
    /// Learners with an identity from this IdP connection.
    pub source: Option<ConnectionId>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LicenseFilter {
    #[default]
    Any,
    Licensed,
    Unlicensed,
}

impl LicenseFilter {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Any => "any",
            Self::Licensed => "licensed",
            Self::Unlicensed => "unlicensed",
        }
    }
}

impl std::str::FromStr for LicenseFilter {
    type Err = ();

    fn from_str(text: &str) -> Result<Self, ()> {
        [Self::Any, Self::Licensed, Self::Unlicensed]
            .into_iter()
            .find(|f| f.as_str() == text)
            .ok_or(())
    }
}

/// One page of a learner search.
pub struct LearnerPage {
    pub learners: Vec<Learner>,
    pub total: i64,
}

/// The learners matching `filter`, `per_page` at a time from page `page` (1-based).
pub fn search(
    conn: &mut DbConn,
    org: OrgId,
    filter: &LearnerFilter,
    page: u32,
    per_page: u32,
) -> Result<LearnerPage, store::Error> {
    let offset = i64::from(page.saturating_sub(1)) * i64::from(per_page);
    let (learners, total) = queries::search(conn, org, filter, offset, i64::from(per_page))?;
    Ok(LearnerPage { learners, total })
}

/// Makes a learner an SSO admin (they open the console after signing in with
/// their company account) or takes that away; audited.
pub fn set_admin(
    conn: &mut DbConn,
    clock: &Clock,
    actor: &Actor,
    learner: &Learner,
    is_admin: bool,
) -> Result<(), store::Error> {
    store::write_transaction(conn, |conn| {
        change_admin(conn, clock, actor, learner, is_admin)
    })
}

/// [`set_admin`] inside a transaction the caller holds (a sign-in applying
/// its connection's admin role).
pub fn change_admin(
    conn: &mut DbConn,
    clock: &Clock,
    actor: &Actor,
    learner: &Learner,
    is_admin: bool,
) -> Result<(), store::Error> {
    queries::set_admin(conn, learner.id, is_admin)?;
    let action = if is_admin {
        Action::SsoAdminGranted
    } else {
        Action::SsoAdminRevoked
    };
    audit::record(
        conn,
        clock,
        audit::NewEvent::new(Some(learner.org), actor, action).target(learner.email.as_str()),
    )
}
