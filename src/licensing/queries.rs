//! Queries on license pools and assignments.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::ids::{OrgId, PoolId, UserId};
use crate::licensing::{License, LicenseCause, LicenseType, Pool};
use crate::store::schema::{license_assignments, license_pools, seat_waits};
use crate::store::{DbConn, Error, decode, unique};

#[derive(Queryable, Selectable)]
#[diesel(table_name = license_pools)]
struct PoolRow {
    id: String,
    org_id: String,
    license_type: String,
    seats: i32,
    assigned: i32,
    exhausted_since: Option<NaiveDateTime>,
}

impl TryFrom<PoolRow> for Pool {
    type Error = Error;

    fn try_from(row: PoolRow) -> Result<Self, Error> {
        let count = |what: &'static str, n: i32| {
            u32::try_from(n).map_err(|_| Error::Corrupt {
                what,
                value: n.to_string(),
            })
        };
        Ok(Pool {
            org: decode("organization id", row.org_id)?,
            license_type: decode("license type", row.license_type)?,
            seats: count("seat count", row.seats)?,
            assigned: count("assigned count", row.assigned)?,
            exhausted_since: row.exhausted_since,
            id: decode("pool id", row.id)?,
        })
    }
}

fn seats(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

pub(super) fn insert_pool(conn: &mut DbConn, pool: &Pool, at: NaiveDateTime) -> Result<(), Error> {
    diesel::insert_into(license_pools::table)
        .values((
            license_pools::id.eq(pool.id.to_string()),
            license_pools::org_id.eq(pool.org.to_string()),
            license_pools::license_type.eq(pool.license_type.as_str()),
            license_pools::seats.eq(seats(pool.seats)),
            license_pools::assigned.eq(0),
            license_pools::created_at.eq(at),
        ))
        .execute(conn)
        .map_err(unique)?;
    Ok(())
}

pub(super) fn resize(conn: &mut DbConn, pool: PoolId, count: u32) -> Result<(), Error> {
    diesel::update(license_pools::table.find(pool.to_string()))
        .set(license_pools::seats.eq(seats(count)))
        .execute(conn)?;
    Ok(())
}

pub(super) fn pool_by_type(
    conn: &mut DbConn,
    org: OrgId,
    license_type: &LicenseType,
) -> Result<Option<Pool>, Error> {
    license_pools::table
        .filter(license_pools::org_id.eq(org.to_string()))
        .filter(license_pools::license_type.eq(license_type.as_str()))
        .select(PoolRow::as_select())
        .first(conn)
        .optional()?
        .map(Pool::try_from)
        .transpose()
}

pub(super) fn pools(conn: &mut DbConn, org: OrgId) -> Result<Vec<Pool>, Error> {
    license_pools::table
        .filter(license_pools::org_id.eq(org.to_string()))
        .order(license_pools::license_type)
        .select(PoolRow::as_select())
        .load(conn)?
        .into_iter()
        .map(Pool::try_from)
        .collect()
}

/// Takes one seat if one is free; false when the pool is full. The condition
/// is evaluated by the database on the current row, so concurrent takers
/// (threads or processes) can never exceed the pool.
pub(super) fn take_seat(conn: &mut DbConn, pool: PoolId) -> Result<bool, Error> {
    let taken = diesel::update(
        license_pools::table
            .find(pool.to_string())
            .filter(license_pools::assigned.lt(license_pools::seats)),
    )
    .set(license_pools::assigned.eq(license_pools::assigned + 1))
    .execute(conn)?;
    Ok(taken == 1)
}

pub(super) fn release_seat(conn: &mut DbConn, pool: PoolId) -> Result<(), Error> {
    diesel::update(
        license_pools::table
            .find(pool.to_string())
            .filter(license_pools::assigned.gt(0)),
    )
    .set(license_pools::assigned.eq(license_pools::assigned - 1))
    .execute(conn)?;
    Ok(())
}

pub(super) fn active_assignment(
    conn: &mut DbConn,
    pool: PoolId,
    user: UserId,
) -> Result<bool, Error> {
    let count: i64 = license_assignments::table
        .filter(license_assignments::pool_id.eq(pool.to_string()))
        .filter(license_assignments::user_id.eq(user.to_string()))
        .filter(license_assignments::revoked_at.is_null())
        .count()
        .get_result(conn)?;
    Ok(count > 0)
}

/// Inserts an active assignment; the partial unique index refuses a second one.
pub(super) fn insert_assignment(
    conn: &mut DbConn,
    pool: PoolId,
    user: UserId,
    cause: LicenseCause,
    at: NaiveDateTime,
) -> Result<(), Error> {
    diesel::insert_into(license_assignments::table)
        .values((
            // Time-ordered, as `ids` explains.
            license_assignments::id.eq(uuid::Uuid::now_v7().to_string()),
            license_assignments::pool_id.eq(pool.to_string()),
            license_assignments::user_id.eq(user.to_string()),
            license_assignments::cause.eq(cause.as_str()),
            license_assignments::assigned_at.eq(at),
        ))
        .execute(conn)
        .map_err(unique)?;
    Ok(())
}

/// Ends the active assignment; false when there was none.
pub(super) fn revoke_assignment(
    conn: &mut DbConn,
    pool: PoolId,
    user: UserId,
    cause: LicenseCause,
    at: NaiveDateTime,
) -> Result<bool, Error> {
    let changed = diesel::update(
        license_assignments::table
            .filter(license_assignments::pool_id.eq(pool.to_string()))
            .filter(license_assignments::user_id.eq(user.to_string()))
            .filter(license_assignments::revoked_at.is_null()),
    )
    .set((
        license_assignments::revoked_at.eq(at),
        license_assignments::revoke_cause.eq(cause.as_str()),
    ))
    .execute(conn)?;
    Ok(changed == 1)
}

/// Why the learner's latest seat of this pool was revoked, if it was.
pub(super) fn last_revoke_cause(
    conn: &mut DbConn,
    pool: PoolId,
    user: UserId,
) -> Result<Option<LicenseCause>, Error> {
    let latest: Option<Option<String>> = license_assignments::table
        .filter(license_assignments::pool_id.eq(pool.to_string()))
        .filter(license_assignments::user_id.eq(user.to_string()))
        .order(license_assignments::assigned_at.desc())
        .select(license_assignments::revoke_cause)
        .first(conn)
        .optional()?;
    latest
        .flatten()
        .map(|cause| decode("license cause", cause))
        .transpose()
}

pub(super) fn active_license(conn: &mut DbConn, user: UserId) -> Result<Option<License>, Error> {
    let row: Option<(String, NaiveDateTime, String)> = license_assignments::table
        .inner_join(license_pools::table)
        .filter(license_assignments::user_id.eq(user.to_string()))
        .filter(license_assignments::revoked_at.is_null())
        .order(license_assignments::assigned_at)
        .select((
            license_pools::license_type,
            license_assignments::assigned_at,
            license_assignments::cause,
        ))
        .first(conn)
        .optional()?;
    row.map(|(license_type, since, cause)| {
        Ok(License {
            license_type: decode("license type", license_type)?,
            since,
            cause: decode("license cause", cause)?,
        })
    })
    .transpose()
}

/// The license type each of `users` holds (the oldest active seat), in one query.
pub(super) fn active_license_types(
    conn: &mut DbConn,
    users: &[UserId],
) -> Result<std::collections::HashMap<UserId, LicenseType>, Error> {
    let ids: Vec<String> = users.iter().map(ToString::to_string).collect();
    let rows: Vec<(String, String)> = license_assignments::table
        .inner_join(license_pools::table)
        .filter(license_assignments::user_id.eq_any(&ids))
        .filter(license_assignments::revoked_at.is_null())
        .order(license_assignments::assigned_at.desc())
        .select((license_assignments::user_id, license_pools::license_type))
        .load(conn)?;
    // Oldest last, so it is the one kept: the same license `active_license` reports.
    rows.into_iter()
        .map(|(user, license_type)| {
            Ok((
                decode("user id", user)?,
                decode("license type", license_type)?,
            ))
        })
        .collect()
}

/// Marks the pool exhausted; true only for the call that starts the episode.
pub(super) fn mark_exhausted(
    conn: &mut DbConn,
    pool: PoolId,
    at: NaiveDateTime,
) -> Result<bool, Error> {
    let changed = diesel::update(
        license_pools::table
            .find(pool.to_string())
            .filter(license_pools::exhausted_since.is_null()),
    )
    .set(license_pools::exhausted_since.eq(at))
    .execute(conn)?;
    Ok(changed == 1)
}

/// Ends an exhaustion episode once a seat is free again.
pub(super) fn clear_exhausted_if_free(conn: &mut DbConn, pool: PoolId) -> Result<(), Error> {
    diesel::update(
        license_pools::table
            .find(pool.to_string())
            .filter(license_pools::assigned.lt(license_pools::seats)),
    )
    .set(license_pools::exhausted_since.eq(None::<NaiveDateTime>))
    .execute(conn)?;
    Ok(())
}

/// Active assignments of the organization's pools whose learner has not signed
/// in since `before` (or never, and was created before it): `(email, license type)`.
pub(super) fn inactive_holders(
    conn: &mut DbConn,
    org: OrgId,
    before: NaiveDateTime,
) -> Result<Vec<(String, String)>, Error> {
    use crate::store::schema::users;
    Ok(license_assignments::table
        .inner_join(license_pools::table)
        .inner_join(users::table.on(users::id.eq(license_assignments::user_id)))
        .filter(license_pools::org_id.eq(org.to_string()))
        .filter(license_assignments::revoked_at.is_null())
        .filter(users::scim_config_id.is_null())
        .filter(
            users::last_sign_in_at.lt(before).or(users::last_sign_in_at
                .is_null()
                .and(users::created_at.lt(before))),
        )
        .order((license_pools::license_type, users::email))
        .select((users::email, license_pools::license_type))
        .load(conn)?)
}

/// When each seat of the pool still held at or after `since` was taken and
/// (if it was) given back.
pub(super) fn assignment_spans(
    conn: &mut DbConn,
    pool: PoolId,
    since: NaiveDateTime,
) -> Result<Vec<(NaiveDateTime, Option<NaiveDateTime>)>, Error> {
    Ok(license_assignments::table
        .filter(license_assignments::pool_id.eq(pool.to_string()))
        .filter(
            license_assignments::revoked_at
                .is_null()
                .or(license_assignments::revoked_at.ge(since)),
        )
        .select((
            license_assignments::assigned_at,
            license_assignments::revoked_at,
        ))
        .load(conn)?)
}

/// Puts the learner on the pool's waiting list (once; a second call keeps
/// the first arrival).
pub(super) fn add_wait(
    conn: &mut DbConn,
    pool: PoolId,
    user: UserId,
    cause: LicenseCause,
    since: NaiveDateTime,
) -> Result<(), Error> {
    if waits(conn, pool, user)? {
        return Ok(());
    }
    // The UPDATE locks the pool row until the transaction ends (PostgreSQL;
    // SQLite has one writer anyway), so no other arrival draws this number.
    diesel::update(license_pools::table.find(pool.to_string()))
        .set(license_pools::wait_seq.eq(license_pools::wait_seq + 1))
        .execute(conn)?;
    let position: i32 = license_pools::table
        .find(pool.to_string())
        .select(license_pools::wait_seq)
        .first(conn)?;
    match diesel::insert_into(seat_waits::table)
        .values((
            seat_waits::pool_id.eq(pool.to_string()),
            seat_waits::user_id.eq(user.to_string()),
            seat_waits::cause.eq(cause.as_str()),
            seat_waits::position.eq(position),
            seat_waits::since.eq(since),
        ))
        .execute(conn)
        .map_err(unique)
    {
        // Another transaction put them there first: their arrival stands.
        Ok(_) | Err(Error::Duplicate) => Ok(()),
        Err(other) => Err(other),
    }
}

/// Whether the learner is on the pool's waiting list.
pub(super) fn waits(conn: &mut DbConn, pool: PoolId, user: UserId) -> Result<bool, Error> {
    let waiting: i64 = seat_waits::table
        .filter(seat_waits::pool_id.eq(pool.to_string()))
        .filter(seat_waits::user_id.eq(user.to_string()))
        .count()
        .get_result(conn)?;
    Ok(waiting > 0)
}

pub(super) fn remove_wait(conn: &mut DbConn, pool: PoolId, user: UserId) -> Result<(), Error> {
    diesel::delete(
        seat_waits::table
            .filter(seat_waits::pool_id.eq(pool.to_string()))
            .filter(seat_waits::user_id.eq(user.to_string())),
    )
    .execute(conn)?;
    Ok(())
}

pub(super) fn remove_waits_of(conn: &mut DbConn, user: UserId) -> Result<(), Error> {
    diesel::delete(seat_waits::table.filter(seat_waits::user_id.eq(user.to_string())))
        .execute(conn)?;
    Ok(())
}

/// The first `limit` of the pool's waiting list, first arrival first: `(learner, cause, since)`.
pub(super) fn waiters(
    conn: &mut DbConn,
    pool: PoolId,
    limit: usize,
) -> Result<Vec<(UserId, LicenseCause, NaiveDateTime)>, Error> {
    seat_waits::table
        .filter(seat_waits::pool_id.eq(pool.to_string()))
        .order(seat_waits::position)
        .limit(i64::try_from(limit).unwrap_or(i64::MAX))
        .select((seat_waits::user_id, seat_waits::cause, seat_waits::since))
        .load::<(String, String, NaiveDateTime)>(conn)?
        .into_iter()
        .map(|(user, cause, since)| {
            Ok((
                decode("user id", user)?,
                decode("license cause", cause)?,
                since,
            ))
        })
        .collect()
}

pub(super) fn held_types(conn: &mut DbConn, user: UserId) -> Result<Vec<LicenseType>, Error> {
    license_assignments::table
        .inner_join(license_pools::table)
        .filter(license_assignments::user_id.eq(user.to_string()))
        .filter(license_assignments::revoked_at.is_null())
        .order(license_pools::license_type)
        .select(license_pools::license_type)
        .load::<String>(conn)?
        .into_iter()
        .map(|t| decode("license type", t))
        .collect()
}
