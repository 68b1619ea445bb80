//! Seatgate: a self-hosted SAML service provider with just-in-time accounts and licensing.

pub mod accounts; // learners and administrators, emails, password sign-in
pub mod app; // one start-up: settings to a running server
pub mod applications; // the learning applications behind Seatgate (OpenID Connect clients)
pub mod audit; // audit events: who did what, when
pub mod binding; // LinkedIn profile binding (OpenID Connect) and its policy
pub mod cli; // the command line: clap definitions and dispatch
pub mod clock; // the only place that reads the time
pub mod config; // settings from file, environment and flags
pub mod demo_idp; // the built-in development IdP (demo only)
pub mod groups; // groups of learners, whatever their source, and their license mapping
pub mod ids; // newtype identifiers
pub mod imports; // bulk changes from CSV files: add, license, revoke, remove
pub mod invitations; // learners invited by email, their single-use links
pub mod jobs; // periodic jobs, run by one process at a time
pub mod licensing; // license pools, seats and the seat invariant
pub mod mail; // outgoing email over SMTP
pub mod metrics; // Prometheus metrics: counted where things happen, read at /metrics
pub mod oidc; // Seatgate as an OpenID Connect provider: codes, tokens, claims, keys
pub mod orgs; // organizations and their settings
pub mod outbound; // outgoing HTTP: bounded in time and size, no redirects
pub mod saml; // SAML: metadata, AuthnRequests, response validation (pure)
pub mod scim; // SCIM 2.0 provisioning: IdPs push learners and manage their licenses
pub mod secret; // tokens, token hashes, passwords
pub mod sessions; // server-side sessions
pub mod signin; // the SSO sign-in use case: validate, match, audit, session
pub mod store; // the database (SQLite and PostgreSQL through one diesel code base)
pub mod web; // the actix-web application
pub mod webhooks; // license and learner events for applications: the outbox and its delivery
