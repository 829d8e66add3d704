//! HTTPS and HTTP/2 bursts against a local hyper + rustls server with certificates made
//! here (rcgen): HTTP/1.1 and HTTP/2 over TLS with --insecure and with the test CA
//! trusted, and each certificate problem named (unknown issuer, expired, wrong host).

use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair, date_time_ymd};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use scale0::burst::stats::ErrorKind;
use scale0::burst::{self, BurstConfig, Snapshot};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A certificate and its key.
struct Leaf(CertificateDer<'static>, PrivateKeyDer<'static>);

impl Clone for Leaf {
    fn clone(&self) -> Self {
        Leaf(self.0.clone(), self.1.clone_key())
    }
}

struct Certs {
    ca_pem: String,
    /// Valid now, for localhost and 127.0.0.1.
    good: Leaf,
    expired: Leaf,
    /// Valid, but only for another name.
    other_host: Leaf,
}

fn certs() -> Certs {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let leaf = |names: &[&str], expired: bool| {
        let key = KeyPair::generate().unwrap();
        let mut p = CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
            .unwrap();
        if expired {
            p.not_before = date_time_ymd(2020, 1, 1);
            p.not_after = date_time_ymd(2021, 1, 1);
        }
        let cert = p.signed_by(&key, &issuer).unwrap();
        Leaf(
            cert.der().clone(),
            PrivateKeyDer::from(PrivatePkcs8KeyDer::from(key.serialize_der())),
        )
    };
    Certs {
        ca_pem: ca_cert.pem(),
        good: leaf(&["localhost", "127.0.0.1"], false),
        expired: leaf(&["localhost", "127.0.0.1"], true),
        other_host: leaf(&["elsewhere.test"], false),
    }
}

/// A TLS server on a free loopback port offering `alpn`; returns https://127.0.0.1:PORT/.
async fn tls_server(cert: Leaf, alpn: &[&[u8]]) -> String {
    tls_server_counting(cert, alpn).await.0
}

/// The same, with the count of completed TLS handshakes.
async fn tls_server_counting(cert: Leaf, alpn: &[&[u8]]) -> (String, Arc<AtomicUsize>) {
    let handshakes = Arc::new(AtomicUsize::new(0));
    let counter = handshakes.clone();
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.0], cert.1)
        .unwrap();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            let counter = counter.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(stream).await else {
                    return;
                };
                counter.fetch_add(1, Ordering::Relaxed);
                let h2 = tls.get_ref().1.alpn_protocol() == Some(b"h2");
                let service = service_fn(|_req: hyper::Request<hyper::body::Incoming>| async {
                    Ok::<_, std::convert::Infallible>(hyper::Response::new(Full::new(
                        Bytes::from_static(b"hello over tls"),
                    )))
                });
                let io = TokioIo::new(tls);
                let _ = if h2 {
                    hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                        .serve_connection(io, service)
                        .await
                } else {
                    hyper::server::conn::http1::Builder::new()
                        .serve_connection(io, service)
                        .await
                };
            });
        }
    });
    (format!("https://127.0.0.1:{}/", addr.port()), handshakes)
}

async fn run(config: BurstConfig) -> Snapshot {
    burst::start(BurstConfig {
        concurrency: 4,
        requests: Some(40),
        timeout: 5.0,
        ..config
    })
    .unwrap()
    .wait()
    .await
}

#[tokio::test]
async fn https_over_http1_and_http2_with_each_certificate_problem_named() {
    let certs = certs();
    let both = tls_server(certs.good.clone(), &[b"h2", b"http/1.1"]).await;
    let h1_only = tls_server(certs.good.clone(), &[b"http/1.1"]).await;
    let trusted = |url: &str| BurstConfig {
        url: url.into(),
        ca_certs: vec![certs.ca_pem.clone().into_bytes()],
        ..BurstConfig::default()
    };

    // The platform's roots don't know the test CA: every request is an unknown issuer.
    let s = run(BurstConfig {
        url: both.clone(),
        ..BurstConfig::default()
    })
    .await;
    assert_eq!(s.responses, 0);
    assert_eq!(
        s.errors.get(&ErrorKind::TlsUnknownIssuer),
        Some(&40),
        "{:?}",
        s.errors
    );

    // --insecure goes through, and says so; ALPN picks HTTP/2 when the server offers it.
    let s = run(BurstConfig {
        url: both.clone(),
        insecure: true,
        ..BurstConfig::default()
    })
    .await;
    assert_eq!(s.statuses.get(&200), Some(&40), "{:?}", s.errors);
    assert!(s.insecure);
    assert!(burst::report::summary(&s).contains("--insecure: TLS certificates were NOT checked"));
    assert_eq!(s.protocols, ["HTTP/2"]);

    // The test CA trusted: HTTP/1.1 where only that is offered, HTTP/2 with --http2.
    let s = run(trusted(&h1_only)).await;
    assert_eq!(s.statuses.get(&200), Some(&40), "{:?}", s.errors);
    assert_eq!(s.protocols, ["HTTP/1.1"]);
    assert!(!s.insecure);
    let s = run(BurstConfig {
        http2: true,
        ..trusted(&both)
    })
    .await;
    assert_eq!(s.statuses.get(&200), Some(&40), "{:?}", s.errors);
    assert_eq!(s.protocols, ["HTTP/2"]);

    // Each certificate problem by its name.
    let expired = tls_server(certs.expired, &[b"http/1.1"]).await;
    let s = run(trusted(&expired)).await;
    assert_eq!(
        s.errors.get(&ErrorKind::TlsExpired),
        Some(&40),
        "{:?}",
        s.errors
    );
    let other = tls_server(certs.other_host, &[b"http/1.1"]).await;
    let s = run(trusted(&other)).await;
    assert_eq!(
        s.errors.get(&ErrorKind::TlsWrongHost),
        Some(&40),
        "{:?}",
        s.errors
    );
    assert!(ErrorKind::TlsWrongHost.label().contains("another host"));
}

#[tokio::test]
async fn each_https_worker_keeps_its_own_connection() {
    // 4 workers x 50 requests make 4 TLS connections, over HTTP/2 and over HTTP/1.1 (a
    // shared client would put every worker on one HTTP/2 connection).
    let certs = certs();
    for alpn in [&[&b"h2"[..], b"http/1.1"][..], &[b"http/1.1"]] {
        let (url, handshakes) = tls_server_counting(certs.good.clone(), alpn).await;
        let s = burst::start(BurstConfig {
            url,
            insecure: true,
            concurrency: 4,
            requests: Some(200),
            ..BurstConfig::default()
        })
        .unwrap()
        .wait()
        .await;
        assert_eq!(s.statuses.get(&200), Some(&200), "{:?}", s.errors);
        assert_eq!(handshakes.load(Ordering::Relaxed), 4, "{:?}", s.protocols);
    }
}
