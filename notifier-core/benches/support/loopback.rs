//! A minimal keep-alive HTTP/1.1 server on 127.0.0.1 for the benchmarks: one thread per
//! connection, answers `200` with an empty body to everything, except
//! * `/hang…`: holds the request for 60 s without answering (a hung endpoint);
//! * `GET /stats`: `{"requests": N, "connections": M}` (connections that carried at least
//!   one request other than `/stats`).
//!
//! It records nothing, so it costs the client as little as a server can.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

#[derive(Default)]
struct Counts {
    requests: AtomicU64,
    connections: AtomicU64,
}

/// Starts the server on `port` (0: any free port) and returns its address.
pub fn start(port: u16) -> SocketAddr {
    let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind 127.0.0.1");
    let addr = listener.local_addr().expect("local address");
    let counts = Arc::new(Counts::default());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let counts = counts.clone();
            std::thread::spawn(move || serve(stream, &counts));
        }
    });
    addr
}

fn serve(stream: TcpStream, counts: &Counts) {
    let _ = stream.set_nodelay(true);
    // Idle keep-alive connections close by themselves.
    let _ = stream.set_read_timeout(Some(Duration::from_secs(120)));
    let Ok(write) = stream.try_clone() else { return };
    let mut write = write;
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    let mut body = Vec::new();
    let mut counted = false;
    loop {
        line.clear();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut parts = line.split_whitespace();
        let (method, path) = (parts.next().unwrap_or("").to_owned(), parts.next().unwrap_or("").to_owned());
        let mut length = 0usize;
        loop {
            line.clear();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap_or(0);
            }
        }
        body.resize(length, 0);
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        if path.starts_with("/hang") {
            std::thread::sleep(Duration::from_secs(60));
            return;
        }
        let reply = if method == "GET" && path == "/stats" {
            let text = format!(
                r#"{{"requests": {}, "connections": {}}}"#,
                counts.requests.load(Ordering::Relaxed),
                counts.connections.load(Ordering::Relaxed)
            );
            format!("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{text}", text.len())
        } else {
            if !counted {
                counted = true;
                counts.connections.fetch_add(1, Ordering::Relaxed);
            }
            counts.requests.fetch_add(1, Ordering::Relaxed);
            "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n".to_owned()
        };
        if write.write_all(reply.as_bytes()).is_err() {
            return;
        }
    }
}
