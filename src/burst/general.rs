//! HTTPS, HTTP/2 and redirects: reqwest (hyper underneath, rustls with the platform's
//! roots), one shared client with a connection per worker.

use super::stats::ErrorKind;
use super::{BurstConfig, Shared, drive};
use std::time::Duration;

pub fn client(config: &BurstConfig) -> Result<reqwest::Client, String> {
    let mut b = reqwest::Client::builder()
        .pool_max_idle_per_host(config.concurrency as usize)
        .connect_timeout(Duration::from_secs_f64(config.timeout.min(30.0)))
        .tcp_nodelay(true)
        .redirect(if config.follow_redirects {
            reqwest::redirect::Policy::limited(10)
        } else {
            reqwest::redirect::Policy::none()
        });
    if config.http2 {
        b = b.http2_prior_knowledge();
    } else {
        b = b.http1_only();
    }
    b.build()
        .map_err(|e| format!("could not build the HTTP client: {e}"))
}

fn classify(e: &reqwest::Error) -> ErrorKind {
    if e.is_timeout() {
        return ErrorKind::Timeout;
    }
    if e.is_connect() {
        let text = format!("{e:?}").to_ascii_lowercase();
        return if text.contains("certificate") || text.contains("tls") || text.contains("handshake")
        {
            ErrorKind::Tls
        } else {
            ErrorKind::Connect
        };
    }
    let text = format!("{e:?}").to_ascii_lowercase();
    if text.contains("reset") || text.contains("closed") || text.contains("eof") {
        ErrorKind::Reset
    } else if e.is_body() || e.is_decode() || text.contains("parse") {
        ErrorKind::Protocol
    } else {
        ErrorKind::Io
    }
}

pub async fn worker(shared: &Shared, worker: usize, client: &reqwest::Client, url: &reqwest::Url) {
    let method = reqwest::Method::from_bytes(shared.config.method.as_bytes())
        .unwrap_or(reqwest::Method::GET);
    let body = bytes::Bytes::from(shared.config.body.clone());
    drive(shared, worker, || {
        let mut request = client.request(method.clone(), url.clone());
        for (name, value) in &shared.config.headers {
            request = request.header(name, value);
        }
        if !body.is_empty() {
            request = request.body(body.clone());
        }
        async move {
            let response = request.send().await.map_err(|e| classify(&e))?;
            let status = response.status().as_u16();
            let mut response = response;
            let mut bytes = 0u64;
            while let Some(chunk) = response.chunk().await.map_err(|e| classify(&e))? {
                bytes += chunk.len() as u64;
            }
            Ok((status, bytes))
        }
    })
    .await;
}
