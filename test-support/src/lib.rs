//! Real HTTP and HTTPS servers on 127.0.0.1 for tests: they record every request
//! (method, path, headers in arrival order, body bytes, client port) and answer as the
//! test's handler says: a status, a delay, a hang, a trickle, a redirect.
//!
//! Servers stop by themselves when dropped; every socket has a read timeout, so a test
//! that forgets something cannot leave a thread behind forever.

mod interpreter;
pub mod layering;
pub mod nats;
pub mod python;
pub mod webhooks;

pub use interpreter::python3;
pub use nats::{NatsServer, TlsFiles, nats_server};
pub use python::{ctk_chaos, ctk_python};

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// One request as the server received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    /// `GET`, `POST`…
    pub method: String,
    /// Path and query, as sent.
    pub path: String,
    /// Headers in arrival order, names as sent.
    pub headers: Vec<(String, String)>,
    /// The body bytes (empty when there was none).
    pub body: Vec<u8>,
    /// Whether the request had a body at all (Content-Length or chunked).
    pub has_body: bool,
    /// The client's port (distinct ports = distinct connections).
    pub peer_port: u16,
}

impl Recorded {
    /// The first header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The body as UTF-8 text.
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body parsed as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

/// What the server answers.
#[derive(Debug, Clone)]
pub struct Reply {
    /// Status code.
    pub status: u16,
    /// Extra response headers.
    pub headers: Vec<(String, String)>,
    /// Response body.
    pub body: Vec<u8>,
    /// Wait this long before answering (a hung endpoint).
    pub delay: Duration,
    /// Send the body one byte per interval (a trickling endpoint).
    pub trickle: Option<Duration>,
}

impl Reply {
    /// `200 {"ok": true}`.
    pub fn ok() -> Reply {
        Reply::status(200).body(br#"{"ok": true}"#.to_vec())
    }

    /// An empty answer with this status.
    pub fn status(status: u16) -> Reply {
        Reply { status, headers: Vec::new(), body: Vec::new(), delay: Duration::ZERO, trickle: None }
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Reply {
        self.body = body.into();
        self
    }

    /// Answers after `delay`.
    pub fn delay(mut self, delay: Duration) -> Reply {
        self.delay = delay;
        self
    }

    /// Sends the body one byte per `interval`.
    pub fn trickle(mut self, interval: Duration) -> Reply {
        self.trickle = Some(interval);
        self
    }
}

type Handler = dyn Fn(&Recorded, usize) -> Reply + Send + Sync;

struct State {
    requests: Mutex<Vec<(Instant, Recorded)>>,
    arrived: Condvar,
    stop: AtomicBool,
    handler: Box<Handler>,
}

/// A recording server on 127.0.0.1. Dropping it stops it.
pub struct Sink {
    addr: SocketAddr,
    state: Arc<State>,
    tls: bool,
    /// PEM of the self-signed certificate (HTTPS sinks only).
    pub cert_pem: Option<String>,
}

/// The longest any connection may stay idle before the server closes it.
const IDLE: Duration = Duration::from_secs(30);

impl Sink {
    /// An HTTP sink that answers `200 {"ok": true}` to everything.
    pub fn start() -> Sink {
        Sink::with(|_, _| Reply::ok())
    }

    /// An HTTP sink answering with `handler(request, index)`, where `index` counts
    /// requests from 0 in arrival order.
    pub fn with(handler: impl Fn(&Recorded, usize) -> Reply + Send + Sync + 'static) -> Sink {
        Sink::spawn(Box::new(handler), None)
    }

    /// An HTTPS sink with a fresh self-signed certificate for `localhost` and 127.0.0.1.
    pub fn start_tls(handler: impl Fn(&Recorded, usize) -> Reply + Send + Sync + 'static) -> Sink {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let key = rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()])
            .expect("generate a self-signed certificate");
        let cert_der = key.cert.der().clone();
        let key_der = rustls::pki_types::PrivateKeyDer::try_from(key.signing_key.serialize_der())
            .expect("serialise the private key");
        let config = rustls::ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(vec![cert_der], key_der)
            .expect("TLS server config");
        let mut sink = Sink::spawn(Box::new(handler), Some(Arc::new(config)));
        sink.cert_pem = Some(key.cert.pem());
        sink
    }

    fn spawn(handler: Box<Handler>, tls: Option<Arc<rustls::ServerConfig>>) -> Sink {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        let state = Arc::new(State {
            requests: Mutex::new(Vec::new()),
            arrived: Condvar::new(),
            stop: AtomicBool::new(false),
            handler,
        });
        let is_tls = tls.is_some();
        let st = state.clone();
        thread::spawn(move || {
            for stream in listener.incoming() {
                if st.stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let st = st.clone();
                let tls = tls.clone();
                thread::spawn(move || serve(stream, st, tls));
            }
        });
        Sink { addr, state, tls: is_tls, cert_pem: None }
    }

    /// `http://127.0.0.1:PORT{path}` (or `https://…`).
    pub fn url(&self, path: &str) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}{path}", self.addr)
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Every request received so far, in arrival order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.state.requests.lock().unwrap().iter().map(|(_, r)| r.clone()).collect()
    }

    /// Requests received so far with their arrival times.
    pub fn timed_requests(&self) -> Vec<(Instant, Recorded)> {
        self.state.requests.lock().unwrap().clone()
    }

    /// Waits until at least `n` requests have arrived or `timeout` passes; returns them.
    pub fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Recorded> {
        let until = Instant::now() + timeout;
        let mut reqs = self.state.requests.lock().unwrap();
        while reqs.len() < n {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            reqs = self.state.arrived.wait_timeout(reqs, left).unwrap().0;
        }
        reqs.iter().map(|(_, r)| r.clone()).collect()
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        self.state.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
    }
}

trait Stream: Read + Write {}
impl<T: Read + Write> Stream for T {}

fn serve(stream: TcpStream, state: Arc<State>, tls: Option<Arc<rustls::ServerConfig>>) {
    let peer_port = stream.peer_addr().map(|a| a.port()).unwrap_or(0);
    let _ = stream.set_read_timeout(Some(IDLE));
    let _ = stream.set_write_timeout(Some(IDLE));
    let stream: Box<dyn Stream> = match tls {
        Some(config) => match rustls::ServerConnection::new(config) {
            Ok(conn) => Box::new(rustls::StreamOwned::new(conn, stream)),
            Err(_) => return,
        },
        None => Box::new(stream),
    };
    let mut reader = BufReader::new(stream);
    loop {
        if state.stop.load(Ordering::SeqCst) {
            return;
        }
        let Some(request) = read_request(&mut reader, peer_port) else { return };
        let index = {
            let mut reqs = state.requests.lock().unwrap();
            reqs.push((Instant::now(), request.clone()));
            state.arrived.notify_all();
            reqs.len() - 1
        };
        let reply = (state.handler)(&request, index);
        if !reply.delay.is_zero() && !sleep_unless_stopped(reply.delay, &state) {
            return;
        }
        if write_reply(reader.get_mut(), &reply, &state).is_err() {
            return;
        }
    }
}

fn sleep_unless_stopped(total: Duration, state: &State) -> bool {
    let until = Instant::now() + total;
    while Instant::now() < until {
        if state.stop.load(Ordering::SeqCst) {
            return false;
        }
        thread::sleep(Duration::from_millis(20).min(until.saturating_duration_since(Instant::now())));
    }
    true
}

fn read_request(reader: &mut BufReader<Box<dyn Stream>>, peer_port: u16) -> Option<Recorded> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_owned();
    let path = parts.next()?.to_owned();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).ok()? == 0 {
            return None;
        }
        let h = h.trim_end_matches(['\r', '\n']);
        if h.is_empty() {
            break;
        }
        let (k, v) = h.split_once(':')?;
        headers.push((k.trim().to_owned(), v.trim().to_owned()));
    }
    let find = |name: &str| headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.clone());
    let mut body = Vec::new();
    let mut has_body = false;
    if let Some(len) = find("content-length").and_then(|v| v.parse::<usize>().ok()) {
        has_body = true;
        body.resize(len, 0);
        reader.read_exact(&mut body).ok()?;
    } else if find("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        has_body = true;
        loop {
            let mut size = String::new();
            reader.read_line(&mut size).ok()?;
            let n = usize::from_str_radix(size.trim(), 16).ok()?;
            let mut chunk = vec![0; n + 2];
            reader.read_exact(&mut chunk).ok()?;
            if n == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..n]);
        }
    }
    Some(Recorded { method, path, headers, body, has_body, peer_port })
}

fn write_reply(stream: &mut Box<dyn Stream>, reply: &Reply, state: &State) -> std::io::Result<()> {
    let mut head = format!("HTTP/1.1 {} {}\r\n", reply.status, reason(reply.status));
    let mut has_length = false;
    for (k, v) in &reply.headers {
        has_length |= k.eq_ignore_ascii_case("content-length");
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    if !has_length {
        head.push_str(&format!("Content-Length: {}\r\n", reply.body.len()));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    match reply.trickle {
        None => stream.write_all(&reply.body)?,
        Some(interval) => {
            for byte in &reply.body {
                stream.write_all(&[*byte])?;
                stream.flush()?;
                if !sleep_unless_stopped(interval, state) {
                    return Err(std::io::Error::other("stopped"));
                }
            }
        }
    }
    stream.flush()
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        404 => "Not Found",
        408 => "Request Timeout",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

/// A TCP port on 127.0.0.1 with nothing listening (connections are refused).
pub fn refused_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}
