//! HTTP clients nobody here wrote, and raw sockets for what no client
//! sends: curl (HTTP/1.1, h2c with prior knowledge, TLS with ALPN) and a
//! raw HTTP/1.1 exchange over TCP.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::process::Command;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// One HTTP response.
#[derive(Debug)]
pub struct Response {
    /// e.g. `HTTP/1.1` or `HTTP/2`.
    pub version: String,
    pub status: u16,
    /// Lowercased names; the last value of a repeated header.
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

impl Response {
    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|error| {
            panic!(
                "not JSON ({error}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// The header `name`, or "".
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).map_or("", String::as_str)
    }

    /// Parses a head and body as curl `-i` prints them (1xx heads skipped).
    pub fn parse(raw: &[u8]) -> Response {
        let mut rest = raw;
        loop {
            let end = find(rest, b"\r\n\r\n")
                .unwrap_or_else(|| panic!("no head in {:?}", String::from_utf8_lossy(raw)));
            let head = String::from_utf8_lossy(&rest[..end]).into_owned();
            rest = &rest[end + 4..];
            let mut lines = head.split("\r\n");
            let status_line = lines.next().unwrap_or_default();
            let mut parts = status_line.split_whitespace();
            let version = parts.next().unwrap_or_default().to_owned();
            let status: u16 = parts.next().and_then(|s| s.parse().ok()).unwrap_or(0);
            if (100..200).contains(&status) {
                continue;
            }
            let headers = lines
                .filter_map(|line| line.split_once(':'))
                .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
                .collect();
            return Response {
                version,
                status,
                headers,
                body: rest.to_vec(),
            };
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

/// Runs curl with `args` (plus `-sS -i`, a 20 s cap) and `body` on stdin
/// (`--data-binary @-` when given), off the runtime's threads.
pub async fn curl(args: &[&str], body: Option<Vec<u8>>) -> Response {
    let args: Vec<String> = args.iter().map(|arg| (*arg).to_owned()).collect();
    tokio::task::spawn_blocking(move || {
        use std::io::Write;
        let mut command = Command::new("curl");
        command.args(["-sS", "-i", "--max-time", "20"]).args(&args);
        if body.is_some() {
            command.args(["--data-binary", "@-"]);
        }
        let mut child = command
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("curl is installed (scripts/install-prerequisites.sh)");
        let mut stdin = child.stdin.take().expect("stdin");
        if let Some(body) = body {
            stdin.write_all(&body).expect("write the body");
        }
        drop(stdin);
        let output = child.wait_with_output().expect("curl ran");
        assert!(
            output.status.success(),
            "curl {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        Response::parse(&output.stdout)
    })
    .await
    .expect("curl task")
}

/// Sends `request` as written over a fresh TCP connection and reads until
/// the server closes it or `wait` passes; returns what was read.
pub async fn raw(addr: SocketAddr, request: &[u8], wait: Duration) -> Vec<u8> {
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    stream.write_all(request).await.expect("write");
    let mut read = Vec::new();
    let _ = tokio::time::timeout(wait, stream.read_to_end(&mut read)).await;
    read
}

/// Sends `request` over a fresh TCP connection and reads one response:
/// its head, then `Content-Length` bytes (for servers that keep the
/// connection open).
pub async fn exchange(addr: SocketAddr, request: &[u8]) -> Response {
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    stream.write_all(request).await.expect("write");
    let mut read = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    loop {
        if let Some(end) = find(&read, b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&read[..end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|line| line.strip_prefix("content-length:"))
                .and_then(|value| value.trim().parse().ok())
                .unwrap_or(0);
            if read.len() >= end + 4 + length {
                return Response::parse(&read[..end + 4 + length]);
            }
        }
        let n = stream.read(&mut buf).await.expect("read");
        assert!(
            n > 0,
            "closed mid-response: {}",
            String::from_utf8_lossy(&read)
        );
        read.extend_from_slice(&buf[..n]);
    }
}

/// gRPC's 5-byte prefix and `message`.
pub fn envelope(flags: u8, message: &[u8]) -> Vec<u8> {
    let mut out = vec![flags];
    out.extend_from_slice(&u32::try_from(message.len()).unwrap().to_be_bytes());
    out.extend_from_slice(message);
    out
}

/// Splits a body of envelopes into (flags, message) pairs.
pub fn envelopes(mut body: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut out = Vec::new();
    while body.len() >= 5 {
        let length = u32::from_be_bytes(body[1..5].try_into().unwrap()) as usize;
        assert!(body.len() >= 5 + length, "a truncated envelope");
        out.push((body[0], body[5..5 + length].to_vec()));
        body = &body[5 + length..];
    }
    assert!(body.is_empty(), "bytes after the last envelope");
    out
}
