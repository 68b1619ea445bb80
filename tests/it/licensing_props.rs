//! Property test of the seat invariant: random sequences of sign-ins,
//! assignments, revocations, resizes and toggles, on both databases.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use seatgate::accounts::learners::Learner;
use seatgate::audit::Actor;
use seatgate::clock::Clock;
use seatgate::licensing::{self, LicenseCause, LicenseType};
use seatgate::orgs;
use seatgate::store::{self, Store};

use crate::common::{Backend, TestDb};

#[derive(Clone, Debug)]
enum Op {
    SignIn(usize),
    Assign(usize),
    Revoke(usize),
    Resize(u32),
    Toggle(bool),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..8usize).prop_map(Op::SignIn),
        2 => (0..8usize).prop_map(Op::Assign),
        2 => (0..8usize).prop_map(Op::Revoke),
        1 => (0..6u32).prop_map(Op::Resize),
        1 => any::<bool>().prop_map(Op::Toggle),
    ]
}

fn check(backend: Backend) {
    let db = TestDb::fresh(backend);
    let store = Store::connect(&db.url).expect("connect");
    store.migrate().expect("migrate");
    let clock = Clock::system();
    let learning: LicenseType = "Learning".parse().unwrap();
    let case = std::cell::Cell::new(0);
    let mut runner = TestRunner::new(Config {
        cases: 24,
        ..Config::default()
    });
    runner
        .run(&proptest::collection::vec(op(), 1..40), |ops| {
            case.set(case.get() + 1);
            let mut conn = store.connection().expect("connection");
            let org = orgs::create(
                &mut conn,
                &clock,
                &Actor::Cli,
                format!("org{}", case.get()).parse().unwrap(),
                "Org".parse().unwrap(),
            )
            .expect("org");
            licensing::set_pool(&mut conn, &clock, &Actor::Cli, &org, &learning, 3).expect("pool");
            let learners: Vec<Learner> = (0..8)
                .map(|i| {
                    let email = format!("l{i}@org.example").parse().unwrap();
                    let learner = Learner::new(org.id, email, format!("L{i}"), clock.now_naive());
                    seatgate::accounts::learners::insert(&mut conn, &learner).expect("learner");
                    learner
                })
                .collect();
            for op in ops {
                let org = orgs::find(&mut conn, org.slug.as_str()).unwrap();
                let before = licensing::pools(&mut conn, org.id).unwrap().remove(0);
                let mut took_seat = false;
                match op {
                    Op::SignIn(i) => {
                        let had = licensing::license_of(&mut conn, &learners[i])
                            .unwrap()
                            .is_some();
                        let outcome = store::write_transaction(&mut conn, |conn| {
                            licensing::auto_assign(conn, &clock, &org, &learners[i])
                        })
                        .unwrap();
                        took_seat = !had && matches!(outcome, licensing::AutoAssign::Licensed(_));
                    }
                    Op::Assign(i) => {
                        took_seat = licensing::assign(
                            &mut conn,
                            &clock,
                            &Actor::Cli,
                            LicenseCause::Admin,
                            &org,
                            &learners[i],
                            &learning,
                        )
                        .is_ok();
                    }
                    Op::Revoke(i) => {
                        let _ = licensing::revoke(
                            &mut conn,
                            &clock,
                            &Actor::Cli,
                            LicenseCause::Admin,
                            &org,
                            &learners[i],
                            &learning,
                        );
                    }
                    Op::Resize(seats) => {
                        licensing::set_pool(&mut conn, &clock, &Actor::Cli, &org, &learning, seats)
                            .unwrap();
                    }
                    Op::Toggle(on) => {
                        licensing::set_auto_assign(
                            &mut conn,
                            &clock,
                            &Actor::Cli,
                            &org,
                            on,
                            Some(learning.clone()),
                        )
                        .unwrap();
                    }
                }
                let pool = licensing::pools(&mut conn, org.id).unwrap().remove(0);
                let holders = learners
                    .iter()
                    .filter(|l| licensing::license_of(&mut conn, l).unwrap().is_some())
                    .count() as u32;
                prop_assert_eq!(
                    pool.assigned,
                    holders,
                    "the counter matches the active assignments"
                );
                // The waiting list is served whenever a seat frees: a free seat
                // and a learner still waiting for it never stand side by side.
                if pool.assigned < pool.seats {
                    let org = orgs::find(&mut conn, org.slug.as_str()).unwrap();
                    for waiter in licensing::waiting_list(&mut conn, &pool).unwrap() {
                        let standing = licensing::standing(&mut conn, &org, &waiter.learner).unwrap();
                        prop_assert!(
                            !matches!(standing, licensing::Standing::WaitingForSeat(ref p) if p.id == pool.id),
                            "{} waits beside a free seat: {:?}",
                            waiter.learner.email,
                            pool
                        );
                    }
                }
                if took_seat {
                    prop_assert!(
                        holders <= pool.seats,
                        "a new seat never exceeds the pool: {:?}",
                        pool
                    );
                    prop_assert!(
                        before.assigned < before.seats,
                        "a seat was taken from a full pool"
                    );
                } else {
                    prop_assert!(
                        holders <= before.assigned.max(pool.seats),
                        "no seat appeared from nowhere"
                    );
                }
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn seat_invariant_holds_for_random_operation_sequences_on_sqlite() {
    check(Backend::Sqlite);
}

#[test]
fn seat_invariant_holds_for_random_operation_sequences_on_postgres() {
    check(Backend::Postgres);
}
