//! The one integration-test binary (one link step instead of one per file).
//! Every storage test runs on SQLite and on PostgreSQL.

mod common;

mod admin_signin;
mod browser;
mod cli;
mod console;
mod console_browser;
mod drop_folder;
mod health;
mod hostile_input;
mod idp_cli;
mod imports;
mod imports_browser;
mod invitations;
mod jobs;
mod licensing;
mod licensing_props;
mod linkedin_sign_in;
mod metadata_corpus;
mod metadata_url;
mod metrics;
mod oidc_browser;
mod oidc_provider;
mod profile;
mod profile_browser;
mod rate_limits;
mod scim;
mod scim_concurrency;
mod scim_conformance;
mod scim_filter_sql;
mod scim_groups;
mod shutdown;
mod sp_key_rotation;
mod sso;
mod sso_attacks;
mod sso_console_browser;
mod start;
mod storage;
mod webhooks;
