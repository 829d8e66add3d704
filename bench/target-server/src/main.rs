//! A minimal keep-alive HTTP server answering "hello world" on every path, on one thread
//! (pin it with taskset).
//!
//! Usage: bench-target-server 127.0.0.1:PORT [plain|tls-h1|tls-h2]
//!   plain   HTTP/1.1 (the default)
//!   tls-h1  TLS offering only http/1.1 in ALPN
//!   tls-h2  TLS offering only h2 in ALPN
//! The TLS modes use a self-signed certificate for 127.0.0.1 and localhost made at start
//! (clients need --insecure).
use bytes::Bytes;
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::convert::Infallible;
use std::sync::Arc;

fn tls_acceptor(alpn: &[u8]) -> Result<tokio_rustls::TlsAcceptor, Box<dyn std::error::Error>> {
    let key = rcgen::KeyPair::generate()?;
    let params = rcgen::CertificateParams::new(vec!["127.0.0.1".into(), "localhost".into()])?;
    let cert = params.self_signed(&key)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(
            vec![CertificateDer::from(cert.der().to_vec())],
            PrivateKeyDer::from(PrivatePkcs8KeyDer::from(key.serialize_der())),
        )?;
    config.alpn_protocols = vec![alpn.to_vec()];
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:8089".into());
    let mode = std::env::args().nth(2).unwrap_or_else(|| "plain".into());
    let tls = match mode.as_str() {
        "plain" => None,
        "tls-h1" => Some(tls_acceptor(b"http/1.1")?),
        "tls-h2" => Some(tls_acceptor(b"h2")?),
        other => return Err(format!("unknown mode {other}").into()),
    };
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        let tls = tls.clone();
        tokio::spawn(async move {
            let service = service_fn(|_req: Request<hyper::body::Incoming>| async {
                Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(b"hello world"))))
            });
            let _ = match tls {
                // Plain: hyper's HTTP/1 server alone, the target earlier figures came from.
                None => {
                    let conn = http1::Builder::new().serve_connection(TokioIo::new(stream), service);
                    conn.await.map_err(|e| e.to_string())
                }
                // TLS: auto serves HTTP/2 when the client starts with its preface.
                Some(acceptor) => match acceptor.accept(stream).await {
                    Ok(s) => auto::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(s), service)
                        .await
                        .map_err(|e| e.to_string()),
                    Err(_) => return,
                },
            };
        });
    }
}
