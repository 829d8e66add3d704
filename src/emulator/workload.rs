//! The app behind each emulated App Runner service: a real HTTP listener on 127.0.0.1
//! that behaves like the seed project's Wagtail site. A request waits while the database
//! resumes (the cold start), holds a database connection the way Django does, and gets
//! PostgreSQL's "remaining connection slots are reserved" error as an HTTP 500 when the
//! cluster's max_connections runs out. Every request feeds the AWS/AppRunner metrics.

use super::Shared;
use super::world::Connect;
use super::world::service::AppServer;
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

pub const TOO_MANY_CONNECTIONS: &str =
    "FATAL:  remaining connection slots are reserved for non-replication superuser connections";

/// App Runner gives up on a request after 120 seconds.
const REQUEST_TIMEOUT: f64 = 120.0;

/// One database connection held by the app; closing it is dropping it.
struct DbConnection {
    shared: Arc<Shared>,
    cluster: usize,
}

impl Drop for DbConnection {
    fn drop(&mut self) {
        let (mut world, now) = self.shared.world();
        world.disconnect(self.cluster, now);
    }
}

/// A request in flight: counted in Concurrency until it is dropped, whatever happens.
struct InFlight {
    shared: Arc<Shared>,
    service: usize,
    started_sim: f64,
    started_real: Instant,
    status: u16,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let (mut world, now) = self.shared.world();
        let latency_ms = ((now - self.started_sim) * 1000.0)
            .max(self.started_real.elapsed().as_secs_f64() * 1000.0);
        world.request_finished(self.service, now, self.status, latency_ms);
    }
}

/// Per client connection: under a thread-per-connection server the database connection
/// stays with the client connection (conn_max_age), until the client goes away.
#[derive(Default)]
struct ClientConnection {
    db: Mutex<Option<DbConnection>>,
}

struct App {
    shared: Arc<Shared>,
    service: usize,
    workers: Option<Arc<Semaphore>>,
    page: Bytes,
}

/// Starts the listener for service `service` and returns its port.
pub async fn start(shared: Arc<Shared>, service: usize) -> std::io::Result<u16> {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
    let port = listener.local_addr()?.port();
    let (app_server, max_size, name) = {
        let (world, _) = shared.world();
        let s = &world.services[service];
        (s.app_server, world.scaling_of(s).max_size, s.name.clone())
    };
    let workers = match app_server {
        AppServer::ThreadPerConnection => None,
        AppServer::BoundedWorkers { workers } => Some(Arc::new(Semaphore::new(
            (workers * max_size.max(1)) as usize,
        ))),
    };
    let app = Arc::new(App {
        shared: shared.clone(),
        service,
        workers,
        page: Bytes::from(wagtail_page(&name)),
    });
    let mut shutdown = shared.shutdown.subscribe();
    tokio::spawn(async move {
        loop {
            let stream = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((stream, _)) => stream,
                    Err(e) => {
                        tracing::warn!(error = %e, "workload accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
                _ = shutdown.changed() => break,
            };
            let _ = stream.set_nodelay(true);
            let app = app.clone();
            let mut shutdown = shutdown.clone();
            tokio::spawn(async move {
                let client = Arc::new(ClientConnection::default());
                let service = service_fn(move |req| {
                    let app = app.clone();
                    let client = client.clone();
                    async move { Ok::<_, Infallible>(app.handle(req, &client).await) }
                });
                let conn = http1::Builder::new().serve_connection(TokioIo::new(stream), service);
                tokio::select! {
                    _ = conn => {}
                    _ = shutdown.changed() => {}
                }
            });
        }
    });
    Ok(port)
}

fn text(status: StatusCode, body: &str) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body.to_string())));
    *r.status_mut() = status;
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

impl App {
    async fn handle(
        &self,
        _req: Request<Incoming>,
        client: &ClientConnection,
    ) -> Response<Full<Bytes>> {
        let cluster = {
            let (mut world, now) = self.shared.world();
            let s = &world.services[self.service];
            if !s.serving() {
                return text(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Service Unavailable: the App Runner service is paused.",
                );
            }
            let cluster = s.cluster.as_deref().and_then(|c| world.cluster_index(c));
            world.request_started(self.service, now);
            cluster
        };
        let mut in_flight = InFlight {
            shared: self.shared.clone(),
            service: self.service,
            started_sim: self.shared.clock.now(),
            started_real: Instant::now(),
            status: 0,
        };
        let response = self.serve(cluster, client, in_flight.started_sim).await;
        in_flight.status = response.status().as_u16();
        response
    }

    async fn serve(
        &self,
        cluster: Option<usize>,
        client: &ClientConnection,
        started: f64,
    ) -> Response<Full<Bytes>> {
        let _worker = match &self.workers {
            // gunicorn: wait for a free worker thread instead of opening more connections.
            Some(pool) => match pool.clone().acquire_owned().await {
                Ok(permit) => Some(permit),
                Err(_) => return text(StatusCode::SERVICE_UNAVAILABLE, "shutting down"),
            },
            None => None,
        };
        let _request_connection = match cluster {
            None => None,
            Some(cluster) => {
                let reuse = self.workers.is_none()
                    && client
                        .db
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .is_some();
                if reuse {
                    None
                } else {
                    match self.connect(cluster, started).await {
                        Ok(conn) if self.workers.is_none() => {
                            // runserver + conn_max_age: the connection stays with the client.
                            *client.db.lock().unwrap_or_else(PoisonError::into_inner) = Some(conn);
                            None
                        }
                        Ok(conn) => Some(conn),
                        Err(response) => return response,
                    }
                }
            }
        };
        // Rendering a Wagtail page: a few milliseconds of real work.
        tokio::time::sleep(Duration::from_millis(3)).await;
        let mut r = Response::new(Full::new(self.page.clone()));
        r.headers_mut().insert(
            hyper::header::CONTENT_TYPE,
            hyper::header::HeaderValue::from_static("text/html; charset=utf-8"),
        );
        r
    }

    /// Opens a connection, waiting (on the emulator's clock) while the writer resumes.
    async fn connect(
        &self,
        cluster: usize,
        started: f64,
    ) -> Result<DbConnection, Response<Full<Bytes>>> {
        loop {
            let outcome = {
                let (mut world, now) = self.shared.world();
                world.connect(cluster, now)
            };
            match outcome {
                Connect::Connected => {
                    return Ok(DbConnection {
                        shared: self.shared.clone(),
                        cluster,
                    });
                }
                Connect::WaitUntil(t) => {
                    if t - started > REQUEST_TIMEOUT {
                        return Err(text(
                            StatusCode::GATEWAY_TIMEOUT,
                            "upstream request timeout",
                        ));
                    }
                    self.shared.clock.sleep_until(t).await;
                }
                Connect::TooManyConnections => {
                    return Err(text(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        &format!("OperationalError at /\n{TOO_MANY_CONNECTIONS}\n"),
                    ));
                }
                Connect::Refused(message) => {
                    return Err(text(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        &format!("OperationalError at /\n{message}\n"),
                    ));
                }
            }
        }
    }
}

/// A page about the size of the seed's Wagtail home page (6,792 bytes).
fn wagtail_page(service: &str) -> String {
    let mut page = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Welcome to your new Wagtail site! - {service}</title></head><body><main><h1>Welcome to your new Wagtail site!</h1><p>Served by {service} on the scale0 emulator.</p>"
    );
    while page.len() < 6700 {
        page.push_str("<p>Wagtail is an open source content management system built on Django, with a strong community and commercial support.</p>\n");
    }
    page.push_str("</main></body></html>\n");
    page
}
