//! IdP metadata from a URL, refreshed daily; a failed refresh keeps the last
//! good copy and says why. (Fetching itself is in `intake`.)

use chrono::TimeDelta;

use super::intake::{self, Requester};
use super::{queries, rollover};
use crate::audit::Actor;
use crate::clock::Clock;
use crate::saml::metadata::IdpMetadata;
use crate::store::{self, Store};

/// How old fetched metadata may get before it is fetched again.
pub const REFRESH_EVERY: TimeDelta = TimeDelta::hours(24);

/// What one refresh round did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Refreshed {
    pub updated: usize,
    pub failed: usize,
}

/// Refreshes every connection whose metadata is older than [`REFRESH_EVERY`].
pub async fn refresh_due(store: &Store, clock: &Clock) -> Result<Refreshed, store::Error> {
    let before = clock.now_naive() - REFRESH_EVERY;
    let due = store
        .run(move |conn| queries::due_for_refresh(conn, before))
        .await?;
    let mut outcome = Refreshed::default();
    for connection in due {
        let url = connection.metadata_url.clone().unwrap_or_default();
        let now = clock.now_naive();
        let id = connection.id;
        let metadata = match fetched(&url).await {
            Ok(metadata) => metadata,
            Err(reason) => {
                failed(store, id, &url, now, reason).await?;
                outcome.failed += 1;
                continue;
            }
        };
        // As any new metadata: a certificate it no longer lists stays
        // trusted until removed or expired, so a rollover is no outage.
        let clock = clock.clone();
        let applied = store
            .run(move |conn| {
                store::write_transaction(conn, |conn| {
                    let changes =
                        rollover::apply(conn, &clock, &Actor::System, &connection, &metadata)?;
                    queries::refreshed(conn, id, now)?;
                    Ok::<_, super::Error>(changes)
                })
            })
            .await;
        match applied {
            Ok(_) => outcome.updated += 1,
            Err(super::Error::Store(e)) => return Err(e),
            Err(refused) => {
                failed(store, id, &url, now, refused.to_string()).await?;
                outcome.failed += 1;
            }
        }
    }
    Ok(outcome)
}

/// Records why a refresh failed; the last good metadata stays in force.
async fn failed(
    store: &Store,
    id: crate::ids::ConnectionId,
    url: &str,
    now: chrono::NaiveDateTime,
    reason: String,
) -> Result<(), store::Error> {
    tracing::warn!(connection = %id, url, reason, "metadata refresh failed; keeping the last good copy");
    store
        .run(move |conn| queries::refresh_failed(conn, id, now, &reason))
        .await
}

async fn fetched(url: &str) -> Result<IdpMetadata, String> {
    // Refreshes fetch as the operator would: a URL an org admin gave was
    // checked when it was saved, and an operator's may name the company
    // network (docs/security.md).
    let text = intake::fetch(url, Requester::Operator)
        .await
        .map_err(|e| e.to_string())?;
    text.parse()
        .map_err(|e: crate::saml::metadata::MetadataError| e.to_string())
}
