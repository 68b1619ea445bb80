//! Sending webhook deliveries: each process claims due deliveries one by
//! one (a claim lasts longer than one attempt can take), posts them, and
//! records the outcome. A process that dies mid-delivery leaves a claim that
//! expires, and another process (or itself, restarted) sends it again: at
//! least once, never by two processes at the same time. Receivers recognise
//! a repeat by the event's `id`.

use std::time::Duration;

use chrono::{NaiveDateTime, TimeDelta};
use openssl::hash::MessageDigest;
use openssl::pkey::PKey;
use openssl::sign::Signer;

use super::queries::{self, Claimed};
use crate::clock::Clock;
use crate::store::{self, Store};

/// How often each process looks for due deliveries.
const POLL: Duration = Duration::from_secs(2);
/// How many deliveries one look claims.
const BATCH: i64 = 20;
/// How long one attempt may take.
const TIMEOUT: Duration = Duration::from_secs(10);
/// How long a claim holds: longer than an attempt, so a live process never
/// loses its claim mid-attempt, short enough that a dead one's is soon free.
const CLAIM: TimeDelta = TimeDelta::seconds(30);
/// Attempts before a delivery is given up: with the backoff below, about
/// three and a half hours of retries.
pub const MAX_ATTEMPTS: i32 = 12;

/// The wait after the `attempts`-th failure: 10 s doubling, at most an hour.
pub fn backoff(attempts: i32) -> TimeDelta {
    let exponent = u32::try_from(attempts.clamp(1, 20) - 1).unwrap_or(0);
    TimeDelta::seconds((10_i64 << exponent).min(3600))
}

/// `Seatgate-Signature`'s value: `t=<unix seconds>,v1=<hex HMAC-SHA256 of
/// "<t>.<body>" keyed with the webhook secret>` (docs/applications.md).
pub fn signature(secret: &str, timestamp: i64, body: &str) -> String {
    let key = PKey::hmac(secret.as_bytes()).expect("any bytes make an HMAC key");
    let mut signer = Signer::new(MessageDigest::sha256(), &key).expect("HMAC-SHA256 is available");
    let signed = format!("{timestamp}.{body}");
    signer.update(signed.as_bytes()).expect("HMAC update");
    let mac = signer.sign_to_vec().expect("HMAC sign");
    format!("t={timestamp},v1={}", hex::encode(mac))
}

/// What one look did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Round {
    pub delivered: usize,
    pub failed: usize,
}

/// Claims the due deliveries and sends them, one after the other.
pub async fn deliver_due(store: &Store, clock: &Clock) -> Result<Round, store::Error> {
    let now = clock.now_naive();
    let claimed = store
        .run(move |conn| {
            let mut claimed = Vec::new();
            for id in queries::due(conn, now, BATCH)? {
                if let Some(delivery) = queries::claim(conn, &id, now, now + CLAIM)? {
                    claimed.push(delivery);
                }
            }
            Ok::<_, store::Error>(claimed)
        })
        .await?;
    let mut round = Round::default();
    for delivery in claimed {
        let outcome = send(&delivery, clock.now().timestamp()).await;
        crate::metrics::get().webhook_delivery(outcome.is_ok());
        let now = clock.now_naive();
        let id = delivery.id.clone();
        match outcome {
            Ok(status) => {
                round.delivered += 1;
                store
                    .run(move |conn| queries::delivered(conn, &id, now, status))
                    .await?;
            }
            Err((status, error)) => {
                round.failed += 1;
                let retry_at = retry_at(delivery.attempts, now);
                tracing::warn!(
                    delivery = %delivery.id,
                    event = %delivery.event_type,
                    attempt = delivery.attempts,
                    reason = %error,
                    gives_up = retry_at.is_none(),
                    "webhook delivery failed"
                );
                store
                    .run(move |conn| {
                        queries::attempt_failed(conn, &id, now, status, &error, retry_at)
                    })
                    .await?;
            }
        }
    }
    Ok(round)
}

fn retry_at(attempts: i32, now: NaiveDateTime) -> Option<NaiveDateTime> {
    (attempts < MAX_ATTEMPTS).then(|| now + backoff(attempts))
}

/// Posts one delivery; a 2xx answer delivers it.
async fn send(delivery: &Claimed, timestamp: i64) -> Result<i32, (Option<i32>, String)> {
    let client = awc::Client::builder()
        .timeout(TIMEOUT)
        .disable_redirects()
        .finish();
    let answer = client
        .post(&delivery.url)
        .insert_header(("Content-Type", "application/json"))
        .insert_header(("User-Agent", "Seatgate-Webhooks"))
        .insert_header(("Seatgate-Delivery", delivery.id.as_str()))
        .insert_header(("Seatgate-Event", delivery.event_type.as_str()))
        .insert_header((
            "Seatgate-Signature",
            signature(delivery.secret.expose(), timestamp, &delivery.payload),
        ))
        .send_body(delivery.payload.clone())
        .await;
    match answer {
        Ok(response) => {
            let status = i32::from(response.status().as_u16());
            if response.status().is_success() {
                Ok(status)
            } else {
                Err((Some(status), format!("the endpoint answered HTTP {status}")))
            }
        }
        Err(e) => Err((None, format!("the endpoint could not be reached: {e}"))),
    }
}

/// Sends due deliveries every two seconds, beside the server.
pub fn spawn(store: Store, clock: Clock) {
    actix_web::rt::spawn(async move {
        let mut interval = actix_web::rt::time::interval(POLL);
        loop {
            interval.tick().await;
            if let Err(e) = deliver_due(&store, &clock).await {
                tracing::warn!(reason = %e, "webhook deliveries could not be read");
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_ten_seconds_to_an_hour() {
        assert_eq!(backoff(1), TimeDelta::seconds(10));
        assert_eq!(backoff(2), TimeDelta::seconds(20));
        assert_eq!(backoff(9), TimeDelta::seconds(2560));
        assert_eq!(backoff(10), TimeDelta::seconds(3600));
        assert_eq!(backoff(MAX_ATTEMPTS), TimeDelta::seconds(3600));
    }

    #[test]
    fn the_signature_is_hmac_sha256_of_timestamp_dot_body() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        let signed = signature("Jefe", 0, "what do ya want for nothing?");
        let mac = PKey::hmac(b"Jefe").unwrap();
        let mut signer = Signer::new(MessageDigest::sha256(), &mac).unwrap();
        signer.update(b"0.what do ya want for nothing?").unwrap();
        assert_eq!(
            signed,
            format!("t=0,v1={}", hex::encode(signer.sign_to_vec().unwrap()))
        );
        assert_ne!(
            signature("Jefe", 1, "x"),
            signature("Jefe", 2, "x"),
            "the timestamp is signed"
        );
    }
}
