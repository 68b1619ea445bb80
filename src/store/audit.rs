//! Queries on audit events.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::audit_events;
use super::{DbConn, Error, decode};
use crate::audit::Event;
use crate::ids::OrgId;

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

pub fn insert(conn: &mut DbConn, event: &Event) -> Result<(), Error> {
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

pub fn recent_for_org(conn: &mut DbConn, org: OrgId, limit: i64) -> Result<Vec<Event>, Error> {
    audit_events::table
        .filter(audit_events::org_id.eq(org.to_string()))
        .order(audit_events::created_at.desc())
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
        .collect()
}
