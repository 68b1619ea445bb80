//! Property test of SCIM user filters in SQL (`scim::user_filter`): where a
//! filter becomes a database condition, the learners the database returns
//! are exactly those whose resource the filter matches in memory, on both
//! databases. Learners and values carry the characters where lower-casing
//! differs between Rust, SQLite and PostgreSQL (`İ`, the Kelvin sign,
//! final sigma, `ß`), and LIKE's wildcards; attributes cover every column,
//! instant and constant the translation knows and a few it leaves to memory.

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRunner};
use seatgate::accounts::learners::{self, Learner, ScimProfile};
use seatgate::audit::Actor;
use seatgate::clock::Clock;
use seatgate::config::BaseUrl;
use seatgate::scim::filter::Filter;
use seatgate::scim::{self, NewConfig, user_filter, users};

use crate::common::{Backend, store_with_acme};
use crate::on_both_databases;

/// Pieces of values, stored and filtered for.
const PIECES: &[&str] = &[
    "a", "A", "b", "ann", "Ann", "é", "É", "İ", "i", "\u{212A}", "k", "Σ", "σ", "ς", "ß", "%", "_",
    "@", "-", " ", "1",
];

fn text(max: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(proptest::sample::select(PIECES), 0..max).prop_map(|p| p.concat())
}

const ATTRIBUTES: &[&str] = &[
    "userName",
    "USERNAME",
    "externalId",
    "id",
    "active",
    "emails",
    "emails.value",
    "emails.type",
    "Emails.Primary",
    "urn:ietf:params:scim:schemas:core:2.0:User:userName",
    "urn:ietf:params:scim:schemas:core:2.0:User:externalId",
    "displayName",
    "name.givenName",
    "NAME.FAMILYNAME",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
    "meta.created",
    "meta.lastModified",
    "meta.version",
    // Constants: the same on every learner's resource.
    "meta.resourceType",
    "name",
    "name.formatted",
    "title",
    "userName.sub",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:costCenter",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.displayName",
    "urn:example:params:scim:schemas:extension:acme:1.0:User:badge",
    // Not translated: these stay in memory, and so must their combinations.
    "schemas",
    "meta.location",
];

const OPERATORS: &[&str] = &["eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le", "EQ"];

/// A value to compare with: often one the learners hold (whole, a prefix or
/// a suffix, in another case), so that equality and the order's edges are
/// reached, not only misses.
fn value(stored: &[String]) -> impl Strategy<Value = String> + use<> {
    let stored = proptest::sample::select(stored.to_vec());
    let quoted = |t: String| serde_json::to_string(&t).unwrap();
    prop_oneof![
        3 => text(4).prop_map(quoted),
        2 => stored.clone().prop_map(quoted),
        1 => stored.clone().prop_map(move |t| quoted(t.to_uppercase())),
        1 => (stored.clone(), 0..6usize)
            .prop_map(move |(t, n)| quoted(t.chars().take(n).collect())),
        1 => (stored, 0..6usize).prop_map(move |(t, n)| {
            let skip = t.chars().count().saturating_sub(n);
            quoted(t.chars().skip(skip).collect())
        }),
        1 => Just("true".to_owned()),
        1 => Just("false".to_owned()),
        1 => Just("null".to_owned()),
        1 => Just("7".to_owned()),
        1 => Just("\"work\"".to_owned()),
    ]
}

/// The texts the learners' resources hold: all of them, and those at each
/// of [`ATTRIBUTES`], so that a comparison often meets its own attribute's
/// values (an instant compared with an instant).
#[derive(Clone)]
struct Stored {
    all: Vec<String>,
    at: std::collections::HashMap<&'static str, Vec<String>>,
}

impl Stored {
    fn of(resources: &[serde_json::Value]) -> Self {
        let mut all = Vec::new();
        for resource in resources {
            texts(resource, &mut all);
        }
        let at = ATTRIBUTES
            .iter()
            .map(|&a| {
                let mut found = Vec::new();
                for resource in resources {
                    for value in at(resource, a) {
                        texts(value, &mut found);
                    }
                }
                (a, found)
            })
            .collect();
        Self { all, at }
    }

    fn values(&self, attribute: &str) -> &[String] {
        match self.at.get(attribute) {
            Some(values) if !values.is_empty() => values,
            _ => &self.all,
        }
    }
}

/// Every text in `value`.
fn texts(value: &serde_json::Value, into: &mut Vec<String>) {
    match value {
        serde_json::Value::String(s) => into.push(s.clone()),
        serde_json::Value::Array(items) => items.iter().for_each(|v| texts(v, into)),
        serde_json::Value::Object(map) => map.values().for_each(|v| texts(v, into)),
        _ => {}
    }
}

/// What the resource holds at `[urn ":"] name ["." sub]`, names in any case
/// (roughly; only to draw values from).
fn at<'a>(resource: &'a serde_json::Value, path: &str) -> Vec<&'a serde_json::Value> {
    let member = |v: &'a serde_json::Value, name: &str| {
        v.as_object()?
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    };
    let (container, rest) = match path.rsplit_once(':') {
        Some((urn, rest)) => (member(resource, urn), rest),
        None => (Some(resource), path),
    };
    let (name, sub) = match rest.split_once('.') {
        Some((name, sub)) => (name, Some(sub)),
        None => (rest, None),
    };
    let Some(found) = container.and_then(|c| member(c, name)) else {
        return Vec::new();
    };
    let elements: Vec<_> = match found {
        serde_json::Value::Array(items) => items.iter().collect(),
        other => vec![other],
    };
    elements
        .into_iter()
        .filter_map(|e| match sub {
            Some(sub) => member(e, sub),
            None => Some(e),
        })
        .collect()
}

fn leaf(stored: &Stored) -> impl Strategy<Value = String> + use<> {
    let own = stored.clone();
    let stored = &stored.all;
    prop_oneof![
        6 => proptest::sample::select(ATTRIBUTES)
            .prop_flat_map(move |a| (
                Just(a),
                proptest::sample::select(OPERATORS),
                value(own.values(a))
            ))
            .prop_map(|(a, o, v)| format!("{a} {o} {v}")),
        1 => proptest::sample::select(ATTRIBUTES).prop_map(|a| format!("{a} pr")),
        1 => (
            proptest::sample::select(&["value", "type", "primary", "display"][..]),
            proptest::sample::select(OPERATORS),
            value(stored)
        )
            .prop_map(|(a, o, v)| format!("emails[{a} {o} {v}]")),
        // Entra's lookup form, a sub-attribute after the brackets.
        1 => (proptest::sample::select(OPERATORS), value(stored))
            .prop_map(|(o, v)| format!("emails[type eq \"work\"].value {o} {v}")),
    ]
}

fn filter(stored: &Stored) -> impl Strategy<Value = String> + use<> {
    leaf(stored).prop_recursive(3, 8, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a}) and ({b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a}) or ({b})")),
            inner.prop_map(|a| format!("not ({a})")),
        ]
    })
}

fn check(backend: Backend) {
    let (_db, store, org) = store_with_acme(backend);
    let clock = Clock::system();
    let base_url = BaseUrl::parse("https://sso.example").expect("base url");
    let mut conn = store.connection().expect("connection");
    let new = |name: &str| NewConfig {
        name: name.to_owned(),
        auto_assign: false,
        license_type: None,
    };
    let (config, _) = scim::create(&mut conn, &clock, &Actor::Cli, &org, new("Entra")).unwrap();
    let (other, _) = scim::create(&mut conn, &clock, &Actor::Cli, &org, new("Okta")).unwrap();

    // Forty learners of every kind the visibility rule and the columns
    // distinguish, with random values (a suffix no piece holds keeps them unique).
    let mut runner = TestRunner::new(Config::default());
    let profile = (
        text(5),
        proptest::option::of(text(5)),
        proptest::option::of(text(4)),
    );
    let names = (
        text(4),
        proptest::option::of(text(4)),
        proptest::option::of(text(4)),
        proptest::option::of(text(3)),
        proptest::option::of(text(3)),
        proptest::option::of(text(3)),
    );
    for i in 0..40 {
        let (local, user_name, external_id) = profile.new_tree(&mut runner).unwrap().current();
        // Whatever of the random local part an email address may hold.
        let local = local.replace(['@', ' '], "");
        let email = format!("{local}+{i}@acme.example")
            .parse()
            .or_else(|_| format!("l{i}@acme.example").parse())
            .unwrap();
        // Instants apart by more than a second, fractions the resource drops.
        let created = clock.now_naive() - chrono::Duration::milliseconds(3_700 * i64::from(i));
        let (display, first, last, department, number, manager) =
            names.new_tree(&mut runner).unwrap().current();
        let mut learner = Learner::new(org.id, email, format!("{display}{i}"), created);
        learner.updated_at = created + chrono::Duration::milliseconds(1_500 * i64::from(i % 3));
        learner.first_name = first;
        learner.last_name = last;
        learner.department = department;
        learner.employee_id = number;
        learner.active = i % 4 != 0;
        let managed_by = match i % 5 {
            0 | 1 => None,
            4 => Some(other.id),
            _ => Some(config.id),
        };
        learner.scim = ScimProfile {
            managed_by,
            user_name: managed_by.and(user_name).map(|n| format!("{n}#{i}")),
            external_id: managed_by.and(external_id).map(|e| format!("{e}#{i}")),
            manager_id: manager,
        };
        learners::insert(&mut conn, &learner).expect("learner");
        // Versions beyond the first.
        for _ in 0..i % 3 {
            learners::save(&mut conn, &learner).expect("save");
        }
    }
    let (everyone, _) =
        learners::scim_page(&mut conn, org.id, config.id, None, 0, 1_000).expect("page");

    let resources: Vec<_> = everyone
        .iter()
        .map(|l| users::resource(l, &base_url))
        .collect();
    let stored = Stored::of(&resources);
    let translated = std::cell::Cell::new(0usize);
    let mut runner = TestRunner::new(Config {
        cases: 1_000,
        ..Config::default()
    });
    runner
        .run(&filter(&stored), |text| {
            let Ok(filter) = text.parse::<Filter>() else {
                return Ok(());
            };
            let Some(condition) = user_filter::condition(&filter) else {
                return Ok(());
            };
            translated.set(translated.get() + 1);
            let mut conn = store.connection().expect("connection");
            let (in_sql, total) =
                learners::scim_page(&mut conn, org.id, config.id, Some(&condition), 0, 1_000)
                    .expect("query");
            let ids = |learners: &[Learner]| learners.iter().map(|l| l.id).collect::<Vec<_>>();
            let in_memory: Vec<Learner> = everyone
                .iter()
                .filter(|l| filter.matches(&users::resource(l, &base_url)))
                .cloned()
                .collect();
            prop_assert_eq!(
                ids(&in_sql),
                ids(&in_memory),
                "filter {} as {:?}",
                text,
                condition
            );
            prop_assert_eq!(usize::try_from(total).unwrap(), in_memory.len());
            // Pages shorter than the matches: the count is its own query.
            for (offset, limit) in [(0, 2), (1, 2), (39, 2)] {
                let (page, total) = learners::scim_page(
                    &mut conn,
                    org.id,
                    config.id,
                    Some(&condition),
                    offset,
                    limit,
                )
                .expect("query");
                let wanted: Vec<_> = in_memory
                    .iter()
                    .skip(offset as usize)
                    .take(limit as usize)
                    .map(|l| l.id)
                    .collect();
                prop_assert_eq!(ids(&page), wanted, "page {} of {}", offset, text);
                prop_assert_eq!(usize::try_from(total).unwrap(), in_memory.len());
            }
            Ok(())
        })
        .expect("SQL and memory agree");
    // Not vacuous: most generated filters name only columns.
    assert!(
        translated.get() > 400,
        "only {} of 1,000 filters translated",
        translated.get()
    );
}

async fn user_filters_in_sql_match_what_memory_matches(backend: Backend) {
    check(backend);
}

on_both_databases!(user_filters_in_sql_match_what_memory_matches);
