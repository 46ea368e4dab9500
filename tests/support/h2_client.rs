//! A raw HTTP/2 client (the `h2` crate) for clients that misbehave as no
//! gRPC library lets them: a flow-control window of 0 that is never
//! opened, a message whose length prefix promises more than is sent.
//! gRPC framing is built by hand: a 0 flag byte, the length as a u32 big
//! endian, then the protobuf bytes.

use std::future::poll_fn;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use h2::client::{ResponseFuture, SendRequest};
use h2::{RecvStream, SendStream};
use http::HeaderMap;
use tokio::net::TcpStream;
use tokio::task::JoinHandle;
use tonic::Code;

/// Largest DATA frame this client sends at once.
const CHUNK: usize = 64 * 1024;

/// One HTTP/2 connection; dropping it closes the socket.
pub struct H2Connection {
    /// Opens streams.
    pub send: SendRequest<Bytes>,
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl H2Connection {
    /// Connects to `addr`. With `window` `Some(0)` the server may send
    /// response headers but never a byte of any response body.
    pub async fn connect(addr: SocketAddr, window: Option<u32>) -> H2Connection {
        let tcp = TcpStream::connect(addr).await.expect("connect");
        tcp.set_nodelay(true).ok();
        let mut builder = h2::client::Builder::new();
        // One stream until the server's SETTINGS say how many it allows.
        builder.initial_max_send_streams(1);
        if let Some(window) = window {
            builder.initial_window_size(window);
        }
        let (send, connection) = builder.handshake(tcp).await.expect("h2 handshake");
        let task = tokio::spawn(async move {
            connection.await.ok();
        });
        let mut connection = H2Connection { send, addr, task };
        // A call that ends in its headers (UNIMPLEMENTED, trailers-only):
        // the SETTINGS exchange is done once it is back, and it needs no
        // window.
        let response = connection
            .unary("/giropops.test.Nothing/Nothing", Bytes::new())
            .await
            .expect("a first stream");
        tokio::time::timeout(Duration::from_secs(5), response)
            .await
            .expect("the server answers a first call")
            .expect("a response");
        connection
    }

    /// A gRPC request for `path` (`/package.Service/Method`).
    pub fn request(&self, path: &str) -> http::Request<()> {
        http::Request::builder()
            .method("POST")
            .uri(format!("http://{}{path}", self.addr))
            .header("content-type", "application/grpc")
            .header("te", "trailers")
            .body(())
            .expect("a request")
    }

    /// Opens a stream for `path` with its request body left open.
    pub async fn open(
        &mut self,
        path: &str,
    ) -> Result<(ResponseFuture, SendStream<Bytes>), h2::Error> {
        let request = self.request(path);
        self.send = self.send.clone().ready().await?;
        self.send.send_request(request, false)
    }

    /// Sends a whole unary request (`framed`: one or more gRPC frames)
    /// and returns its response future, not awaited.
    pub async fn unary(&mut self, path: &str, framed: Bytes) -> Result<ResponseFuture, h2::Error> {
        let (response, mut body) = self.open(path).await?;
        // The server may have answered from the headers alone (a call
        // refused before its body is read) and closed the stream already:
        // then the response says what happened.
        body.send_data(framed, true).ok();
        Ok(response)
    }
}

impl Drop for H2Connection {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// `message` as one gRPC frame.
pub fn frame(message: &impl prost::Message) -> Bytes {
    let encoded = message.encode_to_vec();
    let mut framed = BytesMut::with_capacity(5 + encoded.len());
    framed.put_u8(0);
    framed.put_u32(u32::try_from(encoded.len()).expect("a small message"));
    framed.put_slice(&encoded);
    framed.freeze()
}

/// The 5-byte prefix of an uncompressed message of `len` bytes.
pub fn prefix(len: u32) -> Bytes {
    let mut bytes = BytesMut::with_capacity(5);
    bytes.put_u8(0);
    bytes.put_u32(len);
    bytes.freeze()
}

/// The `grpc-status` in `headers` (trailers-only response, or trailers).
pub fn code_of(headers: &HeaderMap) -> Option<Code> {
    headers
        .get("grpc-status")
        .map(|value| Code::from_bytes(value.as_bytes()))
}

/// How a call ended, as a client that reads everything sees it.
#[derive(Debug)]
pub struct Outcome {
    /// The gRPC status.
    pub code: Code,
    /// Body bytes received.
    pub body_bytes: usize,
}

/// Reads `response` to its end: headers, every body byte (giving the
/// window back as it goes), trailers.
pub async fn finish(response: ResponseFuture) -> Result<Outcome, h2::Error> {
    let response = response.await?;
    if let Some(code) = code_of(response.headers()) {
        return Ok(Outcome {
            code,
            body_bytes: 0,
        });
    }
    let body = response.into_body();
    read_to_trailers(body).await
}

/// Reads `body` to its trailers, releasing flow-control capacity.
pub async fn read_to_trailers(mut body: RecvStream) -> Result<Outcome, h2::Error> {
    let mut body_bytes = 0;
    while let Some(chunk) = body.data().await {
        let chunk = chunk?;
        body_bytes += chunk.len();
        body.flow_control().release_capacity(chunk.len())?;
    }
    let trailers = body.trailers().await?;
    Ok(Outcome {
        code: trailers.as_ref().and_then(code_of).unwrap_or(Code::Unknown),
        body_bytes,
    })
}

/// Sends `data` on `stream` as the peer's window allows, never ending the
/// stream; stops early (`Err`) when the stream is reset or closed.
pub async fn send_paced(stream: &mut SendStream<Bytes>, mut data: Bytes) -> Result<(), h2::Error> {
    while !data.is_empty() {
        stream.reserve_capacity(data.len().min(CHUNK));
        match poll_fn(|cx| stream.poll_capacity(cx)).await {
            None => return Ok(()), // closed for sending
            Some(Err(error)) => return Err(error),
            Some(Ok(0)) => continue,
            Some(Ok(n)) => {
                let chunk = data.split_to(n.min(data.len()));
                stream.send_data(chunk, false)?;
            }
        }
    }
    Ok(())
}
