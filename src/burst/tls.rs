//! HTTPS on the lean engine: tokio-rustls with the platform's roots (the verifier reqwest
//! uses, so certificate problems are named the same way), one connection per worker. ALPN
//! offers h2 and http/1.1: HTTP/1.1 runs the raw client over the TLS stream; HTTP/2 (the
//! server's choice, or `--http2`) runs hyper's HTTP/2 client over that same connection.

use super::general::tls_kind;
use super::raw::{self, Connection, Prepared};
use super::stats::ErrorKind;
use super::{BurstConfig, Shared, drive};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http2::SendRequest;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};
use std::sync::Arc;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

type Stream = TlsStream<TcpStream>;

/// Everything a worker needs to open its TLS connection; built once per burst, so the
/// platform's roots are loaded once.
pub struct Tls {
    connector: TlsConnector,
    name: ServerName<'static>,
    /// `--http2`: speak HTTP/2 whatever ALPN says.
    http2: bool,
    /// What an HTTP/2 request carries (built once).
    h2: H2Template,
}

impl Tls {
    pub fn new(config: &BurstConfig, url: &reqwest::Url) -> Result<Tls, String> {
        let host = url.host_str().unwrap_or("127.0.0.1");
        // An IPv6 literal comes bracketed in URLs, bare in a server name.
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        let name = ServerName::try_from(bare.to_string())
            .map_err(|e| format!("{host} is not a valid TLS server name: {e}"))?;
        Ok(Tls {
            connector: TlsConnector::from(Arc::new(client_config(config)?)),
            name,
            http2: config.http2,
            h2: H2Template::new(config, url)?,
        })
    }

    /// TCP connect and TLS handshake; certificate problems come back by name.
    async fn dial(&self, addr: &str) -> Result<Stream, ErrorKind> {
        let tcp = raw::dial_tcp(addr).await?;
        self.connector
            .connect(self.name.clone(), tcp)
            .await
            .map_err(|e| {
                tls_kind(&e).unwrap_or(match raw::classify(&e) {
                    ErrorKind::Reset => ErrorKind::Reset,
                    ErrorKind::Timeout => ErrorKind::Timeout,
                    _ => ErrorKind::Tls,
                })
            })
    }
}

fn client_config(config: &BurstConfig) -> Result<ClientConfig, String> {
    // The process-wide provider when one is installed, else aws-lc-rs (reqwest's too).
    let provider = rustls::crypto::CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::aws_lc_rs::default_provider()));
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?;
    let mut tls = if config.insecure {
        let schemes = provider
            .signature_verification_algorithms
            .supported_schemes();
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(NoVerifier(schemes)))
            .with_no_client_auth()
    } else {
        let mut roots = Vec::new();
        for pem in &config.ca_certs {
            for cert in CertificateDer::pem_slice_iter(pem) {
                roots.push(cert.map_err(|e| format!("a --cacert certificate: {e}"))?);
            }
        }
        let verifier = rustls_platform_verifier::Verifier::new_with_extra_roots(roots, provider)
            .map_err(|e| e.to_string())?;
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_no_client_auth()
    };
    tls.alpn_protocols = if config.http2 {
        vec![b"h2".to_vec()]
    } else {
        vec![b"h2".to_vec(), b"http/1.1".to_vec()]
    };
    Ok(tls)
}

/// `--insecure`: every certificate is accepted (the run says so loudly).
#[derive(Debug)]
struct NoVerifier(Vec<SignatureScheme>);

impl ServerCertVerifier for NoVerifier {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        _: &[u8],
        _: &CertificateDer<'_>,
        _: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }

    fn verify_tls13_signature(
        &self,
        _: &[u8],
        _: &CertificateDer<'_>,
        _: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.clone()
    }
}

/// The parts of an HTTP/2 request, built once.
struct H2Template {
    method: http::Method,
    uri: http::Uri,
    headers: http::HeaderMap,
    body: Bytes,
}

impl H2Template {
    fn new(config: &BurstConfig, url: &reqwest::Url) -> Result<H2Template, String> {
        let mut headers = http::HeaderMap::new();
        for (name, value) in &config.headers {
            let name = http::HeaderName::from_bytes(name.as_bytes()).map_err(|e| e.to_string())?;
            let value = http::HeaderValue::from_str(value).map_err(|e| e.to_string())?;
            headers.append(name, value);
        }
        if !headers.contains_key(http::header::USER_AGENT) {
            headers.insert(
                http::header::USER_AGENT,
                http::HeaderValue::from_static(concat!("scale0/", env!("CARGO_PKG_VERSION"))),
            );
        }
        Ok(H2Template {
            method: http::Method::from_bytes(config.method.as_bytes())
                .map_err(|e| e.to_string())?,
            uri: url.as_str().parse().map_err(|e| format!("{e}"))?,
            headers,
            body: Bytes::from(config.body.clone()),
        })
    }

    fn request(&self) -> http::Request<Full<Bytes>> {
        let mut r = http::Request::new(Full::new(self.body.clone()));
        *r.method_mut() = self.method.clone();
        *r.uri_mut() = self.uri.clone();
        *r.headers_mut() = self.headers.clone();
        r
    }
}

fn hyper_kind(e: &hyper::Error) -> ErrorKind {
    if let Some(kind) = tls_kind(e) {
        return kind;
    }
    if e.is_timeout() {
        ErrorKind::Timeout
    } else if e.is_closed() || e.is_canceled() || e.is_incomplete_message() {
        ErrorKind::Reset
    } else if e.is_parse() || e.is_user() {
        ErrorKind::Protocol
    } else {
        let mut next: Option<&(dyn std::error::Error + 'static)> = Some(e);
        while let Some(err) = next {
            if let Some(io) = err.downcast_ref::<std::io::Error>() {
                return raw::classify(io);
            }
            next = err.source();
        }
        ErrorKind::Protocol
    }
}

/// One worker's connection, over whichever protocol its handshake settled on.
struct State {
    h1: Connection<Stream>,
    h2: Option<SendRequest<Full<Bytes>>>,
}

impl State {
    async fn exchange(
        &mut self,
        tls: &Tls,
        p: &Prepared,
        shared: &Shared,
    ) -> Result<(u16, u64), ErrorKind> {
        if self.h2.is_none() && !self.h1.is_open() {
            let stream = tls.dial(&p.addr).await?;
            if tls.http2 || stream.get_ref().1.alpn_protocol() == Some(b"h2") {
                let (sender, conn) = hyper::client::conn::http2::handshake(
                    TokioExecutor::new(),
                    TokioIo::new(stream),
                )
                .await
                .map_err(|e| hyper_kind(&e))?;
                // Ends when the sender is dropped (the worker's end) or the peer closes.
                tokio::spawn(conn);
                self.h2 = Some(sender);
            } else {
                self.h1.attach(stream);
            }
        }
        if let Some(sender) = &mut self.h2 {
            let result = h2_round_trip(sender, &tls.h2).await;
            if result.is_err() {
                self.h2 = None;
            } else {
                shared.saw_protocol(http::Version::HTTP_2);
            }
            return result;
        }
        let result = self
            .h1
            .exchange(p, || async {
                // A fresh connection after the server closed one: HTTP/1.1 as before.
                let stream = tls.dial(&p.addr).await?;
                match stream.get_ref().1.alpn_protocol() {
                    Some(b"h2") => Err(ErrorKind::Protocol),
                    _ => Ok(stream),
                }
            })
            .await;
        if result.is_ok() {
            shared.saw_protocol(http::Version::HTTP_11);
        }
        result
    }
}

async fn h2_round_trip(
    sender: &mut SendRequest<Full<Bytes>>,
    template: &H2Template,
) -> Result<(u16, u64), ErrorKind> {
    sender.ready().await.map_err(|e| hyper_kind(&e))?;
    let response = sender
        .send_request(template.request())
        .await
        .map_err(|e| hyper_kind(&e))?;
    let status = response.status().as_u16();
    let mut body = response.into_body();
    let mut bytes = 0u64;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| hyper_kind(&e))?;
        if let Some(data) = frame.data_ref() {
            bytes += data.len() as u64;
        }
    }
    Ok((status, bytes))
}

pub async fn worker(shared: &Shared, worker: usize, prepared: &Prepared, tls: &Tls) {
    let state = tokio::sync::Mutex::new(State {
        h1: Connection::new(),
        h2: None,
    });
    drive(shared, worker, || async {
        // Only this worker's loop touches its state, one request at a time: uncontended.
        state.lock().await.exchange(tls, prepared, shared).await
    })
    .await;
}
