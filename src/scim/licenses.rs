//! Which seats a SCIM-managed learner holds: the IdP is the source of
//! truth. A learner holds the license type of their configuration's
//! auto-assign (when on) and of every mapped group they are in; leaving a
//! mapped group takes that seat back, moving between mapped groups
//! switches it. License types no SCIM rule names are left alone, so
//! switching SCIM on takes nothing away that an administrator gave.

use std::collections::BTreeSet;

use crate::accounts::learners::Learner;
use crate::clock::Clock;
use crate::ids::LicenseType;
use crate::licensing::{self, Error, Seat};
use crate::orgs::Organization;
use crate::store::DbConn;
use crate::{groups, scim};

/// Brings the learner's seats in line with the IdP's rules; inside the
/// caller's transaction. Inactive learners hold none (`end_access`).
pub fn reconcile(
    conn: &mut DbConn,
    clock: &Clock,
    org: &Organization,
    learner: &Learner,
) -> Result<(), Error> {
    let mapped = groups::mapped_types(conn, org.id)?;
    reconcile_with(conn, clock, org, learner, &mapped, None)
}

/// [`reconcile`] given the organization's mapped license types, with
/// `retired` (the type of a group just unmapped or deleted) still counted
/// as ruled: its seats go back unless another rule gives them.
fn reconcile_with(
    conn: &mut DbConn,
    clock: &Clock,
    org: &Organization,
    learner: &Learner,
    mapped: &BTreeSet<LicenseType>,
    retired: Option<&LicenseType>,
) -> Result<(), Error> {
    let Some(config) = learner.scim.managed_by else {
        return Ok(());
    };
    if !learner.active {
        return Ok(());
    }
    let Some(config) = scim::config_by_id(conn, config)? else {
        return Ok(());
    };
    let mut ruled = mapped.clone();
    ruled.extend(config.assigns().cloned());
    ruled.extend(retired.cloned());
    // No rule names a license: nothing to look up (the common initial sync).
    if ruled.is_empty() {
        return Ok(());
    }
    let actor = config.actor();
    let mut wanted: BTreeSet<LicenseType> = if mapped.is_empty() {
        BTreeSet::new()
    } else {
        groups::of_learner(conn, learner.id)?
            .into_iter()
            .filter_map(|g| g.license_type)
            .collect()
    };
    wanted.extend(config.assigns().cloned());
    let held: BTreeSet<LicenseType> = licensing::held_types(conn, learner)?.into_iter().collect();
    for license_type in ruled.difference(&wanted) {
        if held.contains(license_type) {
            licensing::take_back(
                conn,
                clock,
                &actor,
                licensing::LicenseCause::Scim,
                org,
                learner,
                license_type,
            )?;
        }
        licensing::leave_waiting_list(conn, org, learner, license_type)?;
    }
    for license_type in wanted.difference(&held) {
        if licensing::ensure_seat(
            conn,
            clock,
            &actor,
            licensing::LicenseCause::Scim,
            org,
            learner,
            license_type,
        )? == Seat::NoneFree
        {
            tracing::info!(
                org = org.slug.as_str(),
                license_type = license_type.as_str(),
                "SCIM learner waits: no seat free"
            );
        }
    }
    Ok(())
}

/// [`reconcile`] for each of `learners` (who joined or left a group, or
/// were in one whose rule changed), `retired` as in [`reconcile_with`].
pub fn reconcile_all(
    conn: &mut DbConn,
    clock: &Clock,
    org: &Organization,
    learners: &[crate::ids::UserId],
    retired: Option<&LicenseType>,
) -> Result<(), Error> {
    let mapped = groups::mapped_types(conn, org.id)?;
    if mapped.is_empty() && retired.is_none() {
        // Membership only matters for seats through mapped groups.
        return Ok(());
    }
    for id in learners {
        if let Some(learner) = crate::accounts::learners::find_by_id(conn, *id)? {
            reconcile_with(conn, clock, org, &learner, &mapped, retired)?;
        }
    }
    Ok(())
}
