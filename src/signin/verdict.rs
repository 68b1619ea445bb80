//! Test sign-ins that teach: the verdict of a test sign-in from the console,
//! passed or refused, kept for the administrator who started it, with what
//! the IdP sent (decoded, indented), the reason and the fix. A refused test
//! never shows the learner's error page: its response answers a test
//! request of ours, so its verdict goes to the console like a passed one.

use chrono::{NaiveDateTime, TimeDelta};
use serde::{Deserialize, Serialize};

use super::queries;
use crate::ids::{OrgId, SsoTestId};
use crate::saml::inspect::Inspection;
use crate::store::{DbConn, Error, decode};

/// How long a verdict is kept.
const KEPT: TimeDelta = TimeDelta::days(7);

/// What a test sign-in came to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    pub connection_name: String,
    /// Our clock when the response was checked (RFC 3339), and the clock
    /// difference the organization allows, to read the time window against.
    pub checked_at: String,
    pub clock_skew_seconds: i64,
    /// `None`: every check passed.
    pub refusal: Option<Refused>,
    /// Whom a real sign-in would sign in (when it passed).
    pub would_sign_in: Option<Person>,
    /// The response as sent (unverified when refused).
    pub sent: Inspection,
}

/// Why a test sign-in was refused, and what to do.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refused {
    /// The reason's code, as in the sign-in error list.
    pub code: String,
    /// The precise reason.
    pub detail: String,
    pub fix: String,
}

/// Who the verified assertion names, and what Seatgate would make of them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub email: String,
    pub display_name: String,
    /// A learner with this identity or email exists already.
    pub existing: bool,
    pub name_id: String,
    pub attributes: Vec<(String, String)>,
}

impl Verdict {
    pub fn passed(&self) -> bool {
        self.refusal.is_none()
    }
}

pub(super) fn record(
    conn: &mut DbConn,
    org: OrgId,
    now: NaiveDateTime,
    verdict: &Verdict,
) -> Result<SsoTestId, Error> {
    let id = SsoTestId::generate();
    let report = serde_json::to_string(verdict).unwrap_or_default();
    queries::insert_test(conn, id, org, now, now + KEPT, &report)?;
    Ok(id)
}

/// The verdict of test `id` of `org`, while it is kept.
pub fn find(conn: &mut DbConn, org: OrgId, id: SsoTestId) -> Result<Option<Verdict>, Error> {
    queries::test_report(conn, org, id)?
        .map(|report| decode("test sign-in report", report))
        .transpose()
}

/// As stored (JSON).
impl std::str::FromStr for Verdict {
    type Err = serde_json::Error;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        serde_json::from_str(text)
    }
}
