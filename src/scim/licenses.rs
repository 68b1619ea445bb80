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
    reconcile_retiring(conn, clock, org, learner, None)
}

/// [`reconcile`], with `retired` (the type of a group just unmapped or
/// deleted) still counted as ruled: its seats go back unless another rule
/// gives them.
fn reconcile_retiring(
    conn: &mut DbConn,
    clock: &Clock,
    org: &Organization,
    learner: &Learner,
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
    let actor = config.actor();
    let mapped: BTreeSet<LicenseType> = groups::list(conn, org.id)?
        .into_iter()
        .filter_map(|g| g.license_type)
        .collect();
    let mut ruled = mapped;
    ruled.extend(config.assigns().cloned());
    ruled.extend(retired.cloned());
    let mut wanted: BTreeSet<LicenseType> = groups::of_learner(conn, learner.id)?
        .into_iter()
        .filter_map(|g| g.license_type)
        .collect();
    wanted.extend(config.assigns().cloned());
    let held: BTreeSet<LicenseType> = licensing::held_types(conn, learner)?.into_iter().collect();
    for license_type in ruled.difference(&wanted) {
        if held.contains(license_type) {
            licensing::give_back_for_idp(conn, clock, &actor, org, learner, license_type)?;
        }
        licensing::leave_waiting_list(conn, org, learner, license_type)?;
    }
    for license_type in wanted.difference(&held) {
        if licensing::ensure_seat(conn, clock, &actor, org, learner, license_type)?
            == Seat::NoneFree
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

/// [`reconcile_retiring`] for each of `learners` (who joined or left a
/// group, or were in one whose rule changed).
pub fn reconcile_all(
    conn: &mut DbConn,
    clock: &Clock,
    org: &Organization,
    learners: &[crate::ids::UserId],
    retired: Option<&LicenseType>,
) -> Result<(), Error> {
    for id in learners {
        if let Some(learner) = crate::accounts::learners::find_by_id(conn, *id)? {
            reconcile_retiring(conn, clock, org, &learner, retired)?;
        }
    }
    Ok(())
}
