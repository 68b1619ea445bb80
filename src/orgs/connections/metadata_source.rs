//! IdP metadata from a URL: fetched with a timeout and a size limit, and
//! refreshed daily; a failed refresh keeps the last good copy and says why.

use std::time::Duration;

use chrono::TimeDelta;

use super::IdpConnection;
use super::queries;
use crate::clock::Clock;
use crate::saml::metadata::{IdpMetadata, MAX_METADATA_BYTES};
use crate::store::{self, Store};

const FETCH_TIMEOUT: Duration = Duration::from_secs(10);
/// How old fetched metadata may get before it is fetched again.
pub const REFRESH_EVERY: TimeDelta = TimeDelta::hours(24);

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("{0:?} is not an http(s) URL")]
    BadUrl(String),
    #[error("cannot fetch {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("{url} answered HTTP {status}")]
    Status { url: String, status: u16 },
    #[error("the metadata at {url} is larger than 1 MiB or unreadable: {reason}")]
    Body { url: String, reason: String },
}

/// Whether a `--metadata` argument names a URL rather than a file.
pub fn is_url(text: &str) -> bool {
    text.starts_with("https://") || text.starts_with("http://")
}

/// Fetches metadata text from `url`.
pub async fn fetch(url: &str) -> Result<String, FetchError> {
    if !is_url(url) {
        return Err(FetchError::BadUrl(url.to_owned()));
    }
    let client = awc::Client::builder().timeout(FETCH_TIMEOUT).finish();
    let mut response = client
        .get(url)
        .send()
        .await
        .map_err(|e| FetchError::Unreachable {
            url: url.to_owned(),
            reason: e.to_string(),
        })?;
    if !response.status().is_success() {
        return Err(FetchError::Status {
            url: url.to_owned(),
            status: response.status().as_u16(),
        });
    }
    let body = response
        .body()
        .limit(MAX_METADATA_BYTES)
        .await
        .map_err(|e| FetchError::Body {
            url: url.to_owned(),
            reason: e.to_string(),
        })?;
    String::from_utf8(body.to_vec()).map_err(|_| FetchError::Body {
        url: url.to_owned(),
        reason: "not UTF-8".into(),
    })
}

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
    let text = fetch(url).await.map_err(|e| e.to_string())?;
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
