//! Test harness: a real loopback HTTP server (the probed service and a notification
//! sink), a notifier that really POSTs each envelope to it, and the normalisation
//! shared with conformance/record_runner.py.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use notifier_core::{Envelope, Event};
use notifier_runner::FlowNotifier;
use serde_json::{Map, Value, json};

/// The repository root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_default()
}

/// An example experiment.
pub fn example(name: &str) -> PathBuf {
    root().join("examples").join("experiments").join(name)
}

/// One request the server received.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// A loopback HTTP/1.1 server in a thread, with the routes of record_runner.py:
/// `POST /events` (the notification sink), `GET /health` (JSON), `GET /text`,
/// `POST /action` (echoes the JSON body), `GET /status/503`, `GET /slow` (sleeps 3 s).
pub struct Server {
    pub port: u16,
    received: Arc<Mutex<Vec<Received>>>,
    stop: Arc<AtomicBool>,
}

impl Server {
    pub fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let port = listener.local_addr().expect("local addr").port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (r, s) = (received.clone(), stop.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let r = r.clone();
                std::thread::spawn(move || handle(stream, &r));
            }
        });
        Server { port, received, stop }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// The envelopes POSTed to /events, in arrival order.
    pub fn events(&self) -> Vec<Value> {
        self.received()
            .into_iter()
            .filter(|r| r.path == "/events")
            .map(|r| serde_json::from_slice(&r.body).expect("event body is JSON"))
            .collect()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn handle(mut stream: TcpStream, received: &Mutex<Vec<Received>>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut reader = BufReader::new(match stream.try_clone() {
        Ok(s) => s,
        Err(_) => return,
    });
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_string();
    let target = parts.next().unwrap_or_default().to_string();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" || h == "\n" {
            break;
        }
        if let Some((k, v)) = h.trim_end().split_once(':') {
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    let length = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    let _ = reader.read_exact(&mut body);
    let path = target.split('?').next().unwrap_or_default().to_string();
    if let Ok(mut r) = received.lock() {
        r.push(Received { method: method.clone(), path: target.clone(), headers, body: body.clone() });
    }
    let (status, content_type, reply): (u16, &str, Vec<u8>) = match (method.as_str(), path.as_str()) {
        ("POST", "/events") => (200, "application/json", b"{\"ok\": true}".to_vec()),
        ("POST", "/action") => {
            let received: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            (200, "application/json", serde_json::to_vec(&json!({"received": received})).unwrap_or_default())
        }
        ("GET", "/health") => (200, "application/json", b"{\"status\": \"ok\"}".to_vec()),
        ("GET", "/text") => (200, "text/plain", b"healthy\n".to_vec()),
        ("GET", "/status/503") => (503, "text/plain", b"unavailable\n".to_vec()),
        ("GET", "/slow") => {
            std::thread::sleep(Duration::from_secs(3));
            (200, "text/plain", b"late\n".to_vec())
        }
        _ => (404, "text/plain", b"not found\n".to_vec()),
    };
    let head = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        reply.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(&reply);
    let _ = stream.flush();
    let _ = stream.shutdown(Shutdown::Both);
}

/// What the notifier saw for one event.
#[derive(Debug, Clone)]
pub struct Sent {
    pub event: Event,
    pub payload: Value,
    pub error: Option<Value>,
    /// Whether the journal file existed when the event was sent.
    pub journal_existed: bool,
}

/// A FlowNotifier that POSTs every envelope (the reference's wire bytes) to the
/// server's /events, like an http channel, and remembers what it sent.
pub struct HttpChannel {
    pub url: String,
    pub journal_path: PathBuf,
    pub sent: Mutex<Vec<Sent>>,
}

impl HttpChannel {
    pub fn new(server: &Server, journal_path: &Path) -> HttpChannel {
        HttpChannel::to_port(server.port, journal_path)
    }

    /// A channel to the server on this loopback port (from another process).
    pub fn to_port(port: u16, journal_path: &Path) -> HttpChannel {
        HttpChannel {
            url: format!("127.0.0.1:{port}"),
            journal_path: journal_path.to_path_buf(),
            sent: Mutex::new(Vec::new()),
        }
    }

    pub fn sent(&self) -> Vec<Sent> {
        self.sent.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

impl FlowNotifier for HttpChannel {
    fn notify(&self, event: Event, payload: &Value, error: Option<&Value>) {
        if let Ok(mut s) = self.sent.lock() {
            s.push(Sent {
                event,
                payload: payload.clone(),
                error: error.cloned(),
                journal_existed: self.journal_path.exists(),
            });
        }
        let body = Envelope::new(event, payload.clone(), error.cloned()).to_wire_json();
        let Ok(mut stream) = TcpStream::connect(&self.url) else {
            return;
        };
        let head = format!(
            "POST /events HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            self.url,
            body.len()
        );
        let _ = stream.write_all(head.as_bytes());
        let _ = stream.write_all(&body);
        let mut reply = Vec::new();
        let _ = stream.read_to_end(&mut reply);
    }
}

/// The envelope names the server received.
pub fn names(events: &[Value]) -> Vec<String> {
    events.iter().map(|e| e["name"].as_str().unwrap_or_default().to_string()).collect()
}

/// Normalisation shared with conformance/record_runner.py (see its `normalise`).
pub fn normalise(value: &Value, tmp: &str, service: &str) -> Value {
    match value {
        Value::Object(map) => {
            let is_http_output =
                map.len() == 3 && map.contains_key("status") && map.contains_key("headers") && map.contains_key("body");
            let mut out = Map::new();
            for (k, v) in map {
                let (key, val) = match (k.as_str(), v) {
                    ("chaoslib-version" | "notifier-version", _) => {
                        ("<runner-version>".to_string(), json!("<version>"))
                    }
                    ("platform", Value::String(_)) => (k.clone(), json!("<platform>")),
                    ("node", Value::String(_)) => (k.clone(), json!("<node>")),
                    ("start" | "end", Value::String(_)) => (k.clone(), json!("<time>")),
                    ("duration", Value::Number(_)) => (k.clone(), json!("<duration>")),
                    ("ts", Value::Number(_)) => (k.clone(), json!("<ts>")),
                    ("exception", Value::Array(lines)) => {
                        let last = lines.last().and_then(Value::as_str).unwrap_or_default();
                        let last = last.trim();
                        let (kind, message) = last.split_once(": ").unwrap_or((last, ""));
                        let kind = kind.rsplit('.').next().unwrap_or(kind);
                        let line = json!(format!("{kind}: {message}\n"));
                        (k.clone(), json!([normalise(&line, tmp, service)]))
                    }
                    ("headers", _) if is_http_output => (k.clone(), json!("<headers>")),
                    _ => (k.clone(), normalise(v, tmp, service)),
                };
                out.insert(key, val);
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(|v| normalise(v, tmp, service)).collect()),
        Value::String(s) => {
            let mut s = s.replace(tmp, "<tmp>").replace(service, "<service>");
            if let Some(i) = s.find("failed to connect to ")
                && let Some(j) = s[i + "failed to connect to ".len()..].find(": ")
            {
                let cut = i + "failed to connect to ".len() + j;
                s.truncate(cut);
                s.push_str(": <reason>");
            }
            Value::String(s)
        }
        other => other.clone(),
    }
}
