//! The app behind each emulated App Runner service: a real HTTP listener on 127.0.0.1
//! that behaves like the seed project's Wagtail site behind App Runner's front end.
//!
//! A request is routed to an instance with fewer than MaxConcurrency requests (queued
//! while instances start, 429 when every instance is full and the queue too), takes an
//! app thread (runserver: the thread of one of the connections the front end keeps open
//! to the instance, as many as its peak concurrency; gunicorn: one of the bounded pool),
//! opens or reuses that thread's database connection (waiting while the database
//! resumes; PostgreSQL's "remaining connection slots are reserved" as an HTTP 500 when
//! max_connections runs out) and spends its CPU time on the instance's cores in real
//! time. Every request feeds the AWS/AppRunner metrics.

mod instance;
pub mod model;

use super::Shared;
use super::world::Connect;
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use instance::{AppThread, DbConnection, Instance};
use model::Outcome;
use std::convert::Infallible;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::Notify;

pub const TOO_MANY_CONNECTIONS: &str =
    "FATAL:  remaining connection slots are reserved for non-replication superuser connections";

/// App Runner gives up on a request after 120 seconds.
const REQUEST_TIMEOUT: f64 = 120.0;

/// A request in flight at the front: counted in Concurrency until dropped, whatever happens.
struct InFlight {
    shared: Arc<Shared>,
    service: usize,
    started_sim: f64,
    started_real: Instant,
    status: u16,
    cpu_ms: f64,
    /// The instance that answered, for its log stream.
    instance: Option<usize>,
    /// The database's refusal behind a 500, for the app's log.
    db_error: Option<&'static str>,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let (mut world, now) = self.shared.world();
        let latency_ms = ((now - self.started_sim) * 1000.0)
            .max(self.started_real.elapsed().as_secs_f64() * 1000.0);
        world.services[self.service].minute.cpu_busy_ms += self.cpu_ms;
        world.request_finished_on(
            self.service,
            self.instance,
            now,
            self.status,
            latency_ms,
            self.db_error,
        );
    }
}

/// A slot taken on one instance; freed (and a queued request woken) when dropped.
struct Slot<'a> {
    front: &'a Front,
    instance: Arc<Instance>,
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.instance.in_flight.fetch_sub(1, Ordering::Relaxed);
        self.front.freed.notify_waiters();
    }
}

/// App Runner's front end for one service: its instances and its request queue.
struct Front {
    shared: Arc<Shared>,
    service: usize,
    instances: Mutex<Vec<Arc<Instance>>>,
    queued: AtomicU32,
    freed: Notify,
    page: Bytes,
}

impl Front {
    /// The least loaded instance with room under MaxConcurrency: the front end balances
    /// every request, whichever client connection it came on.
    fn try_slot(&self) -> Option<Arc<Instance>> {
        let (ready, max_concurrency, app, vcpus) = {
            let (world, _) = self.shared.world();
            let s = &world.services[self.service];
            let scaling = world.scaling_of(s);
            (
                s.ready_instances.max(1) as usize,
                scaling.max_concurrency.max(1),
                s.app,
                s.vcpus,
            )
        };
        let mut instances = self
            .instances
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        // Instances that went away (idle scale-in) take their threads and connections.
        instances.truncate(ready);
        while instances.len() < ready {
            let index = instances.len();
            let clock = self.shared.clock.clone();
            instances.push(Arc::new(Instance::new(index, app, vcpus, clock)));
        }
        let (i, load) = instances
            .iter()
            .map(|x| x.in_flight.load(Ordering::Relaxed))
            .enumerate()
            .min_by_key(|(_, load)| *load)?;
        if load >= max_concurrency {
            return None;
        }
        instances[i].in_flight.fetch_add(1, Ordering::Relaxed);
        Some(instances[i].clone())
    }

    /// Drops instances App Runner retired and closes idle front-end connections (and
    /// under runserver their threads' database connections).
    fn housekeeping(&self) {
        let (ready, now) = {
            let (world, now) = self.shared.world();
            (
                world.services[self.service].ready_instances.max(1) as usize,
                now,
            )
        };
        let mut instances = self
            .instances
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        instances.truncate(ready);
        for i in instances.iter() {
            i.close_idle_upstreams(now);
        }
    }

    /// Waits for a slot; None when the queue is full (App Runner's 429). The queue holds
    /// up to one instance's MaxConcurrency (unverified on AWS).
    async fn slot(&self) -> Option<(Slot<'_>, Arc<Instance>)> {
        loop {
            let waiting = self.freed.notified();
            if let Some(instance) = self.try_slot() {
                let slot = Slot {
                    front: self,
                    instance: instance.clone(),
                };
                return Some((slot, instance));
            }
            let limit = {
                let (world, _) = self.shared.world();
                world
                    .scaling_of(&world.services[self.service])
                    .max_concurrency
            };
            if self.queued.fetch_add(1, Ordering::Relaxed) >= limit {
                self.queued.fetch_sub(1, Ordering::Relaxed);
                return None;
            }
            // Woken when a slot frees; the timer catches instances that finished starting.
            tokio::select! {
                _ = waiting => {}
                _ = tokio::time::sleep(Duration::from_millis(25)) => {}
                _ = self.shared.shutting_down() => { self.queued.fetch_sub(1, Ordering::Relaxed); return None; }
            }
            self.queued.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

/// Starts the listener for service `service` and returns its port.
pub async fn start(shared: Arc<Shared>, service: usize) -> std::io::Result<u16> {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
    let port = listener.local_addr()?.port();
    let name = shared.world().0.services[service].name.clone();
    let front = Arc::new(Front {
        shared: shared.clone(),
        service,
        instances: Mutex::new(Vec::new()),
        queued: AtomicU32::new(0),
        freed: Notify::new(),
        page: Bytes::from(wagtail_page(&name)),
    });
    let mut shutdown = shared.shutdown.subscribe();
    tokio::spawn({
        let front = front.clone();
        let mut shutdown = shared.shutdown.subscribe();
        async move {
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(500)) => front.housekeeping(),
                    _ = shutdown.changed() => break,
                }
            }
        }
    });
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
            let front = front.clone();
            let mut shutdown = shutdown.clone();
            tokio::spawn(async move {
                let service = service_fn(move |req| {
                    let front = front.clone();
                    async move { Ok::<_, Infallible>(front.handle(req).await) }
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

impl Front {
    async fn handle(&self, _req: Request<Incoming>) -> Response<Full<Bytes>> {
        let cluster = {
            let (mut world, now) = self.shared.world();
            let s = &mut world.services[self.service];
            if let Some(x) = s.express.as_deref_mut() {
                // The load balancer in front of an ECS Express service: it answers 503
                // itself while no target is healthy, and never wakes the service.
                if x.healthy() == 0 {
                    x.elb_503 += 1;
                    return text(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "503 Service Temporarily Unavailable",
                    );
                }
            } else if !s.serving() {
                return text(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Service Unavailable: the App Runner service is paused.",
                );
            }
            let bad_task = s
                .express
                .as_deref_mut()
                .is_some_and(|x| x.route_to_bad_tasks());
            let cluster = s.cluster.clone();
            let cluster = cluster.as_deref().and_then(|c| world.cluster_index(c));
            world.request_started(self.service, now);
            if bad_task {
                // A failing new revision's task: the app crashed on this request.
                drop(world);
                let _in_flight = InFlight {
                    shared: self.shared.clone(),
                    service: self.service,
                    started_sim: now,
                    started_real: Instant::now(),
                    status: 502,
                    cpu_ms: 0.0,
                    instance: None,
                    db_error: None,
                };
                return text(StatusCode::BAD_GATEWAY, "502 Bad Gateway");
            }
            cluster
        };
        let mut in_flight = InFlight {
            shared: self.shared.clone(),
            service: self.service,
            started_sim: self.shared.clock.now(),
            started_real: Instant::now(),
            status: 0,
            cpu_ms: 0.0,
            instance: None,
            db_error: None,
        };
        let response = self.serve(cluster, &mut in_flight).await;
        in_flight.status = response.status().as_u16();
        response
    }

    async fn serve(
        &self,
        cluster: Option<usize>,
        in_flight: &mut InFlight,
    ) -> Response<Full<Bytes>> {
        let Some((slot, instance)) = self.slot().await else {
            return text(StatusCode::TOO_MANY_REQUESTS, "Too Many Requests");
        };
        let Some(mut leased) = instance.thread().await else {
            return text(StatusCode::SERVICE_UNAVAILABLE, "shutting down");
        };
        let thread = &mut leased.thread;
        in_flight.instance = Some(instance.index);
        let app = instance.app;
        let db = match cluster {
            None => Ok(()),
            Some(cluster) => {
                self.ensure_connection(thread, cluster, app.conn_max_age, in_flight.started_sim)
                    .await
            }
        };
        let response = match db {
            Ok(()) => {
                in_flight.cpu_ms += instance.compute(thread.process, Outcome::Page).await;
                let mut r = Response::new(Full::new(self.page.clone()));
                r.headers_mut().insert(
                    hyper::header::CONTENT_TYPE,
                    hyper::header::HeaderValue::from_static("text/html; charset=utf-8"),
                );
                r
            }
            Err(DbFailure::Timeout) => {
                text(StatusCode::GATEWAY_TIMEOUT, "upstream request timeout")
            }
            Err(DbFailure::Error(message)) => {
                in_flight.db_error = Some(message);
                in_flight.cpu_ms += instance.compute(thread.process, Outcome::DbError).await;
                // DEBUG renders the technical 500 page with the error; otherwise
                // Django's plain page says nothing about the cause.
                let body = if app.debug {
                    format!("OperationalError at /\n{message}\n")
                } else {
                    "<h1>Server Error (500)</h1>\n".to_string()
                };
                text(StatusCode::INTERNAL_SERVER_ERROR, &body)
            }
        };
        // CONN_MAX_AGE 0: Django closes the connection when the request ends.
        if app.conn_max_age == 0 {
            thread.db = None;
        }
        drop(leased);
        drop(slot);
        response
    }

    /// Gives the thread a usable connection, waiting (on the emulator's clock) while
    /// the writer resumes.
    async fn ensure_connection(
        &self,
        thread: &mut AppThread,
        cluster: usize,
        conn_max_age: u32,
        started: f64,
    ) -> Result<(), DbFailure> {
        thread.keep_fresh(conn_max_age, self.shared.clock.now());
        if thread.db.is_some() {
            return Ok(());
        }
        loop {
            let (outcome, now) = {
                let (mut world, now) = self.shared.world();
                (world.connect(cluster, now), now)
            };
            match outcome {
                Connect::Connected => {
                    thread.db = Some(DbConnection {
                        shared: self.shared.clone(),
                        cluster,
                        opened_at: now,
                    });
                    return Ok(());
                }
                Connect::WaitUntil(t) => {
                    if t - started > REQUEST_TIMEOUT {
                        return Err(DbFailure::Timeout);
                    }
                    self.shared.clock.sleep_until(t).await;
                }
                Connect::TooManyConnections => {
                    return Err(DbFailure::Error(TOO_MANY_CONNECTIONS));
                }
                Connect::Refused(message) => return Err(DbFailure::Error(message)),
            }
        }
    }
}

enum DbFailure {
    Timeout,
    Error(&'static str),
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
