//! `/scim/v2`: the SCIM 2.0 endpoints IdPs provision learners through.
//! Handlers authenticate the bearer token, read a bounded JSON body, call
//! one `scim` use case and render `application/scim+json`. Not a browser
//! surface: no cookies, no CSRF (a bearer token in a header is not sent by
//! browsers on their own).

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, ResponseError, web};
use futures_util::StreamExt;
use serde_json::{Value, json};

use super::AppState;
use crate::ids::ScimConfigId;
use crate::orgs::Organization;
use crate::scim::filter::Filter;
use crate::scim::{self, ERROR_SCHEMA, LIST_SCHEMA, ScimConfig, discovery, groups, users};

const MEDIA_TYPE: &str = "application/scim+json";
/// Largest request body read (issue 15: 1 MiB); IdPs send a few KiB.
const BODY_LIMIT: usize = 1024 * 1024;

pub fn routes(cfg: &mut web::ServiceConfig) {
    let resource = |path: &str| web::resource(path).default_service(web::to(method_not_allowed));
    cfg.service(
        web::scope("/scim/v2")
            .wrap(actix_web::middleware::from_fn(record_refusals))
            .service(resource("/ServiceProviderConfig").get(service_provider_config))
            .service(resource("/ResourceTypes").get(resource_types))
            .service(resource("/ResourceTypes/{id}").get(resource_type))
            .service(resource("/Schemas").get(schemas))
            .service(resource("/Schemas/{id}").get(schema))
            .service(resource("/Users").get(list_users).post(create_user))
            .service(resource("/Users/.search").post(search_users))
            .service(
                resource("/Users/{id}")
                    .get(get_user)
                    .put(replace_user)
                    .patch(patch_user)
                    .delete(delete_user),
            )
            .service(resource("/Groups").get(list_groups).post(create_group))
            .service(resource("/Groups/.search").post(search_groups))
            .service(
                resource("/Groups/{id}")
                    .get(get_group)
                    .put(replace_group)
                    .patch(patch_group)
                    .delete(delete_group),
            )
            .service(resource("/.search").post(search_everything))
            .default_service(web::to(not_found)),
    );
}

/// Keeps each refused request of an authenticated token (its method, path
/// and reason; never its body) for the console's Provisioning page. Not
/// the 429s: a client past its limit would otherwise write a row per
/// request it is refused.
async fn record_refusals(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let method = req.method().to_string();
    let path = req
        .uri()
        .path_and_query()
        .map_or_else(String::new, |p| p.as_str().to_owned());
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let response = next.call(req).await?;
    let status = response.status();
    let config = response
        .request()
        .extensions()
        .get::<ScimConfigId>()
        .copied();
    if let (Some(config), Some(state)) = (config, state)
        && (status.is_client_error() || status.is_server_error())
        && status != StatusCode::TOO_MANY_REQUESTS
    {
        let detail = match response
            .response()
            .error()
            .and_then(|e| e.as_error::<ScimError>())
        {
            Some(error) if !status.is_server_error() => error.to_string(),
            _ => "something went wrong on our side (see the server log)".to_owned(),
        };
        let error = scim::RequestError {
            config,
            method,
            path,
            status: status.as_u16(),
            detail,
            at: state.clock.now_naive(),
        };
        if let Err(e) = state
            .store
            .run(move |conn| scim::record_request_error(conn, &error))
            .await
        {
            tracing::warn!(reason = %e, "cannot keep the refused SCIM request");
        }
    }
    Ok(response)
}

/// A refused SCIM request, rendered in the SCIM Error schema (RFC 7644, 3.12).
#[derive(Debug, thiserror::Error)]
enum ScimError {
    #[error("missing, malformed, wrong or revoked bearer token")]
    Unauthorized,
    #[error("the request body is larger than {BODY_LIMIT} bytes")]
    TooLarge,
    /// More requests with this token in the last minute than `scim_rate_limit`.
    #[error("too many requests with this token; try again in {} s", .0.as_secs().max(1))]
    RateLimited(std::time::Duration),
    #[error("no such endpoint")]
    NoEndpoint,
    #[error("this endpoint does not answer that method")]
    MethodNotAllowed,
    #[error(
        "searching several resource types at once is not supported: POST /Users/.search or /Groups/.search"
    )]
    NotImplemented,
    #[error(transparent)]
    Scim(#[from] scim::Error),
}

impl From<crate::store::Error> for ScimError {
    fn from(e: crate::store::Error) -> Self {
        ScimError::Scim(e.into())
    }
}

impl ScimError {
    fn scim_type(&self) -> Option<&'static str> {
        use scim::Error as E;
        match self {
            ScimError::Scim(E::InvalidFilter(_)) => Some("invalidFilter"),
            ScimError::Scim(E::InvalidPath(_)) => Some("invalidPath"),
            ScimError::Scim(E::InvalidValue(_)) => Some("invalidValue"),
            ScimError::Scim(E::InvalidSyntax(_)) => Some("invalidSyntax"),
            ScimError::Scim(E::Mutability(_)) => Some("mutability"),
            ScimError::Scim(E::NoTarget(_)) => Some("noTarget"),
            ScimError::Scim(E::Uniqueness(_)) => Some("uniqueness"),
            _ => None,
        }
    }
}

impl ResponseError for ScimError {
    fn status_code(&self) -> StatusCode {
        use scim::Error as E;
        match self {
            ScimError::Unauthorized => StatusCode::UNAUTHORIZED,
            ScimError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ScimError::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            ScimError::NoEndpoint | ScimError::Scim(E::NotFound(_)) => StatusCode::NOT_FOUND,
            ScimError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ScimError::NotImplemented => StatusCode::NOT_IMPLEMENTED,
            ScimError::Scim(E::Uniqueness(_)) => StatusCode::CONFLICT,
            ScimError::Scim(E::VersionMismatch(_)) => StatusCode::PRECONDITION_FAILED,
            ScimError::Scim(E::Store(_)) => StatusCode::INTERNAL_SERVER_ERROR,
            ScimError::Scim(_) => StatusCode::BAD_REQUEST,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let reference = super::telemetry::reference();
        // The precise reason is logged; a storage failure's text stays there.
        let detail = if status.is_server_error() {
            tracing::error!(reason = %self, "SCIM request failed");
            format!("Something went wrong on our side; reference {reference}.")
        } else {
            tracing::warn!(reason = %self, scim_type = self.scim_type(), "SCIM request refused");
            self.to_string()
        };
        let mut body = json!({
            "schemas": [ERROR_SCHEMA],
            "status": status.as_u16().to_string(),
            "detail": detail,
        });
        if let Some(scim_type) = self.scim_type() {
            body["scimType"] = json!(scim_type);
        }
        let mut response = scim_json(status, &body);
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"scim\""),
            );
        }
        if let ScimError::RateLimited(wait) = self {
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(wait.as_secs().max(1)),
            );
        }
        response
    }
}

fn scim_json(status: StatusCode, body: &Value) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, MEDIA_TYPE))
        .body(body.to_string())
}

/// The configuration and organization the request's bearer token names.
async fn authenticated(
    state: &AppState,
    req: &HttpRequest,
) -> Result<(ScimConfig, Organization), ScimError> {
    let presented = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, token) = v.split_once(' ')?;
            scheme
                .eq_ignore_ascii_case("bearer")
                .then(|| token.trim().to_owned())
        })
        .ok_or(ScimError::Unauthorized)?;
    let clock = state.clock.clone();
    let (config, org) = state
        .store
        .run(move |conn| scim::authenticate(conn, &clock, &presented))
        .await?
        .ok_or(ScimError::Unauthorized)?;
    // For `record_refusals`: whose request this was.
    req.extensions_mut().insert(config.id);
    if let Some(limit) = &state.limits.scim {
        limit
            .check(config.id, std::time::Instant::now())
            .map_err(ScimError::RateLimited)?;
    }
    Ok((config, org))
}

/// Reads the body up to [`BODY_LIMIT`] (before anything is parsed) as JSON.
async fn json_body(mut payload: web::Payload) -> Result<Value, ScimError> {
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| scim::Error::InvalidSyntax(format!("body: {e}")))?;
        if body.len() + chunk.len() > BODY_LIMIT {
            return Err(ScimError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    // serde_json stops at 128 levels of nesting, so no body can exhaust the stack.
    serde_json::from_slice(&body)
        .map_err(|e| scim::Error::InvalidSyntax(format!("the body is not JSON: {e}")).into())
}

async fn service_provider_config(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ScimError> {
    authenticated(&state, &req).await?;
    Ok(scim_json(
        StatusCode::OK,
        &discovery::service_provider_config(&state.settings.base_url),
    ))
}

async fn resource_types(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ScimError> {
    authenticated(&state, &req).await?;
    discovered(discovery::resource_types(&state.settings.base_url, None))
}

async fn resource_type(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ScimError> {
    authenticated(&state, &req).await?;
    discovered(discovery::resource_types(
        &state.settings.base_url,
        Some(&id),
    ))
}

async fn schemas(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ScimError> {
    authenticated(&state, &req).await?;
    discovered(discovery::schemas(&state.settings.base_url, None))
}

async fn schema(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ScimError> {
    authenticated(&state, &req).await?;
    discovered(discovery::schemas(&state.settings.base_url, Some(&id)))
}

fn discovered(found: Option<Value>) -> Result<HttpResponse, ScimError> {
    found
        .map(|body| scim_json(StatusCode::OK, &body))
        .ok_or(ScimError::NoEndpoint)
}

async fn not_found(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ScimError> {
    authenticated(&state, &req).await?;
    Err(ScimError::NoEndpoint)
}

async fn method_not_allowed(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ScimError> {
    authenticated(&state, &req).await?;
    Err(ScimError::MethodNotAllowed)
}

/// RFC 7644, 3.4.3: a server that does not search across resource types answers 501.
async fn search_everything(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ScimError> {
    authenticated(&state, &req).await?;
    Err(ScimError::NotImplemented)
}

/// `attributes` / `excludedAttributes` (RFC 7644, 3.9), as sent.
#[derive(Default)]
struct Projection {
    attributes: Option<String>,
    excluded_attributes: Option<String>,
}

/// What a GET may ask for; parameter names in any case.
#[derive(Default)]
struct ListQuery {
    filter: Option<String>,
    start_index: Option<i64>,
    count: Option<i64>,
    projection: Projection,
}

impl Projection {
    fn apply(&self, resource: Value) -> Value {
        scim::project(
            resource,
            self.attributes.as_deref(),
            self.excluded_attributes.as_deref(),
        )
    }

    /// Whether groups' members are returned (by the one projection rule).
    fn members(&self) -> groups::Members {
        match self.apply(json!({ "members": {} })).get("members") {
            Some(_) => groups::Members::Listed,
            None => groups::Members::Omitted,
        }
    }
}

impl ListQuery {
    /// A SearchRequest body (RFC 7644, 3.4.3): the same parameters as a
    /// query string, with `attributes` and `excludedAttributes` as lists.
    fn of_search(body: &Value) -> Result<Self, ScimError> {
        let list = |name: &str| -> Result<Option<String>, ScimError> {
            match scim::filter::member(body, name) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::Array(items)) => Ok(Some(
                    items
                        .iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join(","),
                )),
                Some(Value::String(text)) => Ok(Some(text.clone())),
                Some(_) => Err(scim::Error::InvalidValue(format!("{name} must be a list")).into()),
            }
        };
        let number = |name: &str| -> Result<Option<i64>, ScimError> {
            match scim::filter::member(body, name) {
                None | Some(Value::Null) => Ok(None),
                Some(value) => value.as_i64().map(Some).ok_or_else(|| {
                    scim::Error::InvalidValue(format!("{name} must be a whole number")).into()
                }),
            }
        };
        let filter = match scim::filter::member(body, "filter") {
            None | Some(Value::Null) => None,
            Some(Value::String(text)) => Some(text.clone()),
            Some(_) => {
                return Err(scim::Error::InvalidFilter("filter must be a string".into()).into());
            }
        };
        Ok(Self {
            filter,
            start_index: number("startIndex")?,
            count: number("count")?,
            projection: Projection {
                attributes: list("attributes")?,
                excluded_attributes: list("excludedAttributes")?,
            },
        })
    }

    /// The filter and the page asked for. RFC 7644, 3.4.2.4: a startIndex
    /// below 1 is 1; a negative count is 0; we cap it at `MAX_RESULTS`.
    fn page(&self) -> Result<(Option<Filter>, usize, usize), ScimError> {
        let filter = self
            .filter
            .as_deref()
            .map(str::parse::<Filter>)
            .transpose()
            .map_err(|e| scim::Error::InvalidFilter(format!("filter: {e}")))?;
        let start_index = usize::try_from(self.start_index.unwrap_or(1).max(1)).unwrap_or(1);
        let max = i64::from(scim::MAX_RESULTS);
        let count = usize::try_from(self.count.unwrap_or(max).clamp(0, max)).unwrap_or(0);
        Ok((filter, start_index, count))
    }

    /// Parsed by hand so that a malformed number is a SCIM error, not actix's page.
    fn of(req: &HttpRequest) -> Result<Self, ScimError> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(req.query_string())
            .map_err(|e| scim::Error::InvalidSyntax(format!("query string: {e}")))?;
        let mut query = Self::default();
        for (name, value) in pairs {
            let number = |value: &str| {
                value.trim().parse::<i64>().map_err(|_| {
                    ScimError::from(scim::Error::InvalidValue(format!(
                        "{name} must be a whole number, not {value:?}"
                    )))
                })
            };
            match name.to_ascii_lowercase().as_str() {
                "filter" => query.filter = Some(value),
                "startindex" => query.start_index = Some(number(&value)?),
                "count" => query.count = Some(number(&value)?),
                "attributes" => query.projection.attributes = Some(value),
                "excludedattributes" => query.projection.excluded_attributes = Some(value),
                _ => {}
            }
        }
        Ok(query)
    }
}

/// Runs a SCIM use case on the blocking pool, in the token's scope.
async fn in_scope<R: Send + 'static>(
    state: &AppState,
    (config, org): (ScimConfig, Organization),
    work: impl FnOnce(&mut crate::store::DbConn, &users::Scope) -> Result<R, scim::Error>
    + Send
    + 'static,
) -> Result<R, ScimError> {
    let (clock, base_url) = (state.clock.clone(), state.settings.base_url.clone());
    Ok(state
        .store
        .run(move |conn| {
            let scope = users::Scope {
                clock: &clock,
                config: &config,
                org: &org,
                base_url: &base_url,
            };
            work(conn, &scope)
        })
        .await?)
}

/// One learner as the response body, with its ETag.
fn user_response(
    status: StatusCode,
    state: &AppState,
    learner: &crate::accounts::learners::Learner,
    projection: &Projection,
) -> HttpResponse {
    let body = projection.apply(users::resource(learner, &state.settings.base_url));
    resource_response(status, body)
}

/// One resource, with its `ETag` (and `Location` when created) from its `meta`.
fn resource_response(status: StatusCode, body: Value) -> HttpResponse {
    let mut response = scim_json(status, &body);
    let meta = |name: &str| {
        body["meta"][name]
            .as_str()
            .and_then(|v| HeaderValue::from_str(v).ok())
    };
    if let Some(etag) = meta("version") {
        response.headers_mut().insert(header::ETAG, etag);
    }
    if status == StatusCode::CREATED
        && let Some(location) = meta("location")
    {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

async fn list_users(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ScimError> {
    let scope = authenticated(&state, &req).await?;
    users_matching(&state, scope, ListQuery::of(&req)?).await
}

async fn search_users(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ScimError> {
    let scope = authenticated(&state, &req).await?;
    let query = ListQuery::of_search(&json_body(payload).await?)?;
    users_matching(&state, scope, query).await
}

async fn users_matching(
    state: &AppState,
    scope: (ScimConfig, Organization),
    query: ListQuery,
) -> Result<HttpResponse, ScimError> {
    let (filter, start_index, count) = query.page()?;
    let listed = in_scope(state, scope, move |conn, scope| {
        users::list(conn, scope, filter.as_ref(), start_index, count)
    })
    .await?;
    let resources: Vec<Value> = listed
        .items
        .iter()
        .map(|learner| {
            query
                .projection
                .apply(users::resource(learner, &state.settings.base_url))
        })
        .collect();
    Ok(list_response(listed.total, start_index, resources))
}

/// A ListResponse (RFC 7644, 3.4.2).
fn list_response(total: usize, start_index: usize, resources: Vec<Value>) -> HttpResponse {
    scim_json(
        StatusCode::OK,
        &json!({
            "schemas": [LIST_SCHEMA],
            "totalResults": total,
            "startIndex": start_index,
            "itemsPerPage": resources.len(),
            "Resources": resources,
        }),
    )
}

async fn get_user(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ScimError> {
    let scope = authenticated(&state, &req).await?;
    let projection = ListQuery::of(&req)?.projection;
    let id = id.into_inner();
    let learner = in_scope(&state, scope, move |conn, scope| {
        users::get(conn, scope, &id)
    })
    .await?;
    Ok(user_response(StatusCode::OK, &state, &learner, &projection))
}

async fn create_user(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ScimError> {
    let scope = authenticated(&state, &req).await?;
    let body = json_body(payload).await?;
    let learner = in_scope(&state, scope, move |conn, scope| {
        users::create(conn, scope, &body)
    })
    .await?;
    Ok(user_response(
        StatusCode::CREATED,
        &state,
        &learner,
        &Projection::default(),
    ))
}

fn if_match(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get(header::IF_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

async fn replace_user(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ScimError> {
    let scope = authenticated(&state, &req).await?;
    let body = json_body(payload).await?;
    let (id, wanted) = (id.into_inner(), if_match(&req));
    let learner = in_scope(&state, scope, move |conn, scope| {
        users::replace(conn, scope, &id, &body, wanted.as_deref())
    })
    .await?;
    Ok(user_response(
        StatusCode::OK,
        &state,
        &learner,
        &Projection::default(),
    ))
}

async fn patch_user(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ScimError> {
    let scope = authenticated(&state, &req).await?;
    let request = serde_json::from_value(json_body(payload).await?)
        .map_err(|e| scim::Error::InvalidSyntax(format!("not a PatchOp with Operations: {e}")))?;
    let (id, wanted) = (id.into_inner(), if_match(&req));
    let learner = in_scope(&state, scope, move |conn, scope| {
        users::patch(conn, scope, &id, request, wanted.as_deref())
    })
    .await?;
    Ok(user_response(
        StatusCode::OK,
        &state,
        &learner,
        &Projection::default(),
    ))
}

async fn delete_user(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ScimError> {
    let scope = authenticated(&state, &req).await?;
    let id = id.into_inner();
    in_scope(&state, scope, move |conn, scope| {
        users::delete(conn, scope, &id)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A PatchOp body.
async fn patch_request(payload: web::Payload) -> Result<scim::PatchRequest, ScimError> {
    serde_json::from_value(json_body(payload).await?).map_err(|e| {
        scim::Error::InvalidSyntax(format!("not a PatchOp with Operations: {e}")).into()
    })
}

async fn list_groups(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ScimError> {
    let scope = authenticated(&state, &req).await?;
    groups_matching(&state, scope, ListQuery::of(&req)?).await
}

async fn search_groups(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ScimError> {
    let scope = authenticated(&state, &req).await?;
    let query = ListQuery::of_search(&json_body(payload).await?)?;
    groups_matching(&state, scope, query).await
}

async fn groups_matching(
    state: &AppState,
    scope: (ScimConfig, Organization),
    query: ListQuery,
) -> Result<HttpResponse, ScimError> {
    let (filter, start_index, count) = query.page()?;
    let (total, resources) = in_scope(state, scope, move |conn, scope| {
        let listed = groups::list(conn, scope, filter.as_ref(), start_index, count)?;
        let resources = listed
            .items
            .iter()
            .map(|g| {
                let resource = groups::resource(conn, scope, g, query.projection.members())?;
                Ok(query.projection.apply(resource))
            })
            .collect::<Result<Vec<_>, scim::Error>>()?;
        Ok((listed.total, resources))
    })
    .await?;
    Ok(list_response(total, start_index, resources))
}

async fn get_group(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ScimError> {
    let scope = authenticated(&state, &req).await?;
    let projection = ListQuery::of(&req)?.projection;
    let id = id.into_inner();
    let body = in_scope(&state, scope, move |conn, scope| {
        let group = groups::get(conn, scope, &id)?;
        let resource = groups::resource(conn, scope, &group, projection.members())?;
        Ok(projection.apply(resource))
    })
    .await?;
    Ok(resource_response(StatusCode::OK, body))
}

async fn create_group(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ScimError> {
    let scope = authenticated(&state, &req).await?;
    let body = json_body(payload).await?;
    let created = in_scope(&state, scope, move |conn, scope| {
        let group = groups::create(conn, scope, &body)?;
        groups::resource(conn, scope, &group, groups::Members::Listed)
    })
    .await?;
    Ok(resource_response(StatusCode::CREATED, created))
}

async fn replace_group(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ScimError> {
    let scope = authenticated(&state, &req).await?;
    let body = json_body(payload).await?;
    let (id, wanted) = (id.into_inner(), if_match(&req));
    let replaced = in_scope(&state, scope, move |conn, scope| {
        let group = groups::replace(conn, scope, &id, &body, wanted.as_deref())?;
        groups::resource(conn, scope, &group, groups::Members::Listed)
    })
    .await?;
    Ok(resource_response(StatusCode::OK, replaced))
}

async fn patch_group(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ScimError> {
    let scope = authenticated(&state, &req).await?;
    let request = patch_request(payload).await?;
    let (id, wanted) = (id.into_inner(), if_match(&req));
    let patched = in_scope(&state, scope, move |conn, scope| {
        let group = groups::patch(conn, scope, &id, request, wanted.as_deref())?;
        groups::resource(conn, scope, &group, groups::Members::Listed)
    })
    .await?;
    Ok(resource_response(StatusCode::OK, patched))
}

async fn delete_group(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ScimError> {
    let scope = authenticated(&state, &req).await?;
    let id = id.into_inner();
    in_scope(&state, scope, move |conn, scope| {
        groups::delete(conn, scope, &id)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
