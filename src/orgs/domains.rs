//! The email domains of an organization's learners: how the start page finds
//! "ann@acme.example"'s company. Set by the operator only (an organization's
//! admin could otherwise claim a domain that is not theirs, and with it the
//! start page's answer for its people); shown in the console.

use std::fmt;
use std::str::FromStr;

use serde_json::json;

use super::{Error, Organization, queries};
use crate::audit::{self, Action, Actor};
use crate::clock::Clock;
use crate::store::{self, DbConn};

/// A DNS domain name, lower-cased: ASCII labels of letters, digits and
/// hyphens (internationalised names in their `xn--` form), at least two.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct EmailDomain(String);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{0:?} is not a domain name such as example.com")]
pub struct InvalidDomain(pub String);

impl FromStr for EmailDomain {
    type Err = InvalidDomain;

    fn from_str(text: &str) -> Result<Self, InvalidDomain> {
        let domain = text.trim().trim_end_matches('.').to_ascii_lowercase();
        let label_ok = |label: &str| {
            (1..=63).contains(&label.len())
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        };
        let labels: Vec<&str> = domain.split('.').collect();
        if domain.len() <= 253 && labels.len() >= 2 && labels.iter().all(|l| label_ok(l)) {
            Ok(Self(domain))
        } else {
            Err(InvalidDomain(text.to_owned()))
        }
    }
}

impl EmailDomain {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EmailDomain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Reads a comma-separated list (`example.com,example.co.uk`), empty for
/// none; duplicates are dropped.
pub fn parse_list(text: &str) -> Result<Vec<EmailDomain>, InvalidDomain> {
    let mut domains = text
        .split(',')
        .filter(|part| !part.trim().is_empty())
        .map(str::parse)
        .collect::<Result<Vec<EmailDomain>, _>>()?;
    domains.sort();
    domains.dedup();
    Ok(domains)
}

/// The organization's email domains, sorted.
pub fn email_domains(
    conn: &mut DbConn,
    org: &Organization,
) -> Result<Vec<EmailDomain>, store::Error> {
    queries::email_domains(conn, org.id)
}

/// Replaces the organization's email domains and records the change. A
/// domain another organization holds refuses the whole change.
pub fn set_email_domains(
    conn: &mut DbConn,
    clock: &Clock,
    actor: &Actor,
    org: &Organization,
    domains: &[EmailDomain],
) -> Result<(), Error> {
    store::write_transaction(conn, |conn| {
        let before = queries::email_domains(conn, org.id)?;
        for domain in domains {
            if let Some(owner) = queries::by_email_domain(conn, domain)?
                && owner.id != org.id
            {
                return Err(Error::DomainTaken {
                    domain: domain.to_string(),
                    owner: owner.slug.to_string(),
                });
            }
        }
        // The unique key still decides a race with another change.
        queries::set_email_domains(conn, org.id, domains).map_err(|e| match e {
            store::Error::Duplicate => Error::DomainTaken {
                domain: listed(domains),
                owner: "another organization".into(),
            },
            other => other.into(),
        })?;
        let names = |list: &[EmailDomain]| list.iter().map(ToString::to_string).collect::<Vec<_>>();
        audit::record(
            conn,
            clock,
            audit::NewEvent::new(Some(org.id), actor, Action::OrgSettingsChanged)
                .target(org.slug.as_str())
                .details(json!({
                    "email_domains": names(domains),
                    "email_domains_before": names(&before),
                })),
        )?;
        Ok(())
    })
}

/// The domains as one line: `a.example, b.example`.
pub fn listed(domains: &[EmailDomain]) -> String {
    domains
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The organization whose learners have email addresses at `domain`.
pub fn by_email_domain(
    conn: &mut DbConn,
    domain: &EmailDomain,
) -> Result<Option<Organization>, store::Error> {
    queries::by_email_domain(conn, domain)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_are_lower_cased_and_checked() {
        assert_eq!(
            "Example.CO.uk.".parse::<EmailDomain>().unwrap().as_str(),
            "example.co.uk"
        );
        assert!("xn--bcher-kva.example".parse::<EmailDomain>().is_ok());
        for bad in [
            "",
            "localhost",
            "-a.example",
            "a-.example",
            "a..example",
            "ann@acme.example",
            "acme example.com",
            "bücher.example",
            "a_b.example",
        ] {
            assert!(bad.parse::<EmailDomain>().is_err(), "{bad:?}");
        }
        assert!(
            format!("{}.example", "a".repeat(64))
                .parse::<EmailDomain>()
                .is_err()
        );
    }

    #[test]
    fn lists_drop_blanks_and_duplicates() {
        let list = parse_list(" b.example, a.example ,,A.example").unwrap();
        assert_eq!(
            list.iter().map(EmailDomain::as_str).collect::<Vec<_>>(),
            ["a.example", "b.example"]
        );
        assert!(parse_list("").unwrap().is_empty());
        assert_eq!(
            parse_list("a.example,nope").unwrap_err(),
            InvalidDomain("nope".into())
        );
    }
}
