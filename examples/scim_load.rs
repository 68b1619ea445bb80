//! Load generator for SCIM provisioning, driven by `scripts/load-scim`: an
//! initial sync as an IdP runs it (issue 15's benchmark).
//!
//! `scim_load BASE_URL TOKEN USERS GROUPS MEMBERS CONCURRENCY [PHASES]`
//! (PHASES `sync`, `lists` or the default `sync,lists`; `lists` alone
//! measures a server already synced to USERS learners and GROUPS groups):
//! 1. users: for each of USERS learners, the lookup an IdP makes first
//!    (`GET /Users?filter=userName eq "..."`) and then `POST /Users`, with
//!    CONCURRENCY learners in flight;
//! 2. groups: GROUPS groups posted with MEMBERS members each;
//! 3. lists at the size reached: pages, the lookups IdPs make, and filters
//!    no index answers, each kind reported on its own.
//!
//! Prints, per phase, the rate, the latency percentiles and the status counts.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// One phase's measurements.
#[derive(Default)]
struct Tally {
    latencies: Vec<Duration>,
    statuses: BTreeMap<u16, usize>,
}

impl Tally {
    fn record(&mut self, started: Instant, status: u16) {
        self.latencies.push(started.elapsed());
        *self.statuses.entry(status).or_default() += 1;
    }

    fn report(&mut self, phase: &str, items: usize, what: &str, wall: Duration) {
        self.latencies.sort();
        let at = |q: f64| {
            let i = ((self.latencies.len() as f64 - 1.0) * q).round() as usize;
            self.latencies.get(i).copied().unwrap_or_default()
        };
        println!(
            "{phase}: {items} {what} in {:.1} s = {:.0} {what}/s, {} requests = {:.0}/s; \
             latency p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; statuses {:?}",
            wall.as_secs_f64(),
            items as f64 / wall.as_secs_f64(),
            self.latencies.len(),
            self.latencies.len() as f64 / wall.as_secs_f64(),
            at(0.5).as_secs_f64() * 1e3,
            at(0.99).as_secs_f64() * 1e3,
            at(1.0).as_secs_f64() * 1e3,
            self.statuses,
        );
    }
}

struct Target {
    client: awc::Client,
    base: String,
    token: String,
}

impl Target {
    async fn send(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let method = awc::http::Method::from_bytes(method.as_bytes()).expect("method");
        let request = self
            .client
            .request(method, format!("{}/scim/v2{path}", self.base))
            .insert_header(("Authorization", format!("Bearer {}", self.token)))
            .insert_header(("Content-Type", "application/scim+json"));
        let mut response = match body {
            Some(body) => request.send_body(body.to_string()).await,
            None => request.send().await,
        }
        .expect("the server answers");
        let status = response.status().as_u16();
        let bytes = response.body().limit(64 << 20).await.expect("body");
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }
}

fn user(i: usize) -> Value {
    let login = format!("learner{i}@load.example");
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": login,
        "externalId": format!("ext-{i}"),
        "name": {"givenName": "Learner", "familyName": format!("{i}")},
        "emails": [{"value": login, "type": "work", "primary": true}],
        "active": true,
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": format!("D{}", i % 50)},
    })
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (phases, args) = match args.as_slice() {
        [rest @ .., phases] if rest.len() == 6 => (phases.as_str(), rest),
        all => ("sync,lists", all),
    };
    let [base, token, users, groups, members, concurrency] = args else {
        eprintln!(
            "usage: scim_load BASE_URL TOKEN USERS GROUPS MEMBERS CONCURRENCY [sync|lists|sync,lists]"
        );
        std::process::exit(2);
    };
    let (sync, lists) = (phases.contains("sync"), phases.contains("lists"));
    let number = |text: &str| text.parse::<usize>().expect("a whole number");
    let (users, groups, members, concurrency) = (
        number(users),
        number(groups),
        number(members),
        number(concurrency),
    );
    actix_rt::System::new().block_on(async move {
        let target = Rc::new(Target {
            client: awc::Client::builder()
                .timeout(Duration::from_secs(120))
                .finish(),
            base: base.clone(),
            token: token.clone(),
        });
        if sync {
            initial_sync(&target, users, groups, members, concurrency).await;
        }
        if lists {
            list_requests(&target, users, groups).await;
        }
    });
}

/// Runs `job(i)` for each `i` below `items`, `concurrency` at a time, each
/// worker taking the next number when it is done with one.
async fn in_flight<F, Job>(items: usize, concurrency: usize, job: F)
where
    F: Fn(usize) -> Job + Clone + 'static,
    Job: std::future::Future<Output = ()> + 'static,
{
    let next = Rc::new(RefCell::new(0usize));
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let (next, job) = (next.clone(), job.clone());
            actix_rt::spawn(async move {
                loop {
                    let i = {
                        let mut next = next.borrow_mut();
                        *next += 1;
                        *next - 1
                    };
                    if i >= items {
                        break;
                    }
                    job(i).await;
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.expect("worker");
    }
}

/// Phases 1 and 2: the learners, then the groups.
async fn initial_sync(
    target: &Rc<Target>,
    users: usize,
    groups: usize,
    members: usize,
    concurrency: usize,
) {
    // 1. Users: lookup, then create, CONCURRENCY at a time.
    let ids = Rc::new(RefCell::new(Vec::with_capacity(users)));
    let tally = Rc::new(RefCell::new(Tally::default()));
    let started = Instant::now();
    in_flight(users, concurrency, {
        let (target, tally, ids) = (target.clone(), tally.clone(), ids.clone());
        move |i| {
            let (target, tally, ids) = (target.clone(), tally.clone(), ids.clone());
            async move {
                let filter =
                    format!("/Users?filter=userName%20eq%20%22learner{i}%40load.example%22");
                let t = Instant::now();
                let (status, _) = target.send("GET", &filter, None).await;
                tally.borrow_mut().record(t, status);
                let t = Instant::now();
                let (status, body) = target.send("POST", "/Users", Some(user(i))).await;
                tally.borrow_mut().record(t, status);
                if let Some(id) = body["id"].as_str() {
                    ids.borrow_mut().push(id.to_owned());
                }
            }
        }
    })
    .await;
    tally
        .borrow_mut()
        .report("users", users, "users", started.elapsed());

    // 2. Groups with their members.
    let ids: Rc<Vec<String>> = Rc::new(ids.borrow().clone());
    if ids.is_empty() {
        return;
    }
    let tally = Rc::new(RefCell::new(Tally::default()));
    let started = Instant::now();
    in_flight(groups, concurrency, {
        let (target, tally) = (target.clone(), tally.clone());
        move |g| {
            let (target, tally, ids) = (target.clone(), tally.clone(), ids.clone());
            async move {
                let list: Vec<Value> = (0..members)
                    .map(|m| json!({"value": ids[(g * members + m) % ids.len()]}))
                    .collect();
                let body = json!({"displayName": format!("Group {g}"), "members": list});
                let t = Instant::now();
                let (status, _) = target.send("POST", "/Groups", Some(body)).await;
                tally.borrow_mut().record(t, status);
            }
        }
    })
    .await;
    tally
        .borrow_mut()
        .report("groups", groups, "groups", started.elapsed());
}

/// Phase 3.
async fn list_requests(target: &Target, users: usize, groups: usize) {
    // 3. Lists at the size reached, one at a time: what IdPs send (the
    // paging Okta tests its connection with, the lookups before a
    // create), and filters no index answers (every learner's row is read).
    let users = users.max(1);
    let spread = |k: usize| (k * 7919) % users;
    let filtered = |filter: &str| format!("/Users?filter={}", encode(filter));
    let kinds: Vec<(&str, Vec<String>)> = vec![
        (
            "first page (count=100)",
            vec!["/Users?startIndex=1&count=100".into(); 10],
        ),
        (
            "page deep in the list",
            (0..10)
                .map(|k| {
                    format!(
                        "/Users?startIndex={}&count=100",
                        users.saturating_sub(99 + k * 1000).max(1)
                    )
                })
                .collect(),
        ),
        (
            "Okta connection test (count=2)",
            vec!["/Users?startIndex=1&count=2".into(); 10],
        ),
        (
            "userName eq",
            (0..20)
                .map(|k| {
                    filtered(&format!(
                        "userName eq \"learner{}@load.example\"",
                        spread(k)
                    ))
                })
                .collect(),
        ),
        (
            "externalId eq",
            (0..20)
                .map(|k| filtered(&format!("externalId eq \"ext-{}\"", spread(k))))
                .collect(),
        ),
        (
            "Entra email lookup (emails[type eq \"work\"].value eq)",
            (0..10)
                .map(|k| {
                    filtered(&format!(
                        "emails[type eq \"work\"].value eq \"learner{}@load.example\"",
                        spread(k)
                    ))
                })
                .collect(),
        ),
        (
            "userName sw (count=100)",
            (0..10)
                .map(|k| {
                    format!(
                        "{}&count=100",
                        filtered(&format!("userName sw \"learner{}\"", k + 1))
                    )
                })
                .collect(),
        ),
        ("active eq false", vec![filtered("active eq false"); 5]),
        (
            "name.familyName eq",
            (0..5)
                .map(|k| filtered(&format!("name.familyName eq \"{}\"", spread(k))))
                .collect(),
        ),
        (
            "department eq (enterprise, count=100)",
            (0..5)
                .map(|k| {
                    format!(
                        "{}&count=100",
                        filtered(&format!(
                            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq \"d{k}\""
                        ))
                    )
                })
                .collect(),
        ),
        (
            "displayName co (count=100)",
            (0..5)
                .map(|k| format!("{}&count=100", filtered(&format!("displayName co \"{k}7\""))))
                .collect(),
        ),
        (
            "meta.lastModified gt (count=100)",
            vec![format!("{}&count=100", filtered("meta.lastModified gt \"2000-01-01T00:00:00Z\"")); 5],
        ),
        (
            "Groups page, excludedAttributes=members",
            vec!["/Groups?startIndex=1&count=100&excludedAttributes=members".into(); 10],
        ),
        (
            "Groups displayName eq",
            (0..10)
                .map(|k| {
                    format!(
                        "/Groups?filter={}",
                        encode(&format!("displayName eq \"Group {}\"", k % groups.max(1)))
                    )
                })
                .collect(),
        ),
    ];
    for (phase, paths) in kinds {
        let mut tally = Tally::default();
        let started = Instant::now();
        for path in &paths {
            let t = Instant::now();
            let (status, _) = target.send("GET", path, None).await;
            tally.record(t, status);
        }
        tally.report(phase, paths.len(), "requests", started.elapsed());
    }
}

/// A filter as a query parameter value.
fn encode(filter: &str) -> String {
    filter
        .chars()
        .map(|c| match c {
            ' ' => "%20".to_owned(),
            '"' => "%22".to_owned(),
            '@' => "%40".to_owned(),
            '[' => "%5B".to_owned(),
            ']' => "%5D".to_owned(),
            c => c.to_string(),
        })
        .collect()
}
