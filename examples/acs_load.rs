//! Load generator for `POST /sso/{org}/acs`, driven by `scripts/load-acs`.
//!
//! `acs_load prepare DIR` writes an IdP key pair and its metadata (DIR/idp-metadata.xml).
//! `acs_load run DIR BASE_URL ORG COUNT CONCURRENCY` pre-mints COUNT distinct signed
//! responses (one new learner each), posts them with CONCURRENCY requests in
//! flight, and prints throughput, latency percentiles and status counts.

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

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["prepare", dir] => prepare(PathBuf::from(dir)),
        ["run", dir, base, org, count, concurrency] => run(
            PathBuf::from(dir),
            base,
            org,
            count.parse().expect("COUNT is a number"),
            concurrency.parse().expect("CONCURRENCY is a number"),
        ),
        _ => {
            eprintln!(
                "usage: acs_load prepare DIR | acs_load run DIR BASE_URL ORG COUNT CONCURRENCY"
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

fn run(dir: PathBuf, base: &str, org: &str, count: usize, concurrency: usize) {
    let key = KeyPair::load(&dir, "load-idp")
        .expect("IdP key")
        .expect("run prepare first");
    let sp = SpEndpoints::for_org(
        &BaseUrl::parse(base).expect("base URL"),
        &org.parse().expect("slug"),
    );
    let now = Clock::system().now();
    let minting = Instant::now();
    let bodies: Vec<String> = (0..count)
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
        "minted {count} responses in {:.1} s",
        minting.elapsed().as_secs_f64()
    );

    let acs = sp.acs_url.clone();
    actix_rt::System::new().block_on(async move {
        let client = Rc::new(
            awc::Client::builder()
                .disable_redirects()
                .timeout(Duration::from_secs(30))
                .connector(awc::Connector::new().limit(concurrency * 2))
                .finish(),
        );
        let queue = Rc::new(std::cell::RefCell::new(bodies.into_iter()));
        let results = Rc::new(std::cell::RefCell::new(Vec::with_capacity(count)));
        let started = Instant::now();
        let workers: Vec<_> = (0..concurrency)
            .map(|_| {
                let (client, queue, results, acs) =
                    (client.clone(), queue.clone(), results.clone(), acs.clone());
                actix_rt::spawn(async move {
                    loop {
                        let Some(body) = queue.borrow_mut().next() else {
                            break;
                        };
                        let sent = Instant::now();
                        let status = client
                            .post(&acs)
                            .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
                            .send_body(body)
                            .await
                            .map(|r| r.status().as_u16())
                            .unwrap_or(0);
                        results.borrow_mut().push((status, sent.elapsed()));
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
            "latency p50 {:.1} ms  p90 {:.1} ms  p99 {:.1} ms  max {:.1} ms",
            pct(0.50).as_secs_f64() * 1e3,
            pct(0.90).as_secs_f64() * 1e3,
            pct(0.99).as_secs_f64() * 1e3,
            latencies.last().unwrap().as_secs_f64() * 1e3
        );
        println!("statuses: {statuses:?}");
        if ok != results.len() {
            std::process::exit(1);
        }
    });
}
