//! The lean HTTP/1.1 client for plain-HTTP bursts: one keep-alive connection per worker,
//! the request serialized once, responses parsed with httparse and their bodies counted,
//! never stored.

use super::stats::ErrorKind;
use super::{BurstConfig, Shared, drive};

use std::io::ErrorKind as Io;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Headers larger than this are a protocol error.
const MAX_HEAD: usize = 64 * 1024;

#[derive(Clone)]
pub struct Prepared {
    addr: String,
    request: Arc<Vec<u8>>,
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
            request: Arc::new(request),
            head_request: config.method == "HEAD",
        }
    }
}

fn classify(e: &std::io::Error) -> ErrorKind {
    match e.kind() {
        Io::ConnectionReset | Io::ConnectionAborted | Io::BrokenPipe | Io::UnexpectedEof => {
            ErrorKind::Reset
        }
        Io::TimedOut => ErrorKind::Timeout,
        Io::InvalidData => ErrorKind::Protocol,
        _ => ErrorKind::Io,
    }
}

struct Connection {
    stream: Option<TcpStream>,
    buf: Vec<u8>,
    scratch: Vec<u8>,
}

impl Connection {
    async fn connect(&mut self, addr: &str) -> Result<(), ErrorKind> {
        let stream = TcpStream::connect(addr).await.map_err(|e| match e.kind() {
            Io::TimedOut => ErrorKind::Timeout,
            _ => ErrorKind::Connect,
        })?;
        let _ = stream.set_nodelay(true);
        self.stream = Some(stream);
        Ok(())
    }

    /// Sends the request and reads one response: (status, bytes received).
    async fn exchange(&mut self, p: &Prepared) -> Result<(u16, u64), ErrorKind> {
        let reused = self.stream.is_some();
        if !reused {
            self.connect(&p.addr).await?;
        }
        match self.round_trip(p).await {
            // A kept-alive connection the server closed while idle: once more, fresh.
            Err(ErrorKind::Reset) if reused && self.buf.is_empty() => {
                self.stream = None;
                self.connect(&p.addr).await?;
                self.round_trip(p).await
            }
            other => other,
        }
        .inspect_err(|_| self.stream = None)
    }

    async fn round_trip(&mut self, p: &Prepared) -> Result<(u16, u64), ErrorKind> {
        let Connection {
            stream,
            buf,
            scratch,
        } = self;
        let Some(stream) = stream.as_mut() else {
            return Err(ErrorKind::Io);
        };
        buf.clear();
        stream
            .write_all(&p.request)
            .await
            .map_err(|e| classify(&e))?;
        // Read until the head is complete.
        let (status, head_len, body, close) = loop {
            if stream.read_buf(buf).await.map_err(|e| classify(&e))? == 0 {
                return Err(ErrorKind::Reset);
            }
            let mut headers = [httparse::EMPTY_HEADER; 64];
            let mut response = httparse::Response::new(&mut headers);
            match response.parse(buf) {
                Ok(httparse::Status::Complete(len)) => {
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
                    let no_body = p.head_request
                        || (100..200).contains(&status)
                        || status == 204
                        || status == 304;
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
                    break (status, len, body, close);
                }
                Ok(httparse::Status::Partial) if buf.len() < MAX_HEAD => continue,
                _ => return Err(ErrorKind::Protocol),
            }
        };
        let mut received = buf.len() as u64;
        let already = &buf[head_len..];
        match body {
            Body::Length(n) => {
                let mut have = already.len() as u64;
                while have < n {
                    let read = stream.read(scratch).await.map_err(|e| classify(&e))?;
                    if read == 0 {
                        return Err(ErrorKind::Reset);
                    }
                    have += read as u64;
                    received += read as u64;
                }
            }
            Body::Chunked => {
                let mut decoder = Chunked::default();
                let mut done = decoder.feed(already)?;
                while !done {
                    let read = stream.read(scratch).await.map_err(|e| classify(&e))?;
                    if read == 0 {
                        return Err(ErrorKind::Reset);
                    }
                    received += read as u64;
                    done = decoder.feed(&scratch[..read])?;
                }
            }
            Body::UntilClose => loop {
                let read = stream.read(scratch).await.map_err(|e| classify(&e))?;
                if read == 0 {
                    break;
                }
                received += read as u64;
            },
        }
        buf.clear();
        if close || matches!(body, Body::UntilClose) {
            self.stream = None;
        }
        Ok((status, received))
    }
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
    let conn = tokio::sync::Mutex::new(Connection {
        stream: None,
        buf: Vec::with_capacity(4 * 1024),
        scratch: vec![0; 16 * 1024],
    });
    drive(shared, worker, || async {
        // Only this worker's loop touches its connection, one request at a time, so the
        // lock is never contended.
        let result = conn.lock().await.exchange(prepared).await;
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
}
