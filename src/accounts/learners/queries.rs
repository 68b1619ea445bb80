//! Queries on learners (the `users` table) and their identities.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Text, Timestamp};

use crate::accounts::Email;
use crate::accounts::learners::{
    Condition, Identity, Instant, Learner, LearnerFilter, LicenseFilter, ScimProfile, TextField,
    TextTest,
};
use crate::ids::{ConnectionId, OrgId, ScimConfigId, UserId};
use crate::store::schema::{identities, idp_connections, users};
use crate::store::{DbConn, Error, decode, unique};

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = users, treat_none_as_null = true)]
struct LearnerRow {
    id: String,
    org_id: String,
    email: String,
    display_name: String,
    first_name: Option<String>,
    last_name: Option<String>,
    department: Option<String>,
    employee_id: Option<String>,
    created_at: NaiveDateTime,
    last_sign_in_at: Option<NaiveDateTime>,
    is_admin: bool,
    scim_config_id: Option<String>,
    user_name: Option<String>,
    /// `user_name` lower-cased: the unique index makes userName unique in any case.
    user_name_key: Option<String>,
    external_id: Option<String>,
    manager_id: Option<String>,
    active: bool,
    /// Bumped by the database on every update (see [`update`]).
    #[diesel(skip_update)]
    version: i32,
    updated_at: Option<NaiveDateTime>,
}

impl From<&Learner> for LearnerRow {
    fn from(l: &Learner) -> Self {
        Self {
            id: l.id.to_string(),
            org_id: l.org.to_string(),
            email: l.email.to_string(),
            display_name: l.display_name.clone(),
            first_name: l.first_name.clone(),
            last_name: l.last_name.clone(),
            department: l.department.clone(),
            employee_id: l.employee_id.clone(),
            created_at: l.created_at,
            last_sign_in_at: l.last_sign_in_at,
            is_admin: l.is_admin,
            scim_config_id: l.scim.managed_by.map(|id| id.to_string()),
            user_name: l.scim.user_name.clone(),
            user_name_key: l.scim.user_name.as_deref().map(str::to_lowercase),
            external_id: l.scim.external_id.clone(),
            manager_id: l.scim.manager_id.clone(),
            active: l.active,
            version: i32::try_from(l.version).unwrap_or(i32::MAX),
            updated_at: Some(l.updated_at),
        }
    }
}

impl TryFrom<LearnerRow> for Learner {
    type Error = Error;

    fn try_from(row: LearnerRow) -> Result<Self, Error> {
        Ok(Learner {
            id: decode("user id", row.id)?,
            org: decode("organization id", row.org_id)?,
            email: decode("email", row.email)?,
            display_name: row.display_name,
            first_name: row.first_name,
            last_name: row.last_name,
            department: row.department,
            employee_id: row.employee_id,
            created_at: row.created_at,
            last_sign_in_at: row.last_sign_in_at,
            is_admin: row.is_admin,
            active: row.active,
            scim: ScimProfile {
                managed_by: row
                    .scim_config_id
                    .map(|id| decode("SCIM configuration id", id))
                    .transpose()?,
                user_name: row.user_name,
                external_id: row.external_id,
                manager_id: row.manager_id,
            },
            version: u32::try_from(row.version).map_err(|_| Error::Corrupt {
                what: "version",
                value: row.version.to_string(),
            })?,
            // Rows from before SCIM were last changed when created, as far as anyone knows.
            updated_at: row.updated_at.unwrap_or(row.created_at),
        })
    }
}

/// The learner's values as SCIM filters compare them (lower-cased, see
/// migration 000018), written beside the row they derive from.
#[derive(Insertable, AsChangeset)]
#[diesel(table_name = users, treat_none_as_null = true)]
struct FilterKeys {
    display_name_key: Option<String>,
    first_name_key: Option<String>,
    last_name_key: Option<String>,
    department_key: Option<String>,
    employee_id_key: Option<String>,
    manager_id_key: Option<String>,
}

impl From<&Learner> for FilterKeys {
    fn from(l: &Learner) -> Self {
        let key = |value: &Option<String>| value.as_deref().map(str::to_lowercase);
        Self {
            display_name_key: Some(l.display_name.to_lowercase()),
            first_name_key: key(&l.first_name),
            last_name_key: key(&l.last_name),
            department_key: key(&l.department),
            employee_id_key: key(&l.employee_id),
            manager_id_key: key(&l.scim.manager_id),
        }
    }
}

fn one(rows: Vec<LearnerRow>) -> Result<Option<Learner>, Error> {
    rows.into_iter().next().map(Learner::try_from).transpose()
}

/// Inserts a learner; [`Error::Duplicate`] when the email is taken in the organization.
pub(in crate::accounts) fn insert(conn: &mut DbConn, learner: &Learner) -> Result<(), Error> {
    diesel::insert_into(users::table)
        .values((LearnerRow::from(learner), FilterKeys::from(learner)))
        .execute(conn)
        .map_err(unique)?;
    Ok(())
}

/// Writes every field and counts the change in `version`; [`Error::Duplicate`]
/// when the new email, userName or externalId is another learner's.
pub(in crate::accounts) fn update(conn: &mut DbConn, learner: &Learner) -> Result<(), Error> {
    diesel::update(users::table.find(learner.id.to_string()))
        .set((
            LearnerRow::from(learner),
            FilterKeys::from(learner),
            users::version.eq(users::version + 1),
        ))
        .execute(conn)
        .map_err(unique)?;
    Ok(())
}

/// Up to `limit` learners whose filter keys were never written (rows from
/// before migration 000018).
pub(in crate::accounts) fn without_filter_keys(
    conn: &mut DbConn,
    limit: i64,
) -> Result<Vec<Learner>, Error> {
    users::table
        .filter(users::display_name_key.is_null())
        .limit(limit)
        .select(LearnerRow::as_select())
        .load(conn)?
        .into_iter()
        .map(Learner::try_from)
        .collect()
}

/// Writes the learner's filter keys only: neither its version (its ETag)
/// nor its last change moves, as nothing a client sees changed.
pub(in crate::accounts) fn write_filter_keys(
    conn: &mut DbConn,
    learner: &Learner,
) -> Result<(), Error> {
    diesel::update(users::table.find(learner.id.to_string()))
        .set(FilterKeys::from(learner))
        .execute(conn)?;
    Ok(())
}

pub(in crate::accounts) fn by_id(conn: &mut DbConn, id: UserId) -> Result<Option<Learner>, Error> {
    one(users::table
        .find(id.to_string())
        .select(LearnerRow::as_select())
        .load(conn)?)
}

/// The learners with these ids, in one query per ten thousand.
pub(in crate::accounts) fn by_ids(
    conn: &mut DbConn,
    ids: &[UserId],
) -> Result<Vec<Learner>, Error> {
    let mut found = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(10_000) {
        let texts: Vec<String> = chunk.iter().map(ToString::to_string).collect();
        for row in users::table
            .filter(users::id.eq_any(texts))
            .select(LearnerRow::as_select())
            .load(conn)?
        {
            found.push(Learner::try_from(row)?);
        }
    }
    Ok(found)
}

pub(in crate::accounts) fn by_email(
    conn: &mut DbConn,
    org: OrgId,
    email: &Email,
) -> Result<Option<Learner>, Error> {
    one(users::table
        .filter(users::org_id.eq(org.to_string()))
        .filter(users::email.eq(email.as_str()))
        .select(LearnerRow::as_select())
        .load(conn)?)
}

/// The learner whose SCIM userName is `user_name`, in any case.
pub(in crate::accounts) fn by_user_name(
    conn: &mut DbConn,
    org: OrgId,
    user_name: &str,
) -> Result<Option<Learner>, Error> {
    one(users::table
        .filter(users::org_id.eq(org.to_string()))
        .filter(users::user_name_key.eq(user_name.to_lowercase()))
        .select(LearnerRow::as_select())
        .load(conn)?)
}

pub(in crate::accounts) fn by_external_id(
    conn: &mut DbConn,
    org: OrgId,
    external_id: &str,
) -> Result<Option<Learner>, Error> {
    one(users::table
        .filter(users::org_id.eq(org.to_string()))
        .filter(users::external_id.eq(external_id))
        .select(LearnerRow::as_select())
        .load(conn)?)
}

/// `limit` of the learners a SCIM configuration sees, from `offset`, oldest
/// first (a stable order for paging), and how many it sees in all: its
/// organization's, not deleted over SCIM (inactive and unmanaged), and not
/// managed by another configuration.
pub(in crate::accounts) fn scim_page(
    conn: &mut DbConn,
    org: OrgId,
    config: ScimConfigId,
    condition: Option<&Condition>,
    offset: i64,
    limit: i64,
) -> Result<(Vec<Learner>, i64), Error> {
    let dialect = Dialect::of(conn);
    let visible = || {
        let query = users::table
            .filter(users::org_id.eq(org.to_string()))
            .filter(users::active.or(users::scim_config_id.is_not_null()))
            .filter(
                users::scim_config_id
                    .is_null()
                    .or(users::scim_config_id.eq(config.to_string())),
            )
            .into_boxed::<Db>();
        match condition {
            Some(condition) => query.filter(predicate(dialect, condition)),
            None => query,
        }
    };
    // The page's ids first, from the index where there is no condition, then
    // their rows: an OFFSET deep in 100,000 learners would otherwise read
    // every skipped row.
    let ids: Vec<String> = visible()
        .order((users::created_at, users::id))
        .offset(offset)
        .limit(limit)
        .select(users::id)
        .load(conn)?;
    // A page that ends short has counted the rest: a rare match (one
    // learner by family name) costs one pass over the learners, not two.
    let total = match i64::try_from(ids.len()).unwrap_or(i64::MAX) {
        found if found < limit && (found > 0 || offset == 0) => offset + found,
        _ => visible().count().get_result(conn)?,
    };
    let page = users::table
        .filter(users::id.eq_any(ids))
        .order((users::created_at, users::id))
        .select(LearnerRow::as_select())
        .load(conn)?
        .into_iter()
        .map(Learner::try_from)
        .collect::<Result<_, _>>()?;
    Ok((page, total))
}

/// The SQL a [`Condition`] is written in: the backends spell substring
/// search and byte-order comparison differently.
#[derive(Clone, Copy)]
enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    fn of(conn: &DbConn) -> Self {
        match conn {
            DbConn::Sqlite(_) => Dialect::Sqlite,
            DbConn::Postgres(_) => Dialect::Postgres,
        }
    }
}

/// The SQL of a [`TextField`]'s value, as the learner's SCIM resource shows it
/// (lower-cased where [`TextField`] says so).
fn column(dialect: Dialect, field: TextField) -> &'static str {
    // The resource's instants (`scim::discovery::instant`), whole seconds
    // in UTC, lower-cased.
    let instant = |sqlite, postgres| match dialect {
        Dialect::Sqlite => sqlite,
        Dialect::Postgres => postgres,
    };
    match field {
        TextField::Id => "users.id",
        TextField::ExternalId => "users.external_id",
        TextField::Email => "users.email",
        TextField::UserNameKey => "COALESCE(users.user_name_key, users.email)",
        TextField::DisplayName => "users.display_name_key",
        TextField::GivenName => "users.first_name_key",
        TextField::FamilyName => "users.last_name_key",
        TextField::Department => "users.department_key",
        TextField::EmployeeNumber => "users.employee_id_key",
        TextField::Manager => "users.manager_id_key",
        TextField::Created => instant(
            "strftime('%Y-%m-%dt%H:%M:%Sz', users.created_at)",
            "to_char(users.created_at, 'YYYY-MM-DD\"t\"HH24:MI:SS\"z\"')",
        ),
        TextField::LastModified => instant(
            "strftime('%Y-%m-%dt%H:%M:%Sz', COALESCE(users.updated_at, users.created_at))",
            "to_char(COALESCE(users.updated_at, users.created_at), 'YYYY-MM-DD\"t\"HH24:MI:SS\"z\"')",
        ),
        TextField::Version => "('w/\"' || CAST(users.version AS TEXT) || '\"')",
    }
}

type Predicate = Box<dyn BoxableExpression<users::table, Db, SqlType = Bool>>;

/// `condition` in SQL, with the semantics [`Condition`] documents: text is
/// compared byte for byte (PostgreSQL's collation would order it by
/// language), an absent value passes no test, and nothing evaluates to NULL,
/// so `NOT` holds exactly where the condition does not.
fn predicate(dialect: Dialect, condition: &Condition) -> Predicate {
    use diesel::dsl::sql;
    match condition {
        Condition::Always(true) => Box::new(sql::<Bool>("1 = 1")),
        Condition::Always(false) => Box::new(sql::<Bool>("1 = 0")),
        Condition::Active(active) => Box::new(users::active.eq(*active)),
        Condition::Within {
            instant,
            from,
            before,
        } => {
            let c = match instant {
                Instant::Created => "users.created_at",
                Instant::LastModified => "COALESCE(users.updated_at, users.created_at)",
            };
            let bound = |op: &str, at: NaiveDateTime| -> Predicate {
                Box::new(
                    sql::<Bool>(&format!("({c} {op} "))
                        .bind::<Timestamp, _>(at)
                        .sql(")"),
                )
            };
            match (from, before) {
                (Some(from), Some(before)) => Box::new(bound(">=", *from).and(bound("<", *before))),
                (Some(from), None) => bound(">=", *from),
                (None, Some(before)) => bound("<", *before),
                (None, None) => Box::new(sql::<Bool>("1 = 1")),
            }
        }
        Condition::And(a, b) => Box::new(predicate(dialect, a).and(predicate(dialect, b))),
        Condition::Or(a, b) => Box::new(predicate(dialect, a).or(predicate(dialect, b))),
        Condition::Not(a) => Box::new(diesel::dsl::not(predicate(dialect, a))),
        Condition::Text { field, test, value } => {
            let c = column(dialect, *field);
            let v = || value.clone();
            let compare = |op: &str| -> Predicate {
                // Only to order: equality is byte equality in any deterministic
                // collation, and another collation than the index's would keep
                // PostgreSQL from using the (org_id, email) index.
                let collate = match dialect {
                    Dialect::Postgres if op != "=" => " COLLATE \"C\"",
                    _ => "",
                };
                Box::new(
                    sql::<Bool>(&format!("({c} IS NOT NULL AND {c}{collate} {op} "))
                        .bind::<Text, _>(v())
                        .sql(")"),
                )
            };
            match test {
                TextTest::Present => {
                    Box::new(sql::<Bool>(&format!("({c} IS NOT NULL AND {c} <> '')")))
                }
                TextTest::Eq => compare("="),
                TextTest::Greater => compare(">"),
                TextTest::GreaterOrEqual => compare(">="),
                TextTest::Less => compare("<"),
                TextTest::LessOrEqual => compare("<="),
                TextTest::Contains => {
                    let position = match dialect {
                        Dialect::Sqlite => "instr",
                        Dialect::Postgres => "strpos",
                    };
                    Box::new(
                        sql::<Bool>(&format!("({c} IS NOT NULL AND {position}({c}, "))
                            .bind::<Text, _>(v())
                            .sql(") > 0)"),
                    )
                }
                TextTest::StartsWith => Box::new(
                    sql::<Bool>(&format!("({c} IS NOT NULL AND substr({c}, 1, length("))
                        .bind::<Text, _>(v())
                        .sql(")) = ")
                        .bind::<Text, _>(v())
                        .sql(")"),
                ),
                TextTest::EndsWith => Box::new(
                    sql::<Bool>(&format!("({c} IS NOT NULL AND length({c}) >= length("))
                        .bind::<Text, _>(v())
                        .sql(&format!(") AND substr({c}, length({c}) - length("))
                        .bind::<Text, _>(v())
                        .sql(") + 1) = ")
                        .bind::<Text, _>(v())
                        .sql(")"),
                ),
            }
        }
    }
}

pub(in crate::accounts) fn by_identity(
    conn: &mut DbConn,
    connection: ConnectionId,
    name_id: &str,
) -> Result<Option<Learner>, Error> {
    one(identities::table
        .inner_join(users::table)
        .filter(identities::connection_id.eq(connection.to_string()))
        .filter(identities::name_id.eq(name_id))
        .select(LearnerRow::as_select())
        .load(conn)?)
}

pub(in crate::accounts) fn for_org(conn: &mut DbConn, org: OrgId) -> Result<Vec<Learner>, Error> {
    users::table
        .filter(users::org_id.eq(org.to_string()))
        .order(users::email)
        .select(LearnerRow::as_select())
        .load(conn)?
        .into_iter()
        .map(Learner::try_from)
        .collect()
}

pub(in crate::accounts) fn insert_identity(
    conn: &mut DbConn,
    connection: ConnectionId,
    name_id: &str,
    user: UserId,
    at: NaiveDateTime,
) -> Result<(), Error> {
    diesel::insert_into(identities::table)
        .values((
            identities::connection_id.eq(connection.to_string()),
            identities::name_id.eq(name_id),
            identities::user_id.eq(user.to_string()),
            identities::created_at.eq(at),
        ))
        .execute(conn)
        .map_err(unique)?;
    Ok(())
}

pub(in crate::accounts) fn identities(
    conn: &mut DbConn,
    user: UserId,
) -> Result<Vec<Identity>, Error> {
    identities::table
        .inner_join(idp_connections::table)
        .filter(identities::user_id.eq(user.to_string()))
        .order(identities::created_at)
        .select((
            identities::connection_id,
            idp_connections::name,
            identities::name_id,
            identities::created_at,
        ))
        .load::<(String, String, String, NaiveDateTime)>(conn)?
        .into_iter()
        .map(|(connection, connection_name, name_id, created_at)| {
            Ok(Identity {
                connection: decode("connection id", connection)?,
                connection_name,
                name_id,
                created_at,
            })
        })
        .collect()
}

/// The backend of [`DbConn`], for queries built piece by piece.
type Db = <DbConn as diesel::Connection>::Backend;

diesel::define_sql_function!(fn lower(text: diesel::sql_types::Text) -> diesel::sql_types::Text);

/// The learners matching a console search, one page of them, and how many match in all.
pub(in crate::accounts) fn search(
    conn: &mut DbConn,
    org: OrgId,
    filter: &LearnerFilter,
    offset: i64,
    limit: i64,
) -> Result<(Vec<Learner>, i64), Error> {
    use crate::store::schema::{license_assignments, users};
    let matching = || {
        let mut query = users::table
            .filter(users::org_id.eq(org.to_string()))
            .into_boxed::<Db>();
        if let Some(text) = filter.text.as_deref().filter(|t| !t.is_empty()) {
            // Emails are stored lower-case; names are compared lower-case too,
            // so the search is case-insensitive on both backends.
            let pattern = format!("%{}%", escape_like(&text.to_lowercase()));
            query = query.filter(
                users::email
                    .like(pattern.clone())
                    .escape('\\')
                    .or(lower(users::display_name).like(pattern).escape('\\')),
            );
        }
        let holders = license_assignments::table
            .filter(license_assignments::revoked_at.is_null())
            .select(license_assignments::user_id);
        match filter.license {
            LicenseFilter::Any => {}
            LicenseFilter::Licensed => query = query.filter(users::id.eq_any(holders)),
            LicenseFilter::Unlicensed => query = query.filter(users::id.ne_all(holders)),
        }
        if let Some(connection) = filter.source {
            query = query.filter(
                users::id.eq_any(
                    identities::table
                        .filter(identities::connection_id.eq(connection.to_string()))
                        .select(identities::user_id),
                ),
            );
        }
        query
    };
    let total = matching().count().get_result::<i64>(conn)?;
    let page = matching()
        .order(users::email)
        .offset(offset)
        .limit(limit)
        .select(LearnerRow::as_select())
        .load(conn)?
        .into_iter()
        .map(Learner::try_from)
        .collect::<Result<_, _>>()?;
    Ok((page, total))
}

/// `%`, `_` and `\` typed into a search box are matched literally.
fn escape_like(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

pub(in crate::accounts) fn set_admin(
    conn: &mut DbConn,
    id: UserId,
    is_admin: bool,
) -> Result<(), Error> {
    diesel::update(users::table.find(id.to_string()))
        .set(users::is_admin.eq(is_admin))
        .execute(conn)?;
    Ok(())
}
