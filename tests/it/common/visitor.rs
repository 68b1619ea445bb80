//! A browser stand-in for HTTP-level tests: keeps the session cookie (and
//! any other cookie Seatgate sets, sent back to every path), does not follow
//! redirects.

use awc::Client;
use awc::http::StatusCode;

pub struct Visitor {
    client: Client,
    base: String,
    pub cookie: Option<String>,
    /// The Max-Age of the last session cookie set, in seconds.
    pub cookie_max_age: Option<i64>,
    /// Other cookies, by name.
    others: std::collections::BTreeMap<String, String>,
}

pub struct Page {
    pub status: StatusCode,
    pub location: Option<String>,
    /// Retry-After, in seconds.
    pub retry_after: Option<u64>,
    /// X-Request-Id: the id the request is logged under.
    pub request_id: Option<String>,
    pub body: String,
}

impl Page {
    /// The value of the form's hidden CSRF field.
    pub fn csrf_token(&self) -> String {
        let marker = "name=\"csrf_token\" value=\"";
        let start = self.body.find(marker).expect("the page has a CSRF field") + marker.len();
        let end = self.body[start..].find('"').expect("closing quote") + start;
        self.body[start..end].to_owned()
    }
}

impl Visitor {
    pub fn new(base: &str) -> Self {
        Self {
            // Generous: concurrency tests queue hundreds of sign-ins on two busy cores.
            client: Client::builder()
                .disable_redirects()
                .timeout(std::time::Duration::from_secs(120))
                .finish(),
            base: base.to_owned(),
            cookie: None,
            cookie_max_age: None,
            others: std::collections::BTreeMap::new(),
        }
    }

    /// The Cookie header a browser would send.
    fn cookie_header(&self) -> Option<String> {
        let pairs: Vec<String> = self
            .cookie
            .iter()
            .map(|token| format!("seatgate={token}"))
            .chain(self.others.iter().map(|(k, v)| format!("{k}={v}")))
            .collect();
        (!pairs.is_empty()).then(|| pairs.join("; "))
    }

    pub async fn get(&mut self, path: &str) -> Page {
        self.get_with(path, &[]).await
    }

    /// A GET with extra headers (`Authorization`, say).
    pub async fn get_with(&mut self, path: &str, headers: &[(&str, &str)]) -> Page {
        let mut request = self.client.get(format!("{}{path}", self.base));
        if let Some(cookie) = self.cookie_header() {
            request = request.insert_header(("Cookie", cookie));
        }
        for (name, value) in headers {
            request = request.insert_header((*name, *value));
        }
        self.finish(request.send().await.expect("GET")).await
    }

    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        self.post_with(path, form, &[]).await
    }

    pub async fn post_with(
        &mut self,
        path: &str,
        form: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> Page {
        let mut request = self.client.post(format!("{}{path}", self.base));
        if let Some(cookie) = self.cookie_header() {
            request = request.insert_header(("Cookie", cookie));
        }
        for (name, value) in headers {
            request = request.insert_header((*name, *value));
        }
        self.finish(request.send_form(&form).await.expect("POST"))
            .await
    }

    /// Posts a `multipart/form-data` form: text fields, then files as
    /// (field, file name, content).
    pub async fn post_multipart(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        files: &[(&str, &str, &[u8])],
    ) -> Page {
        const BOUNDARY: &str = "----seatgate-test-boundary-7d1f";
        let mut body = Vec::new();
        for (name, value) in fields {
            body.extend_from_slice(
                format!(
                    "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
                )
                .as_bytes(),
            );
        }
        for (name, file_name, content) in files {
            body.extend_from_slice(
                format!(
                    "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
                )
                .as_bytes(),
            );
            body.extend_from_slice(content);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
        let mut request = self
            .client
            .post(format!("{}{path}", self.base))
            .insert_header((
                "Content-Type",
                format!("multipart/form-data; boundary={BOUNDARY}"),
            ));
        if let Some(cookie) = self.cookie_header() {
            request = request.insert_header(("Cookie", cookie));
        }
        self.finish(request.send_body(body).await.expect("POST"))
            .await
    }

    async fn finish<S>(&mut self, mut response: awc::ClientResponse<S>) -> Page
    where
        S: futures_core::Stream<Item = Result<actix_web::web::Bytes, awc::error::PayloadError>>
            + Unpin,
    {
        for value in response.headers().get_all("set-cookie") {
            let text = value.to_str().expect("ASCII cookie");
            let pair = text.split(';').next().expect("cookie pair");
            if let Some((name, value)) = pair.split_once('=')
                && name != "seatgate"
            {
                if value.is_empty() {
                    self.others.remove(name);
                } else {
                    self.others.insert(name.to_owned(), value.to_owned());
                }
            }
            if let Some(token) = pair.strip_prefix("seatgate=") {
                self.cookie = (!token.is_empty()).then(|| token.to_owned());
                self.cookie_max_age = text
                    .split(';')
                    .find_map(|part| part.trim().strip_prefix("Max-Age="))
                    .and_then(|seconds| seconds.parse().ok());
            }
        }
        let location = response
            .headers()
            .get("location")
            .map(|v| v.to_str().expect("ASCII location").to_owned());
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()?.parse().ok());
        let request_id = response
            .headers()
            .get("x-request-id")
            .map(|v| v.to_str().expect("ASCII request id").to_owned());
        let body = response.body().limit(1 << 20).await.expect("body");
        Page {
            status: response.status(),
            location,
            retry_after,
            request_id,
            body: String::from_utf8_lossy(&body).into_owned(),
        }
    }
}
