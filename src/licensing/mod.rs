//! License pools and seats: who holds a license, and the seat invariant.
//!
//! A new seat is taken only by `UPDATE license_pools SET assigned = assigned + 1
//! WHERE id = ? AND assigned < seats` inside the assignment's transaction: the
//! database decides, so the count is exact across threads and processes
//! (docs/licensing.md).

mod queries;

use std::str::FromStr;

use chrono::NaiveDateTime;
use serde_json::json;

use crate::accounts::learners::Learner;
use crate::audit::{self, Action, Actor};
use crate::clock::Clock;
pub use crate::ids::LicenseType;
use crate::ids::{InvalidLicenseType, OrgId, PoolId};
use crate::orgs::Organization;
use crate::store::{self, DbConn};
use crate::webhooks;

/// Why a license was assigned or revoked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LicenseCause {
    SsoAutoAssign,
    Admin,
    Cli,
    Reclaim,
    /// The organization's IdP, over SCIM.
    Scim,
    /// A bulk change from a CSV file (`imports`).
    Csv,
}

impl LicenseCause {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SsoAutoAssign => "sso_auto_assign",
            Self::Admin => "admin",
            Self::Cli => "cli",
            Self::Reclaim => "reclaim",
            Self::Scim => "scim",
            Self::Csv => "csv",
        }
    }

    /// A revocation by a person: auto-assign does not hand that seat back.
    pub fn is_deliberate(self) -> bool {
        matches!(self, Self::Admin | Self::Cli | Self::Csv)
    }
}

impl FromStr for LicenseCause {
    type Err = ();

    fn from_str(text: &str) -> Result<Self, ()> {
        [
            Self::SsoAutoAssign,
            Self::Admin,
            Self::Cli,
            Self::Reclaim,
            Self::Scim,
            Self::Csv,
        ]
        .into_iter()
        .find(|c| c.as_str() == text)
        .ok_or(())
    }
}

/// A pool of seats of one license type in one organization.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pool {
    pub id: PoolId,
    pub org: OrgId,
    pub license_type: LicenseType,
    pub seats: u32,
    pub assigned: u32,
    /// When automatic assignment first found the pool full (cleared once a seat is free).
    pub exhausted_since: Option<NaiveDateTime>,
}

impl Pool {
    /// More seats in use than the pool holds (after it was made smaller).
    pub fn over_allocated(&self) -> bool {
        self.assigned > self.seats
    }
}

/// A learner's active license.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct License {
    pub license_type: LicenseType,
    pub since: NaiveDateTime,
    pub cause: LicenseCause,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    InvalidType(#[from] InvalidLicenseType),
    #[error("organization {org:?} has no {license_type:?} license pool")]
    NoPool { org: String, license_type: String },
    #[error("{email} already holds a {license_type:?} license")]
    AlreadyHolds { email: String, license_type: String },
    #[error("{email} holds no {license_type:?} license")]
    NotHeld { email: String, license_type: String },
    #[error("no {license_type:?} seat is free ({assigned} of {seats} assigned)")]
    NoSeatFree {
        license_type: String,
        assigned: u32,
        seats: u32,
    },
    #[error(
        "the licenses of {email} are managed by your identity provider over SCIM: assign or revoke them there"
    )]
    ManagedByIdp { email: String },
    #[error(transparent)]
    Store(#[from] store::Error),
}

/// Creates the pool of `license_type` or changes its size. Making it smaller
/// than its use revokes nothing: the pool is then over-allocated and new
/// assignments wait until it is back under.
pub fn set_pool(
    conn: &mut DbConn,
    clock: &Clock,
    actor: &Actor,
    org: &Organization,
    license_type: &LicenseType,
    seats: u32,
) -> Result<Pool, Error> {
    store::write_transaction(conn, |conn| {
        let pool = match queries::pool_by_type(conn, org.id, license_type)? {
            Some(pool) => {
                queries::resize(conn, pool.id, seats)?;
                queries::clear_exhausted_if_free(conn, pool.id)?;
                let pool = Pool { seats, ..pool };
                serve_waiting_list(conn, clock, org, &pool)?;
                pool
            }
            None => {
                let pool = Pool {
                    id: PoolId::generate(),
                    org: org.id,
                    license_type: license_type.clone(),
                    seats,
                    assigned: 0,
                    exhausted_since: None,
                };
                queries::insert_pool(conn, &pool, clock.now_naive())?;
                pool
            }
        };
        audit::record(
            conn,
            clock,
            audit::NewEvent::new(Some(org.id), actor, Action::LicensePoolSet)
                .target(license_type.as_str())
                .details(json!({ "seats": seats })),
        )?;
        Ok(pool)
    })
}

/// The organization's pools, by type.
pub fn pools(conn: &mut DbConn, org: OrgId) -> Result<Vec<Pool>, store::Error> {
    queries::pools(conn, org)
}

/// The learner's active license, if any.
pub fn license_of(conn: &mut DbConn, learner: &Learner) -> Result<Option<License>, store::Error> {
    queries::active_license(conn, learner.id)
}

/// The license type each learner holds, for a list of learners (one query).
pub fn license_types_of(
    conn: &mut DbConn,
    learners: &[Learner],
) -> Result<std::collections::HashMap<crate::ids::UserId, LicenseType>, store::Error> {
    let ids: Vec<_> = learners.iter().map(|l| l.id).collect();
    queries::active_license_types(conn, &ids)
}

fn pool(conn: &mut DbConn, org: &Organization, license_type: &LicenseType) -> Result<Pool, Error> {
    queries::pool_by_type(conn, org.id, license_type)?.ok_or_else(|| Error::NoPool {
        org: org.slug.to_string(),
        license_type: license_type.to_string(),
    })
}

/// Gives `learner` a seat of `license_type`, if one is free. Call inside a
/// write transaction when combined with other work; it opens none itself.
fn take_seat(
    conn: &mut DbConn,
    clock: &Clock,
    actor: &Actor,
    cause: LicenseCause,
    org: &Organization,
    learner: &Learner,
    pool: &Pool,
) -> Result<(), Error> {
    if queries::active_assignment(conn, pool.id, learner.id)? {
        return Err(Error::AlreadyHolds {
            email: learner.email.to_string(),
            license_type: pool.license_type.to_string(),
        });
    }
    if !queries::take_seat(conn, pool.id)? {
        return Err(Error::NoSeatFree {
            license_type: pool.license_type.to_string(),
            assigned: pool.assigned,
            seats: pool.seats,
        });
    }
    queries::insert_assignment(conn, pool.id, learner.id, cause, clock.now_naive())?;
    queries::remove_wait(conn, pool.id, learner.id)?;
    audited(
        conn,
        clock,
        actor,
        Action::LicenseAssigned,
        cause,
        org,
        learner,
        pool,
    )?;
    Ok(())
}

/// Records a seat taken or given back, with its license type and cause,
/// and tells the applications that listen.
#[allow(clippy::too_many_arguments)] // each is one fact of the event
fn audited(
    conn: &mut DbConn,
    clock: &Clock,
    actor: &Actor,
    action: Action,
    cause: LicenseCause,
    org: &Organization,
    learner: &Learner,
    pool: &Pool,
) -> Result<(), store::Error> {
    audit::record(
        conn,
        clock,
        audit::NewEvent::new(Some(org.id), actor, action)
            .target(learner.email.as_str())
            .details(
                json!({ "license_type": pool.license_type.as_str(), "cause": cause.as_str() }),
            ),
    )?;
    webhooks::on_learner_change(
        conn,
        clock,
        action,
        org,
        learner,
        json!({ "license": pool.license_type.as_str(), "cause": cause.as_str() }),
    )
}

/// Assigns a seat by hand (admin or CLI).
pub fn assign(
    conn: &mut DbConn,
    clock: &Clock,
    actor: &Actor,
    cause: LicenseCause,
    org: &Organization,
    learner: &Learner,
    license_type: &LicenseType,
) -> Result<(), Error> {
    refuse_if_managed(learner)?;
    store::write_transaction(conn, |conn| {
        let pool = pool(conn, org, license_type)?;
        take_seat(conn, clock, actor, cause, org, learner, &pool)
    })
}

/// Learners a SCIM client manages have their licenses from the IdP, the
/// source of truth: a change by hand would be undone or contradicted.
fn refuse_if_managed(learner: &Learner) -> Result<(), Error> {
    match learner.scim.managed_by {
        Some(_) => Err(Error::ManagedByIdp {
            email: learner.email.to_string(),
        }),
        None => Ok(()),
    }
}

/// Revokes the learner's seat of `license_type` and frees it.
pub fn revoke(
    conn: &mut DbConn,
    clock: &Clock,
    actor: &Actor,
    cause: LicenseCause,
    org: &Organization,
    learner: &Learner,
    license_type: &LicenseType,
) -> Result<(), Error> {
    refuse_if_managed(learner)?;
    store::write_transaction(conn, |conn| {
        let pool = pool(conn, org, license_type)?;
        give_back(conn, clock, actor, cause, org, learner, &pool)
    })
}

/// Ends the learner's seat of `pool` and frees it; inside the caller's transaction.
fn give_back(
    conn: &mut DbConn,
    clock: &Clock,
    actor: &Actor,
    cause: LicenseCause,
    org: &Organization,
    learner: &Learner,
    pool: &Pool,
) -> Result<(), Error> {
    if !queries::revoke_assignment(conn, pool.id, learner.id, cause, clock.now_naive())? {
        return Err(Error::NotHeld {
            email: learner.email.to_string(),
            license_type: pool.license_type.to_string(),
        });
    }
    queries::release_seat(conn, pool.id)?;
    queries::clear_exhausted_if_free(conn, pool.id)?;
    audited(
        conn,
        clock,
        actor,
        Action::LicenseRevoked,
        cause,
        org,
        learner,
        pool,
    )?;
    serve_waiting_list(conn, clock, org, pool)
}

/// How many waiters are read at a time while seats are handed out.
const WAITERS_AT_ONCE: usize = 100;

/// Hands the free seats of `pool` to the learners waiting for one, first
/// arrival first, in the caller's transaction (the one that freed the seat
/// or grew the pool). Waiters who no longer qualify (deactivated, licensed
/// meanwhile, auto-assign switched off, revoked by hand) leave the list.
/// On PostgreSQL the caller's `UPDATE` of the pool row holds its lock, so
/// two transactions freeing seats of one pool serve the list one at a time.
fn serve_waiting_list(
    conn: &mut DbConn,
    clock: &Clock,
    org: &Organization,
    pool: &Pool,
) -> Result<(), Error> {
    loop {
        let waiters = queries::waiters(conn, pool.id, WAITERS_AT_ONCE)?;
        let batch = waiters.len();
        for (user, cause, _) in waiters {
            let learner = crate::accounts::learners::find_by_id(conn, user)?;
            let qualifies = match &learner {
                Some(learner) => still_waits(conn, org, learner, pool, cause)?,
                None => false,
            };
            let Some(learner) = learner.filter(|_| qualifies) else {
                queries::remove_wait(conn, pool.id, user)?;
                continue;
            };
            match take_seat(conn, clock, &Actor::System, cause, org, &learner, pool) {
                Ok(()) => {}
                Err(Error::NoSeatFree { .. }) => return Ok(()),
                Err(Error::AlreadyHolds { .. }) => queries::remove_wait(conn, pool.id, user)?,
                Err(other) => return Err(other),
            }
        }
        if batch < WAITERS_AT_ONCE {
            return Ok(());
        }
    }
}

/// Whether a waiter still wants the seat the cause of their wait would give.
fn still_waits(
    conn: &mut DbConn,
    org: &Organization,
    learner: &Learner,
    pool: &Pool,
    cause: LicenseCause,
) -> Result<bool, store::Error> {
    if !learner.active {
        return Ok(false);
    }
    Ok(match cause {
        // The IdP's rules decide; SCIM takes a learner off the list when they change.
        LicenseCause::Scim => learner.scim.managed_by.is_some(),
        // An administrator's file asked for this seat; a later file's
        // revoke or remove takes the learner off the list itself.
        LicenseCause::Csv => learner.scim.managed_by.is_none(),
        _ => {
            matches!(standing(conn, org, learner)?, Standing::WaitingForSeat(p) if p.id == pool.id)
        }
    })
}

/// A learner on a pool's waiting list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Waiter {
    pub learner: Learner,
    pub since: NaiveDateTime,
}

/// The pool's waiting list, first arrival first (for the console).
pub fn waiting_list(conn: &mut DbConn, pool: &Pool) -> Result<Vec<Waiter>, store::Error> {
    let mut list = Vec::new();
    for (user, _, since) in queries::waiters(conn, pool.id, usize::MAX)? {
        if let Some(learner) = crate::accounts::learners::find_by_id(conn, user)? {
            list.push(Waiter { learner, since });
        }
    }
    Ok(list)
}

/// Takes the learner off the pool of `license_type`'s waiting list (they no
/// longer want that seat); inside the caller's transaction.
pub fn leave_waiting_list(
    conn: &mut DbConn,
    org: &Organization,
    learner: &Learner,
    license_type: &LicenseType,
) -> Result<(), Error> {
    let pool = pool(conn, org, license_type)?;
    Ok(queries::remove_wait(conn, pool.id, learner.id)?)
}

/// Whether the learner waits for a seat of `pool`.
pub fn waits(conn: &mut DbConn, pool: &Pool, learner: &Learner) -> Result<bool, store::Error> {
    queries::waits(conn, pool.id, learner.id)
}

/// Revokes every seat the learner holds (SCIM deactivation or deletion);
/// inside the caller's transaction. Returns the license types given back.
pub fn revoke_all(
    conn: &mut DbConn,
    clock: &Clock,
    actor: &Actor,
    cause: LicenseCause,
    org: &Organization,
    learner: &Learner,
) -> Result<Vec<LicenseType>, Error> {
    // Off the waiting lists first, so no seat freed below comes straight back.
    queries::remove_waits_of(conn, learner.id)?;
    let mut freed = Vec::new();
    for pool in queries::pools(conn, org.id)? {
        if queries::active_assignment(conn, pool.id, learner.id)? {
            give_back(conn, clock, actor, cause, org, learner, &pool)?;
            freed.push(pool.license_type);
        }
    }
    Ok(freed)
}

/// The license types the learner holds a seat of.
pub fn held_types(conn: &mut DbConn, learner: &Learner) -> Result<Vec<LicenseType>, store::Error> {
    queries::held_types(conn, learner.id)
}

/// Takes back the learner's seat of `license_type` for a change that
/// decides seats by its own rules (the IdP over SCIM, a CSV file); inside
/// the caller's transaction.
pub fn take_back(
    conn: &mut DbConn,
    clock: &Clock,
    actor: &Actor,
    cause: LicenseCause,
    org: &Organization,
    learner: &Learner,
    license_type: &LicenseType,
) -> Result<(), Error> {
    let pool = pool(conn, org, license_type)?;
    give_back(conn, clock, actor, cause, org, learner, &pool)
}

/// What giving a seat on the IdP's behalf came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seat {
    /// The learner holds a seat of the type (newly or from before).
    Held,
    /// The pool is full: the learner exists without a seat, on its waiting list.
    NoneFree,
}

/// Gives the learner a seat of `license_type` when one is free, first come
/// first served, or a place on the pool's waiting list (the IdP over SCIM,
/// a CSV file); inside the caller's transaction.
pub fn ensure_seat(
    conn: &mut DbConn,
    clock: &Clock,
    actor: &Actor,
    cause: LicenseCause,
    org: &Organization,
    learner: &Learner,
    license_type: &LicenseType,
) -> Result<Seat, Error> {
    let pool = pool(conn, org, license_type)?;
    match take_seat(conn, clock, actor, cause, org, learner, &pool) {
        Ok(()) | Err(Error::AlreadyHolds { .. }) => Ok(Seat::Held),
        Err(Error::NoSeatFree { .. }) => {
            queries::add_wait(conn, pool.id, learner.id, cause, clock.now_naive())?;
            Ok(Seat::NoneFree)
        }
        Err(other) => Err(other),
    }
}

/// What automatic assignment did at a sign-in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AutoAssign {
    /// The learner holds this license (newly assigned or from before).
    Licensed(LicenseType),
    /// Automatic assignment is on but no seat is free.
    NoSeat,
    /// Automatic assignment is off, has no pool, or an admin revoked this
    /// learner's seat: an administrator assigns the license.
    ByAdministrator,
    /// A SCIM client manages the learner: their IdP assigns the license.
    ByIdp,
}

/// What a learner without a seat can expect, or their license.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Standing {
    Licensed(License),
    /// Automatic assignment gives a seat of this pool when one is free.
    WaitingForSeat(Pool),
    /// Only an administrator assigns this learner's license.
    ByAdministrator,
    /// The organization's IdP assigns this learner's license over SCIM.
    ByIdp,
}

/// The learner's license standing, by the same rules as [`auto_assign`].
pub fn standing(
    conn: &mut DbConn,
    org: &Organization,
    learner: &Learner,
) -> Result<Standing, store::Error> {
    if let Some(license) = queries::active_license(conn, learner.id)? {
        return Ok(Standing::Licensed(license));
    }
    if learner.scim.managed_by.is_some() {
        return Ok(Standing::ByIdp);
    }
    let Some(license_type) = org
        .auto_assign_license_type
        .as_ref()
        .filter(|_| org.auto_assign_licenses)
    else {
        return Ok(Standing::ByAdministrator);
    };
    let Some(pool) = queries::pool_by_type(conn, org.id, license_type)? else {
        return Ok(Standing::ByAdministrator);
    };
    if queries::last_revoke_cause(conn, pool.id, learner.id)?
        .is_some_and(LicenseCause::is_deliberate)
    {
        return Ok(Standing::ByAdministrator);
    }
    Ok(Standing::WaitingForSeat(pool))
}

/// Applies "Automatically assign licenses" for a learner who just signed in;
/// runs inside the sign-in's transaction.
pub fn auto_assign(
    conn: &mut DbConn,
    clock: &Clock,
    org: &Organization,
    learner: &Learner,
) -> Result<AutoAssign, Error> {
    let pool = match standing(conn, org, learner)? {
        Standing::Licensed(license) => return Ok(AutoAssign::Licensed(license.license_type)),
        Standing::ByAdministrator => return Ok(AutoAssign::ByAdministrator),
        Standing::ByIdp => return Ok(AutoAssign::ByIdp),
        Standing::WaitingForSeat(pool) => pool,
    };
    match take_seat(
        conn,
        clock,
        &Actor::System,
        LicenseCause::SsoAutoAssign,
        org,
        learner,
        &pool,
    ) {
        Ok(()) => Ok(AutoAssign::Licensed(pool.license_type.clone())),
        Err(Error::NoSeatFree { .. }) => {
            queries::add_wait(
                conn,
                pool.id,
                learner.id,
                LicenseCause::SsoAutoAssign,
                clock.now_naive(),
            )?;
            // One alert per exhaustion episode, not one per learner turned away.
            if queries::mark_exhausted(conn, pool.id, clock.now_naive())? {
                audit::record(
                    conn,
                    clock,
                    audit::NewEvent::new(
                        Some(org.id),
                        &Actor::System,
                        Action::LicensePoolExhausted,
                    )
                    .target(pool.license_type.as_str())
                    .details(json!({ "seats": pool.seats, "learner": learner.email.as_str() })),
                )?;
                tracing::warn!(
                    org = org.slug.as_str(),
                    license_type = pool.license_type.as_str(),
                    "license pool out of seats"
                );
            }
            Ok(AutoAssign::NoSeat)
        }
        Err(other) => Err(other),
    }
}

/// Turns automatic assignment on (drawing from `license_type`, which must have a pool) or off.
pub fn set_auto_assign(
    conn: &mut DbConn,
    clock: &Clock,
    actor: &Actor,
    org: &Organization,
    on: bool,
    license_type: Option<LicenseType>,
) -> Result<(), Error> {
    store::write_transaction(conn, |conn| {
        let license_type = license_type.or_else(|| org.auto_assign_license_type.clone());
        if on {
            let Some(license_type) = &license_type else {
                return Err(Error::NoPool {
                    org: org.slug.to_string(),
                    license_type: "(none given: use --license-type)".into(),
                });
            };
            pool(conn, org, license_type)?;
        }
        crate::orgs::save_auto_assign(conn, org.id, on, license_type.as_ref())?;
        // Switched back on: those who waited before come first.
        if on && let Some(license_type) = &license_type {
            let org = Organization {
                auto_assign_licenses: true,
                auto_assign_license_type: Some(license_type.clone()),
                ..org.clone()
            };
            let pool = pool(conn, &org, license_type)?;
            serve_waiting_list(conn, clock, &org, &pool)?;
        }
        audit::record(
            conn,
            clock,
            audit::NewEvent::new(Some(org.id), actor, Action::AutoAssignChanged)
                .target(org.slug.as_str())
                .details(json!({ "on": on, "license_type": license_type.as_ref().map(LicenseType::as_str) })),
        )?;
        Ok(())
    })
}

/// Seats of the pool held at the end of each of the last `days` days (UTC),
/// oldest first, for the console's chart.
pub fn usage_by_day(
    conn: &mut DbConn,
    clock: &Clock,
    pool: &Pool,
    days: u32,
) -> Result<Vec<(chrono::NaiveDate, u32)>, store::Error> {
    let today = clock.now_naive().date();
    let first = today - chrono::TimeDelta::days(i64::from(days.saturating_sub(1)));
    let ends: Vec<_> = first
        .iter_days()
        .take(days as usize)
        .map(|day| {
            (
                day,
                day.succ_opt()
                    .unwrap_or(day)
                    .and_time(chrono::NaiveTime::MIN),
            )
        })
        .collect();
    let spans = queries::assignment_spans(conn, pool.id, first.and_time(chrono::NaiveTime::MIN))?;
    Ok(ends
        .into_iter()
        .map(|(day, end)| (day, held_at(&spans, end)))
        .collect())
}

/// How many of the (assigned, revoked) spans hold a seat just before `instant`.
fn held_at(spans: &[(NaiveDateTime, Option<NaiveDateTime>)], instant: NaiveDateTime) -> u32 {
    let held = spans
        .iter()
        .filter(|(assigned, revoked)| *assigned < instant && revoked.is_none_or(|r| r >= instant))
        .count();
    u32::try_from(held).unwrap_or(u32::MAX)
}

/// Revokes the seats of learners who have not signed in for `inactive_days`
/// (cause `reclaim`, not sticky: they get a seat again at a later sign-in if
/// one is free). Learners managed over SCIM are left to their IdP. With
/// `dry_run` nothing changes. Returns `(email, license type)`.
pub fn reclaim(
    conn: &mut DbConn,
    clock: &Clock,
    actor: &Actor,
    org: &Organization,
    inactive_days: u32,
    dry_run: bool,
) -> Result<Vec<(String, LicenseType)>, Error> {
    let before = clock.now_naive() - chrono::TimeDelta::days(i64::from(inactive_days));
    let holders: Vec<(String, LicenseType)> = queries::inactive_holders(conn, org.id, before)?
        .into_iter()
        .map(|(email, license_type)| Ok((email, store::decode("license type", license_type)?)))
        .collect::<Result<_, store::Error>>()?;
    if !dry_run {
        for (email, license_type) in &holders {
            let learner = crate::accounts::learners::by_email(
                conn,
                org.id,
                &store::decode("email", email.clone())?,
            )?
            .ok_or_else(|| Error::NotHeld {
                email: email.clone(),
                license_type: license_type.to_string(),
            })?;
            revoke(
                conn,
                clock,
                actor,
                LicenseCause::Reclaim,
                org,
                &learner,
                license_type,
            )?;
        }
    }
    Ok(holders)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(day: u32, hour: u32) -> NaiveDateTime {
        chrono::NaiveDate::from_ymd_opt(2026, 11, day)
            .unwrap()
            .and_hms_opt(hour, 0, 0)
            .unwrap()
    }

    #[test]
    fn seats_held_count_assignments_live_at_the_instant() {
        let spans = [
            (at(1, 9), None),
            (at(1, 10), Some(at(2, 10))),
            (at(3, 8), Some(at(3, 9))),
            (at(4, 9), None),
        ];
        assert_eq!(held_at(&spans, at(1, 9)), 0, "taken exactly then: not yet");
        assert_eq!(held_at(&spans, at(2, 0)), 2);
        assert_eq!(
            held_at(&spans, at(2, 10)),
            2,
            "given back exactly then: still held"
        );
        assert_eq!(held_at(&spans, at(3, 0)), 1);
        assert_eq!(
            held_at(&spans, at(4, 0)),
            1,
            "a seat held for an hour on day 3 is gone"
        );
        assert_eq!(held_at(&spans, at(5, 0)), 2);
    }
}
