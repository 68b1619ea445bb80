//! Load generator for `POST /sso/{org}/acs`, driven by `scripts/load-acs` and `scripts/load-storm`.
//!
//! `acs_load prepare DIR` writes an IdP key pair and its metadata (DIR/idp-metadata.xml).
//! `acs_load run DIR BASE_URL ORG COUNT CONCURRENCY [SERVER...]` pre-mints COUNT
//! distinct signed responses for BASE_URL (one new learner each), posts them with
//! CONCURRENCY requests in flight, round-robin over the SERVERs (default:
//! BASE_URL itself), and prints throughput, latency percentiles and status counts.
//! `acs_load storm ...` (same arguments) also opens each learner's home page after
//! the sign-in and counts the "License:" and "No license" pages.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::{Duration, Instant};

use seatgate::clock::Clock;
use seatgate::config::BaseUrl;
use seatgate::saml::SpEndpoints;
use seatgate::saml::keys::KeyPair;
use seatgate::saml::mint::{self, ResponseSpec};

const IDP: &str = "https://load-idp.example/";

struct Load {
    dir: PathBuf,
    base: String,
    org: String,
    count: usize,
    concurrency: usize,
    servers: Vec<String>,
    storm: bool,
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["prepare", dir] => prepare(PathBuf::from(dir)),
        [
            mode @ ("run" | "storm"),
            dir,
            base,
            org,
            count,
            concurrency,
            servers @ ..,
        ] => run(Load {
            dir: PathBuf::from(dir),
            base: base.to_string(),
            org: org.to_string(),
            count: count.parse().expect("COUNT is a number"),
            concurrency: concurrency.parse().expect("CONCURRENCY is a number"),
            servers: if servers.is_empty() {
                vec![base.to_string()]
            } else {
                servers.iter().map(|s| s.to_string()).collect()
            },
            storm: *mode == "storm",
        }),
        _ => {
            eprintln!(
                "usage: acs_load prepare DIR | acs_load run|storm DIR BASE_URL ORG COUNT CONCURRENCY [SERVER...]"
            );
            std::process::exit(2);
        }
    }
}

fn prepare(dir: PathBuf) {
    let key = KeyPair::load_or_generate(&dir, "load-idp", "Load IdP").expect("IdP key");
    std::fs::write(
        dir.join("idp-metadata.xml"),
        mint::idp_metadata(IDP, "https://load-idp.example/sso", &key),
    )
    .expect("write metadata");
}

/// Which page a learner saw after signing in.
fn classify(body: &[u8]) -> &'static str {
    let has = |needle: &[u8]| body.windows(needle.len()).any(|w| w == needle);
    if has(b"License:") {
        "licensed"
    } else if has(b"No license is available yet") {
        "no license"
    } else {
        "other"
    }
}

fn run(load: Load) {
    let key = KeyPair::load(&load.dir, "load-idp")
        .expect("IdP key")
        .expect("run prepare first");
    let base = BaseUrl::parse(&load.base).expect("base URL");
    let sp = SpEndpoints::for_org(&base, &load.org.parse().expect("slug"));
    let acs_path = sp
        .acs_url
        .strip_prefix(base.as_str())
        .expect("ACS under BASE_URL")
        .to_owned();
    let now = Clock::system().now();
    let minting = Instant::now();
    let bodies: Vec<String> = (0..load.count)
        .map(|i| {
            let email = format!("learner{i}-{}@load.example", now.timestamp());
            let mut spec = ResponseSpec::new(IDP, &sp, &email, now);
            spec.not_on_or_after = now + chrono::TimeDelta::minutes(30);
            spec.attributes = vec![
                ("email".into(), email.clone()),
                ("firstName".into(), "Load".into()),
                ("lastName".into(), format!("Learner {i}")),
            ];
            let encoded = mint::encode(&mint::mint(&spec, &key).expect("mint"));
            serde_urlencoded::to_string([("SAMLResponse", encoded)]).expect("form")
        })
        .collect();
    eprintln!(
        "minted {} responses in {:.1} s",
        load.count,
        minting.elapsed().as_secs_f64()
    );

    let (concurrency, storm) = (load.concurrency, load.storm);
    actix_rt::System::new().block_on(async move {
        let client = Rc::new(
            awc::Client::builder()
                .disable_redirects()
                .timeout(Duration::from_secs(30))
                .connector(awc::Connector::new().limit(concurrency * 2))
                .finish(),
        );
        let queue = Rc::new(RefCell::new(bodies.into_iter().enumerate()));
        let servers = Rc::new(load.servers);
        let results = Rc::new(RefCell::new(Vec::with_capacity(load.count)));
        let pages = Rc::new(RefCell::new(BTreeMap::<&'static str, usize>::new()));
        let started = Instant::now();
        let workers: Vec<_> = (0..concurrency)
            .map(|_| {
                let (client, queue, servers) = (client.clone(), queue.clone(), servers.clone());
                let (results, pages, acs_path) = (results.clone(), pages.clone(), acs_path.clone());
                actix_rt::spawn(async move {
                    loop {
                        let Some((i, body)) = queue.borrow_mut().next() else {
                            break;
                        };
                        let server = &servers[i % servers.len()];
                        let sent = Instant::now();
                        let response = client
                            .post(format!("{server}{acs_path}"))
                            .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
                            .send_body(body)
                            .await;
                        let elapsed = sent.elapsed();
                        let status = response.as_ref().map(|r| r.status().as_u16()).unwrap_or(0);
                        results.borrow_mut().push((status, elapsed));
                        if !(storm && status == 303) {
                            continue;
                        }
                        let cookie = response
                            .ok()
                            .and_then(|r| {
                                r.headers()
                                    .get("set-cookie")?
                                    .to_str()
                                    .ok()
                                    .map(str::to_owned)
                            })
                            .and_then(|c| c.split(';').next().map(str::to_owned))
                            .unwrap_or_default();
                        let page = match client
                            .get(format!("{server}/"))
                            .insert_header(("Cookie", cookie))
                            .send()
                            .await
                        {
                            Ok(mut home) => home.body().await.map_or("other", |b| classify(&b)),
                            Err(_) => "other",
                        };
                        *pages.borrow_mut().entry(page).or_insert(0) += 1;
                    }
                })
            })
            .collect();
        for worker in workers {
            worker.await.expect("worker");
        }
        let elapsed = started.elapsed();
        let results = results.borrow();
        let mut latencies: Vec<Duration> = results.iter().map(|(_, d)| *d).collect();
        latencies.sort();
        let pct = |p: f64| {
            latencies[((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len()) - 1]
        };
        let mut statuses = BTreeMap::new();
        for (status, _) in results.iter() {
            *statuses.entry(*status).or_insert(0usize) += 1;
        }
        let ok = statuses.get(&303).copied().unwrap_or(0);
        println!(
            "requests: {}  in {:.2} s  concurrency {concurrency}",
            results.len(),
            elapsed.as_secs_f64()
        );
        println!(
            "successful sign-ins (303): {ok}  ({:.0}/s)",
            ok as f64 / elapsed.as_secs_f64()
        );
        println!(
            "sign-in latency p50 {:.1} ms  p90 {:.1} ms  p99 {:.1} ms  max {:.1} ms",
            pct(0.50).as_secs_f64() * 1e3,
            pct(0.90).as_secs_f64() * 1e3,
            pct(0.99).as_secs_f64() * 1e3,
            latencies
                .last()
                .expect("at least one request")
                .as_secs_f64()
                * 1e3
        );
        println!("statuses: {statuses:?}");
        if storm {
            println!("home pages: {:?}", pages.borrow());
        }
        if ok != results.len() {
            std::process::exit(1);
        }
    });
}
