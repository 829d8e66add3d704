//! The lean HTTP/1.1 client: one keep-alive connection per worker, the request serialized
//! once, responses parsed with httparse in one reusable buffer and their bodies counted,
//! never stored. Generic over the stream: plain TCP here, TLS in `tls.rs`.

use super::stats::ErrorKind;
use super::{BurstConfig, Shared, drive};

use std::future::Future;
use std::io::ErrorKind as Io;
use std::mem::MaybeUninit;
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

/// Headers larger than this are a protocol error.
const MAX_HEAD: usize = 64 * 1024;
/// The read buffer: a typical response (head and body) in one read; bodies larger than this
/// are read through it in pieces.
const BUF: usize = 4 * 1024;
/// Response headers parsed at most (more is a protocol error).
const MAX_HEADERS: usize = 64;

#[derive(Clone)]
pub struct Prepared {
    /// host:port to connect to.
    pub addr: String,
    request: Arc<[u8]>,
    head_request: bool,
}

impl Prepared {
    pub fn new(config: &BurstConfig, url: &reqwest::Url) -> Prepared {
        let host = url.host_str().unwrap_or("127.0.0.1");
        let port = url.port_or_known_default().unwrap_or(80);
        let host_header = match url.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.to_string(),
        };
        let path = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        };
        let mut head = format!(
            "{} {path} HTTP/1.1\r\nHost: {host_header}\r\n",
            config.method
        );
        let has = |name: &str| {
            config
                .headers
                .iter()
                .any(|(n, _)| n.eq_ignore_ascii_case(name))
        };
        if !has("user-agent") {
            head.push_str(concat!(
                "User-Agent: scale0/",
                env!("CARGO_PKG_VERSION"),
                "\r\n"
            ));
        }
        for (name, value) in &config.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        if !config.body.is_empty()
            || !matches!(
                config.method.as_str(),
                "GET" | "HEAD" | "DELETE" | "OPTIONS"
            )
        {
            head.push_str(&format!("Content-Length: {}\r\n", config.body.len()));
        }
        head.push_str("\r\n");
        let mut request = head.into_bytes();
        request.extend_from_slice(&config.body);
        Prepared {
            addr: format!("{host}:{port}"),
            request: request.into(),
            head_request: config.method == "HEAD",
        }
    }
}

/// Maps an I/O error of an established connection to an error kind.
pub fn classify(e: &std::io::Error) -> ErrorKind {
    match e.kind() {
        Io::ConnectionReset | Io::ConnectionAborted | Io::BrokenPipe | Io::UnexpectedEof => {
            ErrorKind::Reset
        }
        Io::TimedOut => ErrorKind::Timeout,
        Io::InvalidData => ErrorKind::Protocol,
        _ => ErrorKind::Io,
    }
}

/// Opens a TCP connection (no Nagle: each request goes out in one segment at once).
pub async fn dial_tcp(addr: &str) -> Result<TcpStream, ErrorKind> {
    let stream = TcpStream::connect(addr).await.map_err(|e| match e.kind() {
        Io::TimedOut => ErrorKind::Timeout,
        _ => ErrorKind::Connect,
    })?;
    let _ = stream.set_nodelay(true);
    Ok(stream)
}

/// One worker's connection and its read buffer, both kept for the whole burst.
pub struct Connection<S> {
    stream: Option<S>,
    buf: Vec<u8>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Connection<S> {
    pub fn new() -> Connection<S> {
        Connection {
            stream: None,
            buf: vec![0; BUF],
        }
    }

    pub fn is_open(&self) -> bool {
        self.stream.is_some()
    }

    /// Uses a connection opened elsewhere (the TLS worker's first, after ALPN).
    pub fn attach(&mut self, stream: S) {
        self.stream = Some(stream);
    }

    /// Sends the request and reads one response: (status, bytes received). Dials with
    /// `dial` when there is no open connection.
    pub async fn exchange<D, F>(&mut self, p: &Prepared, dial: D) -> Result<(u16, u64), ErrorKind>
    where
        D: Fn() -> F,
        F: Future<Output = Result<S, ErrorKind>>,
    {
        let reused = self.stream.is_some();
        if !reused {
            self.stream = Some(dial().await?);
        }
        match self.round_trip(p).await {
            // A kept-alive connection the server closed while idle: once more, fresh.
            Err(Stale) if reused => {
                self.stream = None;
                self.stream = Some(dial().await?);
                self.round_trip(p).await.map_err(Failure::kind)
            }
            other => other.map_err(Failure::kind),
        }
        .inspect_err(|_| self.stream = None)
    }

    async fn round_trip(&mut self, p: &Prepared) -> Result<(u16, u64), Failure> {
        let Connection { stream, buf } = self;
        let Some(s) = stream.as_mut() else {
            return Err(Failure::Kind(ErrorKind::Io));
        };
        // One write, no flush: TCP_NODELAY sends it at once, and tokio-rustls writes the
        // record out within the write.
        if let Err(e) = s.write_all(&p.request).await {
            return Err(match classify(&e) {
                ErrorKind::Reset => Stale,
                kind => Failure::Kind(kind),
            });
        }
        // Read until the head is complete.
        let mut filled = 0;
        let (status, head_len, body, close) = loop {
            if filled == buf.len() {
                if buf.len() >= MAX_HEAD {
                    return Err(Failure::Kind(ErrorKind::Protocol));
                }
                buf.resize(buf.len() * 2, 0);
            }
            let read = s.read(&mut buf[filled..]).await;
            match read {
                Ok(0) | Err(_) if filled == 0 => {
                    // Nothing of an answer yet: the server may have closed it while idle.
                    return Err(match read.map_err(|e| classify(&e)) {
                        Ok(_) | Err(ErrorKind::Reset) => Stale,
                        Err(kind) => Failure::Kind(kind),
                    });
                }
                Ok(0) => return Err(Failure::Kind(ErrorKind::Reset)),
                Ok(n) => filled += n,
                Err(e) => return Err(Failure::Kind(classify(&e))),
            }
            match parse_head(&buf[..filled], p.head_request)? {
                Some(head) => break head,
                None => continue,
            }
        };
        let mut received = filled as u64;
        let already = &buf[head_len..filled];
        let kind = Failure::Kind;
        match body {
            Body::Length(n) => {
                let mut have = already.len() as u64;
                while have < n {
                    let read = s.read(buf).await.map_err(|e| kind(classify(&e)))?;
                    if read == 0 {
                        return Err(kind(ErrorKind::Reset));
                    }
                    have += read as u64;
                    received += read as u64;
                }
            }
            Body::Chunked => {
                let mut decoder = Chunked::default();
                let mut done = decoder.feed(already).map_err(kind)?;
                while !done {
                    let read = s.read(buf).await.map_err(|e| kind(classify(&e)))?;
                    if read == 0 {
                        return Err(kind(ErrorKind::Reset));
                    }
                    received += read as u64;
                    done = decoder.feed(&buf[..read]).map_err(kind)?;
                }
            }
            Body::UntilClose => loop {
                let read = s.read(buf).await.map_err(|e| kind(classify(&e)))?;
                if read == 0 {
                    break;
                }
                received += read as u64;
            },
        }
        if close || matches!(body, Body::UntilClose) {
            *stream = None;
        }
        Ok((status, received))
    }
}

/// Why a round trip failed.
enum Failure {
    /// The connection was closed before any of the response arrived (worth one retry on
    /// a fresh connection when it had been idle).
    Stale,
    Kind(ErrorKind),
}
use Failure::Stale;

impl Failure {
    fn kind(self) -> ErrorKind {
        match self {
            Stale => ErrorKind::Reset,
            Failure::Kind(k) => k,
        }
    }
}

/// Parses a response head: (status, head length, body framing, connection closes), or
/// None while incomplete.
fn parse_head(
    data: &[u8],
    head_request: bool,
) -> Result<Option<(u16, usize, Body, bool)>, Failure> {
    // Uninitialised header slots: no 2 KB of zeroing per response.
    let mut headers = [const { MaybeUninit::<httparse::Header>::uninit() }; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut []);
    let len = match httparse::ParserConfig::default().parse_response_with_uninit_headers(
        &mut response,
        data,
        &mut headers,
    ) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(_) => return Err(Failure::Kind(ErrorKind::Protocol)),
    };
    let status = response.code.unwrap_or(0);
    let mut length = None;
    let mut chunked = false;
    let mut close = response.version == Some(0);
    for h in response.headers.iter() {
        if h.name.eq_ignore_ascii_case("content-length") {
            length = std::str::from_utf8(h.value)
                .ok()
                .and_then(|v| v.trim().parse::<u64>().ok());
        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = h
                .value
                .windows(7)
                .any(|w| w.eq_ignore_ascii_case(b"chunked"));
        } else if h.name.eq_ignore_ascii_case("connection") {
            close = h.value.eq_ignore_ascii_case(b"close");
        }
    }
    let no_body = head_request || (100..200).contains(&status) || status == 204 || status == 304;
    let body = if no_body {
        Body::Length(0)
    } else if chunked {
        Body::Chunked
    } else {
        match length {
            Some(n) => Body::Length(n),
            None => Body::UntilClose,
        }
    };
    Ok(Some((status, len, body, close)))
}

enum Body {
    Length(u64),
    Chunked,
    UntilClose,
}

/// A chunked-encoding scanner that counts without keeping the body.
#[derive(Default)]
struct Chunked {
    /// Bytes of chunk data (plus its CRLF) still to skip.
    skip: u64,
    /// The size line being read.
    line: Vec<u8>,
    /// After the zero-size chunk: reading trailers until an empty line.
    trailers: bool,
}

impl Chunked {
    /// Feeds bytes; true once the whole body has been seen.
    fn feed(&mut self, mut data: &[u8]) -> Result<bool, ErrorKind> {
        while !data.is_empty() {
            if self.skip > 0 {
                let n = (self.skip as usize).min(data.len());
                self.skip -= n as u64;
                data = &data[n..];
                continue;
            }
            let Some(nl) = data.iter().position(|b| *b == b'\n') else {
                self.line.extend_from_slice(data);
                if self.line.len() > 1024 {
                    return Err(ErrorKind::Protocol);
                }
                return Ok(false);
            };
            self.line.extend_from_slice(&data[..nl]);
            data = &data[nl + 1..];
            let line = std::mem::take(&mut self.line);
            let line = line.strip_suffix(b"\r").unwrap_or(&line);
            if self.trailers {
                if line.is_empty() {
                    return Ok(true);
                }
                continue;
            }
            let size_text = std::str::from_utf8(line).map_err(|_| ErrorKind::Protocol)?;
            let size_text = size_text.split(';').next().unwrap_or("").trim();
            let size = u64::from_str_radix(size_text, 16).map_err(|_| ErrorKind::Protocol)?;
            if size == 0 {
                self.trailers = true;
            } else {
                self.skip = size + 2;
            }
        }
        Ok(false)
    }
}

pub async fn worker(shared: &Shared, worker: usize, prepared: &Prepared) {
    let conn = tokio::sync::Mutex::new(Connection::<TcpStream>::new());
    drive(shared, worker, || async {
        // Only this worker's loop touches its connection, one request at a time, so the
        // lock is never contended.
        let result = conn
            .lock()
            .await
            .exchange(prepared, || dial_tcp(&prepared.addr))
            .await;
        if result.is_ok() {
            shared.saw_protocol(http::Version::HTTP_11);
        }
        result
    })
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunked_bodies_are_scanned_to_the_end() {
        let mut c = Chunked::default();
        assert_eq!(c.feed(b"5\r\nhel"), Ok(false));
        assert_eq!(c.feed(b"lo\r\n3;ext=1\r\nabc\r\n0\r\n"), Ok(false));
        assert_eq!(c.feed(b"\r\n"), Ok(true));
        let mut c = Chunked::default();
        assert_eq!(c.feed(b"zz\r\n"), Err(ErrorKind::Protocol));
    }

    #[tokio::test]
    async fn one_connection_carries_a_body_larger_than_the_buffer_then_a_chunked_one() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let config = BurstConfig {
            url: "http://127.0.0.1:9/x?y=1".into(),
            ..BurstConfig::default()
        };
        let p = Prepared::new(&config, &reqwest::Url::parse(&config.url).unwrap());
        let (client, mut server) = tokio::io::duplex(64 * 1024);
        let big = 3 * BUF + 17;
        let peer = tokio::spawn(async move {
            let mut request = vec![0; 1024];
            let n = server.read(&mut request).await.unwrap();
            assert!(request[..n].starts_with(b"GET /x?y=1 HTTP/1.1\r\nHost: 127.0.0.1:9\r\n"));
            let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {big}\r\n\r\n");
            server.write_all(head.as_bytes()).await.unwrap();
            server.write_all(&vec![b'x'; big]).await.unwrap();
            let _ = server.read(&mut request).await.unwrap();
            let chunked =
                b"HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
            server.write_all(chunked).await.unwrap();
            server
        });
        let mut conn = Connection::new();
        conn.attach(client);
        // Never called while the attached connection stays open.
        let dial = || async { Err(ErrorKind::Connect) };
        let (status, bytes) = conn.exchange(&p, dial).await.unwrap();
        assert_eq!(status, 200);
        assert!(bytes > big as u64, "{bytes}");
        assert_eq!(conn.exchange(&p, dial).await.map(|r| r.0), Ok(404));
        assert!(conn.is_open());
        // The peer goes away: the next request finds the connection stale, dials again.
        drop(peer.await.unwrap());
        assert_eq!(conn.exchange(&p, dial).await, Err(ErrorKind::Connect));
        assert!(!conn.is_open());
    }
}
