//! IdP metadata from a URL, refreshed daily; a failed refresh keeps the last
//! good copy and says why. (Fetching itself is in `intake`.)

use chrono::TimeDelta;

use super::IdpConnection;
use super::intake::{self, Requester};
use super::queries;
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
        match fetched(&connection, &url).await {
            Ok(metadata) => {
                let updated = IdpConnection {
                    sso_url: metadata.sso_url,
                    certificates: metadata.certificates,
                    metadata_fetched_at: Some(now),
                    metadata_error: None,
                    ..connection
                };
                store
                    .run(move |conn| queries::refreshed(conn, &updated))
                    .await?;
                outcome.updated += 1;
            }
            Err(reason) => {
                tracing::warn!(connection = %connection.id, url, reason, "metadata refresh failed; keeping the last good copy");
                let id = connection.id;
                store
                    .run(move |conn| queries::refresh_failed(conn, id, now, &reason))
                    .await?;
                outcome.failed += 1;
            }
        }
    }
    Ok(outcome)
}

async fn fetched(connection: &IdpConnection, url: &str) -> Result<IdpMetadata, String> {
    // Refreshes fetch as the operator would: a URL an org admin gave was
    // checked when it was saved, and an operator's may name the company
    // network (docs/security.md).
    let text = intake::fetch(url, Requester::Operator)
        .await
        .map_err(|e| e.to_string())?;
    let metadata: IdpMetadata = text
        .parse()
        .map_err(|e: crate::saml::metadata::MetadataError| e.to_string())?;
    if metadata.entity_id != connection.entity_id {
        return Err(format!(
            "the metadata now names entity ID {:?}, not {:?}",
            metadata.entity_id, connection.entity_id
        ));
    }
    Ok(metadata)
}
