//! Migrations and the organization store, on both backends.

use diesel::prelude::*;
use diesel::sql_types::BigInt;
use seatgate::accounts::{Email, learners};
use seatgate::audit::{self, Action, Actor};
use seatgate::clock::Clock;
use seatgate::orgs::{self, ProfileBindingPolicy};
use seatgate::store::Store;

use crate::common::{Backend, TestDb, store_with_acme};
use crate::on_both_databases;

async fn migrations_apply_to_an_empty_database_and_are_idempotent(backend: Backend) {
    let db = TestDb::fresh(backend);
    let store = Store::connect(&db.url).expect("connect");
    let first = store.migrate().expect("first migration run");
    assert!(!first.is_empty(), "an empty database gets every migration");
    let second = store.migrate().expect("second migration run");
    assert!(second.is_empty(), "nothing is applied twice: {second:?}");
    let mut conn = store.connection().expect("connection");
    assert!(
        orgs::list(&mut conn)
            .expect("query the new schema")
            .is_empty()
    );
}

async fn organization_is_created_with_default_settings_and_audited(backend: Backend) {
    let db = TestDb::fresh(backend);
    let store = Store::connect(&db.url).expect("connect");
    store.migrate().expect("migrate");
    let mut conn = store.connection().expect("connection");
    let clock = Clock::system();
    let org = orgs::create(
        &mut conn,
        &clock,
        &Actor::Cli,
        "acme".parse().expect("slug"),
        "Acme Corp".parse().expect("name"),
    )
    .expect("create");
    let found = orgs::find(&mut conn, "acme").expect("find");
    assert_eq!(found.id, org.id);
    assert_eq!(found.display_name, "Acme Corp");
    assert!(!found.auto_assign_licenses, "auto-assign is off by default");
    assert_eq!(found.profile_binding_policy, ProfileBindingPolicy::Optional);
    let events = audit::recent(&mut conn, org.id, 10).expect("audit");
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].action, Action::OrgCreated);
    assert_eq!(events[0].actor, Actor::Cli);
    assert_eq!(events[0].target.as_deref(), Some("acme"));
}

async fn duplicate_organization_is_refused_and_writes_nothing(backend: Backend) {
    let db = TestDb::fresh(backend);
    let store = Store::connect(&db.url).expect("connect");
    store.migrate().expect("migrate");
    let mut conn = store.connection().expect("connection");
    let clock = Clock::system();
    let create = |conn: &mut _, name: &str| {
        orgs::create(
            conn,
            &clock,
            &Actor::Cli,
            "acme".parse().expect("slug"),
            name.parse().expect("name"),
        )
    };
    let first = create(&mut conn, "Acme Corp").expect("first create");
    let error = create(&mut conn, "Other Acme").expect_err("duplicate refused");
    assert_eq!(error.to_string(), "organization \"acme\" already exists");
    let all = orgs::list(&mut conn).expect("list");
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].display_name, "Acme Corp");
    let events = audit::recent(&mut conn, first.id, 10).expect("audit");
    assert_eq!(events.len(), 1, "the refused create left no audit event");
}

on_both_databases!(
    migrations_apply_to_an_empty_database_and_are_idempotent,
    organization_is_created_with_default_settings_and_audited,
    duplicate_organization_is_refused_and_writes_nothing,
);

/// PostgreSQL only (SQLite plans each statement from the schema alone): a
/// learner lookup prepared while `users` was empty still uses the
/// (org_id, email) index once the organization has thousands of learners.
/// A cached generic plan made on the empty table filtered every learner of
/// the organization instead, which made a SCIM initial sync quadratic.
#[actix_rt::test]
async fn postgres_lookups_keep_their_index_as_the_table_grows() {
    let (_db, store, org) = store_with_acme(Backend::Postgres);
    let mut conn = store.connection().expect("connection");
    let absent: Email = "nobody@acme.example".parse().expect("email");
    // Tuples fetched through indexes in this transaction, so far.
    let fetched = |conn: &mut _| -> i64 {
        diesel::select(diesel::dsl::sql::<BigInt>(
            "(SELECT coalesce(sum(idx_tup_fetch), 0)::bigint FROM pg_stat_xact_user_tables \
             WHERE relname = 'users')",
        ))
        .get_result(conn)
        .expect("statistics")
    };
    conn.transaction::<_, diesel::result::Error, _>(|conn| {
        // More than the five executions after which PostgreSQL may switch
        // a prepared statement to its generic plan.
        for _ in 0..8 {
            learners::by_email(conn, org.id, &absent).expect("lookup");
        }
        diesel::sql_query(format!(
            "INSERT INTO users (id, org_id, email, display_name, created_at) \
             SELECT gen_random_uuid()::text, '{}', 'learner' || n || '@acme.example', 'L', now() \
             FROM generate_series(1, 2000) AS n",
            org.id
        ))
        .execute(conn)?;
        let before = fetched(conn);
        let found = learners::by_email(conn, org.id, &absent).expect("lookup");
        assert!(found.is_none(), "nobody has that email");
        let read = fetched(conn) - before;
        assert!(
            read < 10,
            "the lookup of one email fetched {read} learners: it scanned the organization"
        );
        Ok(())
    })
    .expect("transaction");
}

/// SQLite only (PostgreSQL writers wait for row locks instead): a write
/// transaction that reads first still commits when another connection
/// writes between its read and its write. A deferred transaction failed
/// at once with "database is locked"; an immediate one makes the other
/// writer wait.
#[actix_rt::test]
async fn sqlite_write_transaction_survives_a_write_from_another_connection() {
    let (_db, store, _) = store_with_acme(Backend::Sqlite);
    let mut conn = store.connection().expect("connection");
    // A real change: SQLite writes nothing for `SET x = x`, and then the
    // other transaction's snapshot stays current.
    let touch = "UPDATE organizations SET display_name = display_name || '.'";
    let (read, other_may_write) = std::sync::mpsc::channel();
    let other = {
        let store = store.clone();
        std::thread::spawn(move || {
            let mut conn = store.connection().expect("second connection");
            other_may_write.recv().expect("signal");
            diesel::sql_query(touch).execute(&mut *conn)
        })
    };
    let outcome = seatgate::store::write_transaction(&mut conn, |conn| {
        orgs::list(conn).expect("read");
        read.send(()).expect("signal");
        // The other connection's write lands here unless it has to wait.
        std::thread::sleep(std::time::Duration::from_millis(300));
        diesel::sql_query(touch)
            .execute(conn)
            .map_err(seatgate::store::Error::Query)
    });
    assert!(outcome.is_ok(), "the transaction failed: {outcome:?}");
    assert!(
        other.join().expect("thread").is_ok(),
        "the other write waited and succeeded"
    );
}
