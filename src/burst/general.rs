//! Redirects and HTTP/2 without TLS: reqwest (hyper underneath, rustls with the platform's
//! roots). Each worker has a client of its own, so each keeps one connection, as the lean
//! HTTP/1 client does (a shared client would multiplex every worker onto one HTTP/2
//! connection).

use super::stats::ErrorKind;
use super::{BurstConfig, Shared, drive};
use std::time::Duration;

/// A client for one worker; also built once before the burst so that a bad setting
/// (an unreadable CA certificate) is refused up front.
pub fn client(config: &BurstConfig, url: &reqwest::Url) -> Result<reqwest::Client, reqwest::Error> {
    let mut roots = Vec::new();
    for pem in &config.ca_certs {
        roots.extend(reqwest::Certificate::from_pem_bundle(pem)?);
    }
    let mut b = reqwest::Client::builder()
        .tls_certs_merge(roots)
        .pool_max_idle_per_host(1)
        .connect_timeout(Duration::from_secs_f64(config.timeout.min(30.0)))
        .tcp_nodelay(true)
        .tls_danger_accept_invalid_certs(config.insecure)
        .redirect(if config.follow_redirects {
            reqwest::redirect::Policy::limited(10)
        } else {
            reqwest::redirect::Policy::none()
        });
    if config.http2 {
        // Prior knowledge on http://; on https:// it offers only h2 in ALPN.
        b = b.http2_prior_knowledge();
    } else if url.scheme() == "http" {
        b = b.http1_only();
    }
    // On https:// without --http2, ALPN picks: h2 when the server offers it.
    b.build()
}

/// Names the certificate problem when a TLS handshake failed on one.
pub(super) fn tls_kind(e: &(dyn std::error::Error + 'static)) -> Option<ErrorKind> {
    use rustls::CertificateError as C;
    let mut next = Some(e);
    while let Some(err) = next {
        if let Some(rustls::Error::InvalidCertificate(c)) = err.downcast_ref() {
            return Some(match c {
                C::UnknownIssuer => ErrorKind::TlsUnknownIssuer,
                C::Expired
                | C::ExpiredContext { .. }
                | C::NotValidYet
                | C::NotValidYetContext { .. } => ErrorKind::TlsExpired,
                C::NotValidForName | C::NotValidForNameContext { .. } => ErrorKind::TlsWrongHost,
                _ => ErrorKind::Tls,
            });
        }
        if err.downcast_ref::<rustls::Error>().is_some() {
            return Some(ErrorKind::Tls);
        }
        // io::Error hides the error it wraps from source() (it skips to that error's
        // source), and TLS errors come wrapped in io::Errors: step into them instead.
        next = match err
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
            None => err.source(),
        };
    }
    None
}

fn classify(e: &reqwest::Error) -> ErrorKind {
    if e.is_timeout() {
        return ErrorKind::Timeout;
    }
    if let Some(kind) = tls_kind(e) {
        return kind;
    }
    let text = format!("{e:?}").to_ascii_lowercase();
    if e.is_connect() {
        return if text.contains("certificate") || text.contains("tls") || text.contains("handshake")
        {
            ErrorKind::Tls
        } else {
            ErrorKind::Connect
        };
    }
    if text.contains("reset") || text.contains("closed") || text.contains("eof") {
        ErrorKind::Reset
    } else if e.is_body() || e.is_decode() || text.contains("parse") {
        ErrorKind::Protocol
    } else {
        ErrorKind::Io
    }
}

pub async fn worker(shared: &Shared, worker: usize, url: &reqwest::Url) {
    let config = &shared.config;
    let client = match client(config, url) {
        Ok(c) => c,
        Err(e) => {
            // Building a client fails only on a broken TLS set-up (no usable roots):
            // every request of this worker is a TLS error.
            tracing::warn!("could not build the HTTP client: {e}");
            drive(shared, worker, || async { Err(ErrorKind::Tls) }).await;
            return;
        }
    };
    let method =
        reqwest::Method::from_bytes(config.method.as_bytes()).unwrap_or(reqwest::Method::GET);
    let body = bytes::Bytes::from(config.body.clone());
    drive(shared, worker, || {
        let mut request = client.request(method.clone(), url.clone());
        for (name, value) in &config.headers {
            request = request.header(name, value);
        }
        if !body.is_empty() {
            request = request.body(body.clone());
        }
        async move {
            let mut response = request.send().await.map_err(|e| classify(&e))?;
            shared.saw_protocol(response.version());
            let status = response.status().as_u16();
            let mut bytes = 0u64;
            while let Some(chunk) = response.chunk().await.map_err(|e| classify(&e))? {
                bytes += chunk.len() as u64;
            }
            Ok((status, bytes))
        }
    })
    .await;
}
