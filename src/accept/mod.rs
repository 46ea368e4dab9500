//! The gRPC port's own accept path: what happens to a connection before
//! HTTP sees it, TLS included (each handshake in its own task, under the
//! preface timeout, with the certificate current at that moment: a reload
//! never touches live connections).
//!
//! Every accepted socket gets `TCP_NODELAY` (without it Nagle's algorithm
//! holds small replies ~40 ms for a client that waits for each reply before
//! sending again) and TCP keepalive. Open connections are capped: at the
//! cap, accepting pauses and new clients wait in the kernel's backlog. A
//! connection that has not sent the 24-byte HTTP/2 preface, or the whole
//! head of its first HTTP/1.1 request, within `preface_timeout` is closed
//! (hyper has no HTTP/2 deadline, and 30 s for HTTP/1.1 heads): a client
//! trickling its headers holds a connection that long, no longer. When the
//! process runs out of file descriptors, accepting backs off with one WARN
//! instead of spinning. HTTP/1.1 request framing is followed on the way
//! in (`accept/framing.rs`): a request-smuggling head is refused (400) by hyper
//! itself, and the connection closed.
//!
//! With mutual TLS, the DNS and URI SANs of the client's verified
//! certificate are read once, after the handshake, and travel with the
//! connection ([`ConnectionInfo::client_sans`]); the auth layer maps them
//! to a principal on every call, with the client scopes current then.

mod framing;

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use socket2::{SockRef, TcpKeepalive};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use tokio::time::{Sleep, sleep};
use tokio_rustls::server::TlsStream;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::server::{Connected, TcpConnectInfo};

use crate::metrics::{GaugeGuard, Metrics};
use crate::tls::{ClientSan, ReloadableTls, peer_sans};

use framing::FramingGuard;

/// The end of an HTTP/1.1 request head, also inside the HTTP/2 preface
/// (`PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n`), as the last four bytes read.
const HEAD_END: u32 = u32::from_be_bytes(*b"\r\n\r\n");
/// Idle time before TCP keepalive probes start.
const KEEPALIVE_TIME: Duration = Duration::from_secs(60);
/// Between keepalive probes.
const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(10);
/// How long accepting pauses after an error (out of file descriptors…).
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Bounds on connections.
#[derive(Debug, Clone)]
pub struct AcceptLimits {
    /// Most connections open at once.
    pub max_connections: usize,
    /// Time a new connection has to send the HTTP/2 preface (or, over
    /// HTTP/1.1, its first request head).
    pub preface_timeout: Duration,
    /// Response bytes the calls of one connection may hold.
    pub connection_budget_bytes: usize,
    /// Server TLS; `None`: plaintext.
    pub tls: Option<Arc<ReloadableTls>>,
}

/// What a call knows of its connection (in its request extensions).
#[derive(Debug, Clone)]
pub struct ConnectionInfo {
    /// Addresses.
    pub tcp: TcpConnectInfo,
    /// The connection's response byte budget: one permit per byte.
    pub budget: Arc<Semaphore>,
    /// With mutual TLS, the DNS and URI SANs of the client's verified
    /// certificate, in its order (possibly none); `None` without mutual
    /// TLS.
    pub client_sans: Option<Arc<[ClientSan]>>,
    /// The connection is TLS (the page then sends HSTS).
    pub tls: bool,
}

/// Accepts connections from `listener` until the returned stream is
/// dropped.
pub fn incoming(
    listener: TcpListener,
    limits: AcceptLimits,
    metrics: Metrics,
) -> ReceiverStream<io::Result<Connection>> {
    let (sender, receiver) = mpsc::channel(1);
    tokio::spawn(accept_loop(listener, limits, metrics, sender));
    ReceiverStream::new(receiver)
}

async fn accept_loop(
    listener: TcpListener,
    limits: AcceptLimits,
    metrics: Metrics,
    sender: mpsc::Sender<io::Result<Connection>>,
) {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let mut out_of_descriptors = false;
    loop {
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => permit.expect("never closed"),
            () = sender.closed() => return,
        };
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = sender.closed() => return,
        };
        let stream = match accepted {
            Ok((stream, _peer)) => {
                if out_of_descriptors {
                    tracing::info!("accepting connections again");
                    out_of_descriptors = false;
                }
                stream
            }
            Err(error) => {
                // EMFILE (24) / ENFILE (23): out of file descriptors.
                if matches!(error.raw_os_error(), Some(23 | 24)) {
                    if !out_of_descriptors {
                        tracing::warn!(%error, "out of file descriptors: accepting paused, retrying every {}ms", ACCEPT_BACKOFF.as_millis());
                        out_of_descriptors = true;
                    }
                } else {
                    tracing::debug!(%error, "accept failed");
                }
                sleep(ACCEPT_BACKOFF).await;
                continue;
            }
        };
        if let Err(error) = configure(&stream) {
            tracing::debug!(%error, "cannot set socket options; connection dropped");
            continue;
        }
        let connection = Connection {
            io: Io::Plain(stream),
            preface_deadline: Some(Box::pin(sleep(limits.preface_timeout))),
            last_four: 0,
            framing: Some(Box::default()),
            ready: Vec::new(),
            ready_at: 0,
            budget: Arc::new(Semaphore::new(limits.connection_budget_bytes)),
            client_sans: None,
            _permit: permit,
            _open: metrics.connection_opened(),
        };
        match &limits.tls {
            None => {
                if sender.send(Ok(connection)).await.is_err() {
                    return;
                }
            }
            Some(tls) => {
                tokio::spawn(handshake(
                    tls.clone(),
                    connection,
                    limits.preface_timeout,
                    sender.clone(),
                ));
            }
        }
    }
}

/// Completes a TLS handshake, in its own task, then hands the connection
/// on (with mutual TLS, with its client certificate's SANs); a failed or
/// slow handshake only closes this connection.
async fn handshake(
    tls: Arc<ReloadableTls>,
    mut connection: Connection,
    timeout: Duration,
    sender: mpsc::Sender<io::Result<Connection>>,
) {
    let Io::Plain(stream) = connection.io else {
        return;
    };
    match tls.handshake(stream, timeout).await {
        Ok(stream) => {
            if tls.is_mutual() {
                match peer_sans(stream.get_ref().1) {
                    Ok(sans) => connection.client_sans = Some(sans.into()),
                    Err(error) => {
                        // Verified by the CA, yet unreadable here: no
                        // name to give it, so no service.
                        tracing::debug!(%error, "client certificate refused");
                        return;
                    }
                }
            }
            connection.io = Io::Tls(Box::new(stream));
            connection.preface_deadline = Some(Box::pin(sleep(timeout)));
            let _ = sender.send(Ok(connection)).await;
        }
        Err(error) => tracing::debug!(%error, "TLS handshake failed"),
    }
}

fn configure(stream: &TcpStream) -> io::Result<()> {
    stream.set_nodelay(true)?;
    let keepalive = TcpKeepalive::new()
        .with_time(KEEPALIVE_TIME)
        .with_interval(KEEPALIVE_INTERVAL);
    SockRef::from(stream).set_tcp_keepalive(&keepalive)
}

/// An accepted connection: holds its place under the connection cap and
/// in the open-connections gauge until it is dropped.
#[derive(Debug)]
pub struct Connection {
    io: Io,
    /// Until the HTTP/2 preface or the first HTTP/1.1 request head has
    /// arrived (until the first `\r\n\r\n`).
    preface_deadline: Option<Pin<Box<Sleep>>>,
    /// The last four bytes read, while the deadline runs.
    last_four: u32,
    /// Follows HTTP/1.1 framing until it is off (at once for HTTP/2).
    framing: Option<Box<FramingGuard>>,
    /// Bytes the framing guard let through, for hyper's next reads.
    ready: Vec<u8>,
    /// How much of `ready` hyper has read.
    ready_at: usize,
    budget: Arc<Semaphore>,
    client_sans: Option<Arc<[ClientSan]>>,
    _permit: OwnedSemaphorePermit,
    _open: GaugeGuard,
}

/// Bytes read per socket read while the framing guard is on.
const GUARDED_READ_BYTES: usize = 8192;

impl AsyncRead for Connection {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        loop {
            if this.ready_at < this.ready.len() {
                let take = buf.remaining().min(this.ready.len() - this.ready_at);
                buf.put_slice(&this.ready[this.ready_at..this.ready_at + take]);
                this.ready_at += take;
                if this.ready_at == this.ready.len() {
                    this.ready.clear();
                    this.ready_at = 0;
                }
                return Poll::Ready(Ok(()));
            }
            let Some(mut guard) = this.framing.take() else {
                return this.poll_socket(cx, buf);
            };
            let mut bytes = [std::mem::MaybeUninit::uninit(); GUARDED_READ_BYTES];
            let mut read = ReadBuf::uninit(&mut bytes);
            match this.poll_socket(cx, &mut read) {
                Poll::Ready(Ok(())) if read.filled().is_empty() => {
                    // The end of the stream: hyper gets what is held, then
                    // the end.
                    guard.finish(&mut this.ready);
                    if this.ready.is_empty() {
                        return Poll::Ready(Ok(()));
                    }
                }
                Poll::Ready(Ok(())) => {
                    guard.feed(read.filled(), &mut this.ready);
                    if !guard.is_off() {
                        this.framing = Some(guard);
                    }
                }
                other => {
                    this.framing = Some(guard);
                    return other;
                }
            }
        }
    }
}

impl Connection {
    /// Reads the socket, under the preface deadline until the first head.
    fn poll_socket(&mut self, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let result = Pin::new(&mut self.io).poll_read(cx, buf);
        let Some(deadline) = self.preface_deadline.as_mut() else {
            return result;
        };
        match result {
            Poll::Ready(Ok(())) => {
                for &byte in &buf.filled()[before..] {
                    self.last_four = (self.last_four << 8) | u32::from(byte);
                    if self.last_four == HEAD_END {
                        self.preface_deadline = None;
                        break;
                    }
                }
                Poll::Ready(Ok(()))
            }
            Poll::Pending if deadline.as_mut().poll(cx).is_ready() => {
                Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "no HTTP/2 preface or HTTP/1.1 request head in time",
                )))
            }
            other => other,
        }
    }
}

impl AsyncWrite for Connection {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}

impl Connected for Connection {
    type ConnectInfo = ConnectionInfo;

    fn connect_info(&self) -> ConnectionInfo {
        let tcp = match &self.io {
            Io::Plain(stream) => stream.connect_info(),
            Io::Tls(stream) => stream.get_ref().0.connect_info(),
        };
        ConnectionInfo {
            tcp,
            budget: self.budget.clone(),
            client_sans: self.client_sans.clone(),
            tls: matches!(self.io, Io::Tls(_)),
        }
    }
}

/// A connection's bytes: plain TCP or TLS over it.
#[derive(Debug)]
enum Io {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl AsyncRead for Io {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Io::Plain(stream) => Pin::new(stream).poll_read(cx, buf),
            Io::Tls(stream) => Pin::new(stream).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Io {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Io::Plain(stream) => Pin::new(stream).poll_write(cx, buf),
            Io::Tls(stream) => Pin::new(stream).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Io::Plain(stream) => Pin::new(stream).poll_flush(cx),
            Io::Tls(stream) => Pin::new(stream).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Io::Plain(stream) => Pin::new(stream).poll_shutdown(cx),
            Io::Tls(stream) => Pin::new(stream).poll_shutdown(cx),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Io::Plain(stream) => Pin::new(stream).poll_write_vectored(cx, bufs),
            Io::Tls(stream) => Pin::new(stream).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Io::Plain(stream) => stream.is_write_vectored(),
            Io::Tls(stream) => stream.is_write_vectored(),
        }
    }
}
