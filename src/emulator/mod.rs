//! The embedded local AWS region: one HTTP endpoint on 127.0.0.1 that speaks App Runner,
//! ECR, RDS, CloudWatch and the RDS Data API for the official SDKs and the AWS CLI, plus
//! one real HTTP listener per emulated service. Admin routes under `/_scale0/` move the
//! clock and inject faults (see README).

pub mod accounts;
pub mod admin;
pub mod admin_scheduler;
pub mod api;
pub mod faults;
pub mod protocol;
pub mod runtime_record;
pub mod seed;
pub mod shapes;
pub mod sso;
pub mod workload;
pub mod world;
pub mod world_file;

use crate::clock::Clock;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, Uri};
use axum::response::Response;
use faults::Faults;
use protocol::{GenericError, Wire};
use shapes::AwsService;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use world::World;

#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    #[error("could not listen on 127.0.0.1:{port}: {source}")]
    Bind { port: u16, source: std::io::Error },
    #[error("could not start the app listener for service {service}: {source}")]
    Workload {
        service: String,
        source: std::io::Error,
    },
    #[error("the emulator's clock speed must be a finite number >= 0, got {0}")]
    BadSpeed(f64),
}

/// Which world the emulator starts with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seed {
    /// Several developers' environments in different states, with 24 h of history.
    Demo,
    /// Nothing at all: tests add what they need.
    Empty,
}

#[derive(Clone, Debug)]
pub struct Options {
    /// 0 picks any free port.
    pub port: u16,
    /// Emulated seconds per real second; 0 freezes the clock (tests advance it).
    pub speed: f64,
    pub seed: Seed,
    pub region: String,
    /// Emulated start time (epoch seconds); now if absent.
    pub start_time: Option<f64>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            port: 0,
            speed: 1.0,
            seed: Seed::Demo,
            region: "us-east-1".into(),
            start_time: None,
        }
    }
}

/// State shared by the API endpoint, the admin routes and the app listeners.
pub struct Shared {
    world: Mutex<World>,
    pub clock: Clock,
    faults: Mutex<Faults>,
    /// API calls served, by "service:Operation" (GET /_scale0/stats).
    calls: Mutex<std::collections::BTreeMap<String, u64>>,
    shutdown: watch::Sender<bool>,
    /// IAM Identity Center's clients, device codes and tokens.
    sso: Mutex<sso::Directory>,
    /// The other accounts' worlds and whose access keys are whose (first account only).
    accounts: Mutex<accounts::Registry>,
}

impl Shared {
    fn new(world: World, clock: Clock) -> Shared {
        let (shutdown, _) = watch::channel(false);
        Shared {
            world: Mutex::new(world),
            clock,
            faults: Mutex::new(Faults::default()),
            calls: Mutex::new(Default::default()),
            shutdown,
            sso: Mutex::default(),
            accounts: Mutex::default(),
        }
    }

    /// The world, caught up to the clock's present, and that present.
    pub fn world(&self) -> (MutexGuard<'_, World>, f64) {
        let now = self.clock.now();
        let mut world = self.world.lock().unwrap_or_else(PoisonError::into_inner);
        world.catch_up(now);
        (world, now)
    }

    /// Processes everything due and returns the present.
    pub fn catch_up(&self) -> f64 {
        let (_world, now) = self.world();
        now
    }

    /// API calls served so far, by "service:Operation".
    pub fn calls(&self) -> std::collections::BTreeMap<String, u64> {
        self.calls
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn count_call(&self, service: AwsService, operation: &str) {
        let mut calls = self.calls.lock().unwrap_or_else(PoisonError::into_inner);
        *calls
            .entry(format!("{}:{operation}", service.name()))
            .or_default() += 1;
    }

    pub fn faults(&self) -> MutexGuard<'_, Faults> {
        self.faults.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Resolves when the emulator shuts down.
    pub async fn shutting_down(&self) {
        let mut rx = self.shutdown.subscribe();
        while !*rx.borrow_and_update() {
            if rx.changed().await.is_err() {
                return;
            }
        }
    }
}

pub struct Emulator {
    shared: Arc<Shared>,
    endpoint: String,
    server: tokio::task::JoinHandle<()>,
}

impl Emulator {
    pub async fn start(options: Options) -> Result<Emulator, EmulatorError> {
        if !options.speed.is_finite() || options.speed < 0.0 {
            return Err(EmulatorError::BadSpeed(options.speed));
        }
        let start = options.start_time.unwrap_or_else(crate::clock::wall_now);
        let clock = Clock::starting_at(start, options.speed);
        let mut world = World::empty(&options.region, start);
        // Due schedules call the region's own operations, as their targets say.
        world.scheduler.invoker = Some(api::scheduler::invoke_target);
        if options.seed == Seed::Demo {
            seed::demo(&mut world, start);
        }
        let shared = Arc::new(Shared::new(world, clock));
        let listener = TcpListener::bind(("127.0.0.1", options.port))
            .await
            .map_err(|source| EmulatorError::Bind {
                port: options.port,
                source,
            })?;
        let addr: SocketAddr = listener
            .local_addr()
            .map_err(|source| EmulatorError::Bind {
                port: options.port,
                source,
            })?;
        let service_count = shared.world().0.services.len();
        for i in 0..service_count {
            start_workload(&shared, i).await?;
        }
        if options.seed == Seed::Demo {
            // A second account to look at: production, read-only by its alias.
            accounts::add(
                &shared,
                accounts::PRODUCTION,
                accounts::PRODUCTION_ALIAS,
                accounts::AccountSeed::Production,
            )
            .await?;
            shared.map_key(accounts::PRODUCTION_KEY, accounts::PRODUCTION);
        }
        let router = admin::routes()
            .merge(sso::routes())
            .merge(accounts::routes())
            .merge(admin_scheduler::routes())
            .fallback(aws_request)
            .layer(axum::middleware::from_fn_with_state(
                shared.clone(),
                date_header,
            ))
            .layer(axum::middleware::from_fn(bounded_body))
            .with_state(shared.clone());
        let mut stop = shared.shutdown.subscribe();
        let server = tokio::spawn(async move {
            let serve = axum::serve(listener, router).with_graceful_shutdown(async move {
                let _ = stop.changed().await;
            });
            if let Err(e) = serve.await {
                tracing::error!(error = %e, "emulator endpoint stopped");
            }
        });
        // Lets time-driven transitions happen at real speed even when nobody asks.
        let ticker = shared.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {
                        ticker.catch_up();
                        for other in ticker.other_accounts() {
                            other.catch_up();
                        }
                    }
                    _ = ticker.shutting_down() => break,
                }
            }
        });
        Ok(Emulator {
            shared,
            endpoint: format!("http://{addr}"),
            server,
        })
    }

    /// The URL to give AWS clients as endpoint_url.
    pub fn endpoint_url(&self) -> &str {
        &self.endpoint
    }

    pub fn clock(&self) -> &Clock {
        &self.shared.clock
    }

    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// Advances the emulated clock, processing everything due on the way.
    pub fn advance(&self, seconds: f64) {
        self.shared.clock.advance(seconds);
        self.shared.catch_up();
    }

    /// Reads or changes the world (caught up to now) from Rust code such as tests.
    pub fn with_world<R>(&self, f: impl FnOnce(&mut World, f64) -> R) -> R {
        let (mut world, now) = self.shared.world();
        f(&mut world, now)
    }

    /// Adds an environment and starts its app listener.
    pub async fn add_environment(&self, spec: seed::EnvSpec) -> Result<(), EmulatorError> {
        let service = {
            let (mut world, now) = self.shared.world();
            seed::add_environment(&mut world, &spec, now)
        };
        if let Some(i) = service {
            start_workload(&self.shared, i).await?;
        }
        Ok(())
    }

    /// Stops the endpoint and every app listener; stalled requests end too.
    pub async fn shutdown(self) {
        for other in self.shared.other_accounts() {
            other.shutdown.send_replace(true);
        }
        self.shared.shutdown.send_replace(true);
        if tokio::time::timeout(Duration::from_secs(3), self.server)
            .await
            .is_err()
        {
            tracing::warn!("emulator endpoint did not stop within 3 s");
        }
    }
}

async fn start_workload(shared: &Arc<Shared>, i: usize) -> Result<(), EmulatorError> {
    let port =
        workload::start(shared.clone(), i)
            .await
            .map_err(|source| EmulatorError::Workload {
                service: shared.world().0.services[i].name.clone(),
                source,
            })?;
    shared.world().0.services[i].port = port;
    Ok(())
}

/// Starts the listener of every service that has none yet.
async fn start_new_workloads(shared: &Arc<Shared>) {
    let new: Vec<usize> = {
        let (world, _) = shared.world();
        (0..world.services.len())
            .filter(|&i| world.services[i].port == 0)
            .collect()
    };
    for i in new {
        if let Err(e) = start_workload(shared, i).await {
            tracing::warn!(error = %e, "no listener for a new service");
        }
    }
}

/// Every answer carries the emulated clock's `Date`, as AWS's carry AWS's: clients take
/// the server's time from it.
async fn date_header(
    State(shared): State<Arc<Shared>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let mut response = next.run(request).await;
    let date = crate::backend::server_clock::format_http_date(shared.clock.now());
    if let Ok(value) = axum::http::HeaderValue::from_str(&date) {
        response
            .headers_mut()
            .insert(axum::http::header::DATE, value);
    }
    response
}

/// Every AWS API call: decode, apply faults, run, encode.
async fn aws_request(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    // The world of the account the credentials belong to.
    let shared = shared.for_request(&headers);
    let request_id = uuid::Uuid::new_v4().to_string();
    let request = match protocol::decode(&method, uri.path(), uri.query(), &headers, &body) {
        Ok(r) => r,
        Err(e) => {
            tracing::debug!(
                path = uri.path(),
                code = e.error.code,
                "undecodable request"
            );
            return protocol::encode_error(
                e.service.unwrap_or(AwsService::Rds),
                e.wire.unwrap_or(Wire::Json { version: "1.0" }),
                &e.error,
                &request_id,
            );
        }
    };
    shared.count_call(request.service, &request.operation);
    let effect = shared.faults().apply(request.service, &request.operation);
    if effect.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(effect.latency_ms)).await;
    }
    if effect.stall {
        // No answer until the client gives up or the emulator stops.
        shared.shutting_down().await;
    }
    let generic = |kind: GenericError, message: &str| {
        api::ApiError::new(
            protocol::generic_code(request.service, request.wire, kind),
            message,
        )
        .with_status(kind.status())
    };
    let result = match effect.error {
        Some(kind) => Err(generic(
            kind,
            match kind {
                GenericError::Throttling => "Rate exceeded",
                GenericError::AccessDenied => {
                    "User: arn:aws:iam::123456789012:user/scale0-demo is not authorized to perform this operation"
                }
                GenericError::ExpiredToken => {
                    "The security token included in the request is expired"
                }
                _ => "An internal error occurred (injected by /_scale0/faults)",
            },
        )),
        None => {
            let known = request.service.model().has_operation(&request.operation);
            match known
                .then(|| api::call(&shared, request.service, &request.operation, &request.input))
            {
                Some(Some(result)) => result,
                _ => Err(generic(
                    GenericError::UnknownOperation,
                    &format!(
                        "The operation {} is not supported by the scale0 emulator's {} service.",
                        request.operation,
                        request.service.name()
                    ),
                )),
            }
        }
    };
    if result.is_ok() && request.service == AwsService::Ecs {
        // CreateExpressGatewayService added a service: its load balancer listens now.
        start_new_workloads(&shared).await;
    }
    match result {
        Ok(output) => {
            tracing::debug!(
                service = request.service.name(),
                op = request.operation,
                "ok"
            );
            let response = protocol::encode_ok(&request, &output, &request_id);
            if effect.malformed {
                return malformed(response).await;
            }
            response
        }
        Err(error) => {
            tracing::debug!(
                service = request.service.name(),
                op = request.operation,
                code = error.code,
                "error"
            );
            protocol::encode_error(request.service, request.wire, &error, &request_id)
        }
    }
}

/// How long a request's body may take to arrive: a Content-Length that promises more
/// than is sent gets a 400 after this, not a connection held forever.
const BODY_TIMEOUT: Duration = Duration::from_secs(2);
/// Larger bodies are refused (no operation scale0 emulates takes more).
const BODY_LIMIT: usize = 8 << 20;

/// Reads the whole request body within [`BODY_TIMEOUT`] and [`BODY_LIMIT`], answering an
/// AWS-shaped 400 otherwise (and closing the connection, whose framing is now unknown).
async fn bounded_body(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let (parts, body) = request.into_parts();
    let read = tokio::time::timeout(BODY_TIMEOUT, axum::body::to_bytes(body, BODY_LIMIT)).await;
    let message = match read {
        Ok(Ok(bytes)) => {
            let request = axum::extract::Request::from_parts(parts, axum::body::Body::from(bytes));
            return next.run(request).await;
        }
        Ok(Err(_)) => "The request body is too large or was cut off.",
        Err(_) => "The request body did not arrive in time: is its Content-Length right?",
    };
    let body = serde_json::json!({"__type": "IncompleteBody", "message": message});
    let mut response = axum::response::IntoResponse::into_response((
        axum::http::StatusCode::BAD_REQUEST,
        [
            ("content-type", "application/x-amz-json-1.0"),
            ("x-amzn-errortype", "IncompleteBody"),
            ("connection", "close"),
        ],
        body.to_string(),
    ));
    response
        .headers_mut()
        .remove(axum::http::header::CONTENT_LENGTH);
    response
}

/// The injected malformed answer: the real one's status and headers, a body no parser
/// accepts (a truncated one can still parse: XML readers stop early without complaint).
async fn malformed(response: Response) -> Response {
    let (mut parts, _) = response.into_parts();
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    Response::from_parts(
        parts,
        axum::body::Body::from(Bytes::from_static(b"<<<\xff not an AWS answer")),
    )
}
