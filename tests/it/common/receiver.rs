//! A webhook receiver on a loopback port: records every request it gets,
//! answers 500 to the first `failures`, and, while `hang` is set, takes the
//! request and never answers (as a receiver stuck behind a dead load
//! balancer does).

use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};

/// One request as it arrived.
#[derive(Clone, Debug)]
pub struct Received {
    pub delivery: String,
    pub event: String,
    pub signature: String,
    pub body: String,
    /// Whether it was answered 2xx.
    pub accepted: bool,
}

#[derive(Default)]
struct Shared {
    received: Mutex<Vec<Received>>,
    failures: AtomicUsize,
    hang: AtomicBool,
}

pub struct Receiver {
    pub url: String,
    shared: Arc<Shared>,
    server: Option<(actix_web::dev::ServerHandle, std::thread::JoinHandle<()>)>,
}

async fn receive(
    request: HttpRequest,
    body: web::Bytes,
    shared: web::Data<Arc<Shared>>,
) -> HttpResponse {
    let header = |name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let hang = shared.hang.load(Ordering::SeqCst);
    let fail = !hang
        && shared
            .failures
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
    shared
        .received
        .lock()
        .expect("not poisoned")
        .push(Received {
            delivery: header("seatgate-delivery"),
            event: header("seatgate-event"),
            signature: header("seatgate-signature"),
            body: String::from_utf8_lossy(&body).into_owned(),
            accepted: !hang && !fail,
        });
    if hang {
        actix_rt::time::sleep(std::time::Duration::from_secs(120)).await;
    }
    if fail {
        HttpResponse::InternalServerError().finish()
    } else {
        HttpResponse::NoContent().finish()
    }
}

impl Receiver {
    pub fn start() -> Self {
        let shared = Arc::new(Shared::default());
        let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
        let url = format!("http://{}/hooks", listener.local_addr().expect("address"));
        let (sender, handle) = std::sync::mpsc::channel();
        let data = shared.clone();
        let thread = std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let server = HttpServer::new(move || {
                    App::new()
                        .app_data(web::Data::new(data.clone()))
                        .route("/hooks", web::post().to(receive))
                })
                .workers(1)
                .shutdown_timeout(0)
                .listen(listener)
                .expect("listen")
                .run();
                sender.send(server.handle()).expect("hand over");
                server.await.expect("the receiver runs");
            });
        });
        Receiver {
            url,
            shared,
            server: Some((handle.recv().expect("the receiver starts"), thread)),
        }
    }

    /// Answers 500 to the next `n` requests.
    pub fn fail_next(&self, n: usize) {
        self.shared.failures.store(n, Ordering::SeqCst);
    }

    pub fn hang(&self, on: bool) {
        self.shared.hang.store(on, Ordering::SeqCst);
    }

    pub fn received(&self) -> Vec<Received> {
        self.shared.received.lock().expect("not poisoned").clone()
    }

    /// The accepted requests once there are `n` of them; fails after `seconds`.
    pub async fn accepted(&self, n: usize, seconds: u64) -> Vec<Received> {
        for _ in 0..seconds * 10 {
            let accepted: Vec<Received> =
                self.received().into_iter().filter(|r| r.accepted).collect();
            if accepted.len() >= n {
                return accepted;
            }
            actix_rt::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!(
            "the receiver got {:?}, not {n} accepted deliveries",
            self.received()
        );
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        if let Some((handle, thread)) = self.server.take() {
            std::thread::spawn(move || {
                actix_web::rt::System::new().block_on(handle.stop(false));
            })
            .join()
            .expect("the receiver stops");
            thread.join().expect("the receiver thread ends");
        }
    }
}
