//! `seatgate certs ...`: the service provider's keys and certificates.

use clap::Subcommand;

use crate::clock::Clock;
use crate::config::Settings;
use crate::oidc::keys::OidcKeys;
use crate::saml::keys::SpKeys;
use crate::saml::metadata::Certificate;

#[derive(Subcommand)]
pub(super) enum CertsCommand {
    /// Make a new SP key pair; the old certificate stays published until it expires
    Rotate,
    /// Make new ID token signing keys (RS256, ES256) for applications; the
    /// old keys stay published in /oauth/jwks until the next rotation
    RotateOidc,
}

pub(super) fn run(command: CertsCommand, settings: &Settings, clock: &Clock) -> anyhow::Result<()> {
    if let CertsCommand::RotateOidc = command {
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
    let keys = SpKeys::rotate(&settings.certs_dir, clock.now())?;
    let fingerprint = |pair: &crate::saml::keys::KeyPair| {
        Certificate::from_der(pair.cert_der())
            .map(|c| c.fingerprint)
            .unwrap_or_default()
    };
    println!("new SP certificate {}", fingerprint(&keys.current));
    if let Some(previous) = &keys.previous {
        println!(
            "previous certificate {} stays published until it expires",
            fingerprint(previous)
        );
    }
    println!(
        "restart Seatgate, then update the certificate at each IdP that verifies AuthnRequests or encrypts"
    );
    Ok(())
}
