//! Real headless Chromium through chromedriver, for the flows people click through.
//! Missing Chromium fails the test loudly: `scripts/setup --test` installs it.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

pub struct Browser {
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
    /// Where downloads land, without asking.
    pub downloads: tempfile::TempDir,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

impl Browser {
    pub async fn start() -> Self {
        for binary in [CHROMIUM, CHROMEDRIVER] {
            assert!(
                Path::new(binary).exists(),
                "browser tests need {binary}: install Debian's chromium and chromium-driver (scripts/setup --test)"
            );
        }
        let port = free_port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let profile = tempfile::tempdir().expect("profile dir");
        let downloads = tempfile::tempdir().expect("downloads dir");
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({
                "binary": CHROMIUM,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run",
                    "--window-size=1200,900", format!("--user-data-dir={}", profile.path().display()),
                ],
                "prefs": {
                    "download.default_directory": downloads.path().display().to_string(),
                    "download.prompt_for_download": false,
                },
            }),
        );
        let url = format!("http://127.0.0.1:{port}");
        let mut last_error = None;
        for _ in 0..100 {
            match ClientBuilder::new(HttpConnector::new())
                .capabilities(capabilities.clone())
                .connect(&url)
                .await
            {
                Ok(client) => {
                    return Browser {
                        client,
                        driver,
                        _profile: profile,
                        downloads,
                    };
                }
                Err(e) => {
                    last_error = Some(e);
                    actix_rt::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
        panic!("chromedriver did not start a Chromium session: {last_error:?}");
    }

    /// Saves a PNG of the current page as `target/screenshots/{name}.png`.
    pub async fn screenshot(&self, name: &str) {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
        std::fs::create_dir_all(&dir).expect("screenshot folder");
        // The whole page, not just the window: grow the window to the page's
        // height for the picture, then put it back.
        let height = self
            .client
            .execute("return document.documentElement.scrollHeight", vec![])
            .await
            .ok()
            .and_then(|h| h.as_u64())
            .and_then(|h| u32::try_from(h).ok())
            .unwrap_or(900)
            .clamp(900, 6000);
        self.client
            .set_window_size(1200, height + 120)
            .await
            .expect("resize for the screenshot");
        let png = self.client.screenshot().await.expect("screenshot");
        self.client
            .set_window_size(1200, 900)
            .await
            .expect("restore the window");
        std::fs::write(dir.join(format!("{name}.png")), png).expect("write screenshot");
    }

    /// A browser signed in to `org`'s console as a new administrator
    /// `email`, as a person does it: the one-time link, a password, the
    /// console's first page.
    pub async fn admin(app: &super::TestApp, org: &str, email: &str) -> Self {
        const PASSWORD: &str = "a long enough passphrase";
        let org = app.org(org);
        let link = {
            let mut conn = app.store.connection().expect("connection");
            seatgate::accounts::admins::create_with_link(
                &mut conn,
                &app.clock.clock(),
                &app.settings.base_url,
                &org,
                email.parse().expect("an email"),
                false,
            )
            .expect("admin link")
            .url
        };
        let browser = Self::start().await;
        let c = &browser.client;
        c.goto(&link).await.expect("open the link");
        fill(c, "password", PASSWORD).await;
        fill(c, "confirmation", PASSWORD).await;
        click(c, "button[type=submit]").await;
        wait_for(c, "Identity providers").await;
        browser
    }

    /// The downloaded file `name`, once Chromium has finished writing it;
    /// fails after ten seconds.
    pub async fn downloaded(&self, name: &str) -> String {
        let path = self.downloads.path().join(name);
        for _ in 0..100 {
            if let Ok(text) = std::fs::read_to_string(&path) {
                return text;
            }
            actix_rt::time::sleep(Duration::from_millis(100)).await;
        }
        let found: Vec<_> = std::fs::read_dir(self.downloads.path())
            .map(|d| d.filter_map(Result::ok).map(|e| e.file_name()).collect())
            .unwrap_or_default();
        panic!("{name} was never downloaded; the folder holds {found:?}");
    }

    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
    }
}

/// The element, once the page shows it: after a click the next page may still
/// be loading. Fails after ten seconds.
pub async fn element(c: &Client, css: &str) -> fantoccini::elements::Element {
    for _ in 0..100 {
        if let Ok(found) = c.find(Locator::Css(css)).await {
            return found;
        }
        actix_rt::time::sleep(Duration::from_millis(100)).await;
    }
    let text = match c.find(Locator::Css("body")).await {
        Ok(body) => body.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    };
    panic!(
        "no {css} on {:?}; the page says: {text}",
        c.current_url().await.map(|u| u.to_string())
    );
}

pub async fn fill(c: &Client, id: &str, value: &str) {
    let field = element(c, &format!("#{id}")).await;
    field.clear().await.expect("clear");
    field.send_keys(value).await.expect("type");
}

pub async fn click(c: &Client, css: &str) {
    element(c, css).await.click().await.expect("click");
}

/// The page's text once it contains `expected` (pages in between, like the
/// demo IdP's self-posting form, may come and go); fails after ten seconds.
pub async fn wait_for(c: &Client, expected: &str) -> String {
    wait_for_within(c, expected, Duration::from_secs(10)).await
}

/// As [`wait_for`], for pages that take longer (a job's progress).
pub async fn wait_for_within(c: &Client, expected: &str, within: Duration) -> String {
    let mut last = String::new();
    for _ in 0..within.as_millis() / 100 {
        if let Ok(body) = c.find(Locator::Css("body")).await
            && let Ok(text) = body.text().await
        {
            if text.contains(expected) {
                return text;
            }
            last = text;
        }
        actix_rt::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the page never said {expected:?}; it says: {last}");
}
