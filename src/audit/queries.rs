//! Queries on audit events.

use chrono::{NaiveDateTime, NaiveTime};
use diesel::prelude::*;

use crate::audit::{ActorFilter, AuditFilter, Event};
use crate::ids::OrgId;
use crate::store::schema::audit_events;
use crate::store::{DbConn, Error, decode};

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_events)]
struct EventRow {
    id: String,
    org_id: Option<String>,
    actor: String,
    action: String,
    target: Option<String>,
    details: String,
    created_at: NaiveDateTime,
}

pub(super) fn insert(conn: &mut DbConn, event: &Event) -> Result<(), Error> {
    diesel::insert_into(audit_events::table)
        .values(EventRow {
            id: event.id.to_string(),
            org_id: event.org.map(|id| id.to_string()),
            actor: event.actor.to_string(),
            action: event.action.as_str().to_owned(),
            target: event.target.clone(),
            details: event.details.to_string(),
            created_at: event.at,
        })
        .execute(conn)?;
    Ok(())
}

type Db = <DbConn as diesel::Connection>::Backend;

pub(super) fn recent_for_org(
    conn: &mut DbConn,
    org: OrgId,
    limit: i64,
) -> Result<Vec<Event>, Error> {
    search(conn, org, &AuditFilter::default(), 0, limit).map(|(events, _)| events)
}

/// One page of the organization's events matching `filter`, newest first, and
/// how many match in all.
pub(super) fn search(
    conn: &mut DbConn,
    org: OrgId,
    filter: &AuditFilter,
    offset: i64,
    limit: i64,
) -> Result<(Vec<Event>, i64), Error> {
    let matching = || {
        let mut query = audit_events::table
            .filter(audit_events::org_id.eq(org.to_string()))
            .into_boxed::<Db>();
        match &filter.actor {
            ActorFilter::Any => {}
            ActorFilter::Admins => query = query.filter(audit_events::actor.like("admin:%")),
            ActorFilter::Learners => query = query.filter(audit_events::actor.like("user:%")),
            ActorFilter::Exactly(actor) => {
                query = query.filter(audit_events::actor.eq(actor.to_string()))
            }
        }
        if let Some(action) = filter.action {
            query = query.filter(audit_events::action.eq(action.as_str()));
        }
        if let Some(target) = &filter.target {
            query = query.filter(audit_events::target.eq(target.clone()));
        }
        if let Some(from) = filter.from {
            query = query.filter(audit_events::created_at.ge(from.and_time(NaiveTime::MIN)));
        }
        if let Some(to) = filter.to {
            // Up to the end of that day.
            let next = to.succ_opt().unwrap_or(to).and_time(NaiveTime::MIN);
            query = query.filter(audit_events::created_at.lt(next));
        }
        query
    };
    let total = matching().count().get_result::<i64>(conn)?;
    let events = matching()
        .order((audit_events::created_at.desc(), audit_events::id.desc()))
        .offset(offset)
        .limit(limit)
        .select(EventRow::as_select())
        .load(conn)?
        .into_iter()
        .map(|row| {
            Ok(Event {
                id: decode("event id", row.id)?,
                org: row
                    .org_id
                    .map(|id| decode("organization id", id))
                    .transpose()?,
                actor: decode("audit actor", row.actor)?,
                action: decode("audit action", row.action)?,
                target: row.target,
                details: serde_json::from_str(&row.details).map_err(|_| Error::Corrupt {
                    what: "audit details",
                    value: row.details.clone(),
                })?,
                at: row.created_at,
            })
        })
        .collect::<Result<_, Error>>()?;
    Ok((events, total))
}
