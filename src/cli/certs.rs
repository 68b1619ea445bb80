//! `seatgate certs ...`: the service provider's keys and certificates.

use chrono::TimeDelta;
use clap::Subcommand;

use crate::clock::Clock;
use crate::config::Settings;
use crate::oidc::keys::OidcKeys;
use crate::saml::keys::{KeyPair, SpKeys};
use crate::saml::metadata::Certificate;

#[derive(Subcommand)]
pub(super) enum CertsCommand {
    /// Make a new SP key pair, published in the metadata at once and signing
    /// after the overlap (running servers follow without a restart); the old
    /// certificate stays published until it expires
    Rotate {
        /// Days the new certificate is announced before it signs, so IdPs
        /// that fetch our metadata learn it first; 0 signs at once
        #[arg(long, value_name = "DAYS", default_value_t = 7)]
        overlap_days: u32,
    },
    /// Make new ID token signing keys (RS256, ES256) for applications; the
    /// old keys stay published in /oauth/jwks until the next rotation
    RotateOidc,
}

pub(super) fn run(command: CertsCommand, settings: &Settings, clock: &Clock) -> anyhow::Result<()> {
    let overlap_days = match command {
        CertsCommand::RotateOidc => {
            let keys = OidcKeys::rotate(&settings.certs_dir)?;
            println!(
                "new ID token keys {} and {}",
                keys.current.rs256.kid(),
                keys.current.es256.kid()
            );
            println!(
                "restart Seatgate: it then signs with the new keys and publishes both in /oauth/jwks"
            );
            return Ok(());
        }
        CertsCommand::Rotate { overlap_days } => overlap_days,
    };
    let keys = SpKeys::rotate(
        &settings.certs_dir,
        clock.now(),
        TimeDelta::days(overlap_days.into()),
    )?;
    let fingerprint = |pair: &KeyPair| {
        Certificate::from_der(pair.cert_der())
            .map(|c| c.fingerprint)
            .unwrap_or_default()
    };
    match &keys.next {
        Some((next, at)) => {
            println!(
                "new SP certificate {} is published in the metadata now; Seatgate signs with it from {}",
                fingerprint(next),
                at.to_rfc3339()
            );
            println!(
                "running servers follow within a minute, no restart needed; IdPs that read our metadata URL pick it up, the others need it added before then"
            );
        }
        None => {
            println!(
                "new SP certificate {} signs now",
                fingerprint(&keys.current)
            );
            println!(
                "running servers follow within a minute; update the certificate at each IdP that verifies AuthnRequests or encrypts"
            );
        }
    }
    if let Some(previous) = &keys.previous {
        println!(
            "previous certificate {} stays published until it expires",
            fingerprint(previous)
        );
    }
    Ok(())
}
