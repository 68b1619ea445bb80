//! Rendering askama templates into responses.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use askama::Template;

use super::Error;

/// A page with status 200.
pub fn render(page: &impl Template) -> Result<HttpResponse, Error> {
    render_with(StatusCode::OK, page)
}

/// A CSV file to download, saved as `file_name` (made of our own words
/// and ids only: it goes into a header).
pub fn csv_download(file_name: &str, body: Vec<u8>) -> HttpResponse {
    use actix_web::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
    HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "text/csv; charset=utf-8"))
        .insert_header((
            CONTENT_DISPOSITION,
            format!("attachment; filename=\"{file_name}\""),
        ))
        .body(body)
}

/// A page with another status (a form shown again with its errors, say).
pub fn render_with(status: StatusCode, page: &impl Template) -> Result<HttpResponse, Error> {
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(page.render()?))
}

#[derive(Template)]
#[template(path = "errors/error.html")]
struct ErrorPage<'a> {
    title: &'a str,
    explanation: &'a str,
    reference: &'a str,
}

/// The error page; falls back to plain text should the template itself fail.
pub fn error_page(
    status: StatusCode,
    title: &str,
    explanation: &str,
    reference: &str,
) -> HttpResponse {
    let page = ErrorPage {
        title,
        explanation,
        reference,
    };
    match page.render() {
        Ok(html) => HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .body(html),
        Err(_) => HttpResponse::build(status)
            .content_type("text/plain; charset=utf-8")
            .body(format!(
                "{title}\n\n{explanation}\n\nReference: {reference}\n"
            )),
    }
}

/// "the password ..." becomes "The password ...": domain messages are written
/// to follow a colon, a page shows them as a sentence.
pub fn sentence(message: &str) -> String {
    let mut chars = message.chars();
    match chars.next() {
        Some(first) => format!("{}{}.", first.to_uppercase(), chars.as_str()),
        None => String::new(),
    }
}

/// Query-string encoding of one value.
pub fn encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}
