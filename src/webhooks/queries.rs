//! Queries on webhooks and their deliveries.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::{EventType, Webhook};
use crate::ids::ApplicationId;
use crate::secret::SecretToken;
use crate::store::schema::{webhook_deliveries, webhooks};
use crate::store::{DbConn, Error, decode};

fn events_text(events: &[EventType]) -> String {
    events
        .iter()
        .map(|e| e.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

fn events_of(text: &str) -> Result<Vec<EventType>, Error> {
    text.split(' ')
        .map(|name| decode("webhook event", name.to_owned()))
        .collect()
}

/// Sets the application's webhook, replacing one set before (its pending
/// deliveries go with it: they were signed for the old endpoint's secret).
pub(super) fn replace(
    conn: &mut DbConn,
    webhook: &Webhook,
    secret: &SecretToken,
) -> Result<(), Error> {
    delete(conn, webhook.application)?;
    diesel::insert_into(webhooks::table)
        .values((
            webhooks::application_id.eq(webhook.application.to_string()),
            webhooks::url.eq(webhook.url.as_str()),
            webhooks::secret.eq(secret.expose()),
            webhooks::events.eq(events_text(&webhook.events)),
            webhooks::created_at.eq(webhook.created_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// Whether there was a webhook to delete.
pub(super) fn delete(conn: &mut DbConn, application: ApplicationId) -> Result<bool, Error> {
    diesel::delete(
        webhook_deliveries::table
            .filter(webhook_deliveries::application_id.eq(application.to_string())),
    )
    .execute(conn)?;
    Ok(diesel::delete(webhooks::table.find(application.to_string())).execute(conn)? == 1)
}

pub(super) fn by_application(
    conn: &mut DbConn,
    application: ApplicationId,
) -> Result<Option<Webhook>, Error> {
    let Some((url, events, created_at)) = webhooks::table
        .find(application.to_string())
        .select((webhooks::url, webhooks::events, webhooks::created_at))
        .first::<(String, String, NaiveDateTime)>(conn)
        .optional()?
    else {
        return Ok(None);
    };
    Ok(Some(Webhook {
        application,
        url: decode("webhook URL", url)?,
        events: events_of(&events)?,
        created_at,
    }))
}

/// The applications whose webhook takes `event`.
pub(super) fn subscribed(conn: &mut DbConn, event: EventType) -> Result<Vec<ApplicationId>, Error> {
    webhooks::table
        .select((webhooks::application_id, webhooks::events))
        .load::<(String, String)>(conn)?
        .into_iter()
        .filter(|(_, events)| events.split(' ').any(|e| e == event.as_str()))
        .map(|(id, _)| decode("application id", id))
        .collect()
}

pub(super) fn insert_delivery(
    conn: &mut DbConn,
    application: ApplicationId,
    event: EventType,
    payload: &str,
    now: NaiveDateTime,
) -> Result<(), Error> {
    diesel::insert_into(webhook_deliveries::table)
        .values((
            webhook_deliveries::id.eq(uuid::Uuid::now_v7().to_string()),
            webhook_deliveries::application_id.eq(application.to_string()),
            webhook_deliveries::event_type.eq(event.as_str()),
            webhook_deliveries::payload.eq(payload),
            webhook_deliveries::created_at.eq(now),
            webhook_deliveries::next_attempt_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// A delivery as the console shows it.
#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = webhook_deliveries)]
pub struct Delivery {
    pub id: String,
    pub event_type: String,
    pub created_at: NaiveDateTime,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub delivered_at: Option<NaiveDateTime>,
    pub failed_at: Option<NaiveDateTime>,
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
}

pub(super) fn recent(
    conn: &mut DbConn,
    application: ApplicationId,
    limit: i64,
) -> Result<Vec<Delivery>, Error> {
    Ok(webhook_deliveries::table
        .filter(webhook_deliveries::application_id.eq(application.to_string()))
        .order(webhook_deliveries::created_at.desc())
        .limit(limit)
        .select(Delivery::as_select())
        .load(conn)?)
}

/// A delivery this process claimed, with what sending it needs.
pub(super) struct Claimed {
    pub id: String,
    pub event_type: String,
    pub payload: String,
    pub attempts: i32,
    pub url: String,
    pub secret: SecretToken,
}

/// Up to `limit` due deliveries that no live claim holds.
pub(super) fn due(conn: &mut DbConn, now: NaiveDateTime, limit: i64) -> Result<Vec<String>, Error> {
    Ok(webhook_deliveries::table
        .filter(webhook_deliveries::delivered_at.is_null())
        .filter(webhook_deliveries::failed_at.is_null())
        .filter(webhook_deliveries::next_attempt_at.le(now))
        .filter(
            webhook_deliveries::locked_until
                .is_null()
                .or(webhook_deliveries::locked_until.le(now)),
        )
        .order(webhook_deliveries::next_attempt_at)
        .limit(limit)
        .select(webhook_deliveries::id)
        .load(conn)?)
}

/// Claims one delivery until `until`: one conditional UPDATE, so of two
/// processes trying at once exactly one changes the row (PostgreSQL
/// re-checks the condition after the other's commit; SQLite writes one at a
/// time). None when another claimed or delivered it first.
pub(super) fn claim(
    conn: &mut DbConn,
    id: &str,
    now: NaiveDateTime,
    until: NaiveDateTime,
) -> Result<Option<Claimed>, Error> {
    let claimed = diesel::update(
        webhook_deliveries::table
            .find(id)
            .filter(webhook_deliveries::delivered_at.is_null())
            .filter(webhook_deliveries::failed_at.is_null())
            .filter(
                webhook_deliveries::locked_until
                    .is_null()
                    .or(webhook_deliveries::locked_until.le(now)),
            ),
    )
    .set((
        webhook_deliveries::locked_until.eq(until),
        webhook_deliveries::attempts.eq(webhook_deliveries::attempts + 1),
    ))
    .execute(conn)?;
    if claimed != 1 {
        return Ok(None);
    }
    let (event_type, payload, attempts, url, secret) = webhook_deliveries::table
        .inner_join(webhooks::table)
        .filter(webhook_deliveries::id.eq(id))
        .select((
            webhook_deliveries::event_type,
            webhook_deliveries::payload,
            webhook_deliveries::attempts,
            webhooks::url,
            webhooks::secret,
        ))
        .first::<(String, String, i32, String, String)>(conn)?;
    Ok(Some(Claimed {
        id: id.to_owned(),
        event_type,
        payload,
        attempts,
        url,
        secret: SecretToken::from_stored(secret),
    }))
}

pub(super) fn delivered(
    conn: &mut DbConn,
    id: &str,
    now: NaiveDateTime,
    status: i32,
) -> Result<(), Error> {
    diesel::update(webhook_deliveries::table.find(id))
        .set((
            webhook_deliveries::delivered_at.eq(now),
            webhook_deliveries::last_status.eq(status),
            webhook_deliveries::last_error.eq(None::<String>),
            webhook_deliveries::locked_until.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)?;
    Ok(())
}

/// Records a failed attempt: tried again at `retry_at`, or given up (None).
pub(super) fn attempt_failed(
    conn: &mut DbConn,
    id: &str,
    now: NaiveDateTime,
    status: Option<i32>,
    error: &str,
    retry_at: Option<NaiveDateTime>,
) -> Result<(), Error> {
    let update = diesel::update(webhook_deliveries::table.find(id));
    match retry_at {
        Some(at) => update
            .set((
                webhook_deliveries::next_attempt_at.eq(at),
                webhook_deliveries::last_status.eq(status),
                webhook_deliveries::last_error.eq(error),
                webhook_deliveries::locked_until.eq(None::<NaiveDateTime>),
            ))
            .execute(conn)?,
        None => update
            .set((
                webhook_deliveries::failed_at.eq(now),
                webhook_deliveries::last_status.eq(status),
                webhook_deliveries::last_error.eq(error),
                webhook_deliveries::locked_until.eq(None::<NaiveDateTime>),
            ))
            .execute(conn)?,
    };
    Ok(())
}

/// Removes deliveries delivered or given up before `before`.
pub(super) fn purge_finished(conn: &mut DbConn, before: NaiveDateTime) -> Result<usize, Error> {
    Ok(diesel::delete(
        webhook_deliveries::table.filter(
            webhook_deliveries::delivered_at
                .le(before)
                .or(webhook_deliveries::failed_at.le(before)),
        ),
    )
    .execute(conn)?)
}
