//! The real gRPC server, in-process, on `127.0.0.1:0`, stopped through a
//! oneshot; plus typed clients for it. The server is configured with a
//! [`ServerConfig`] built here, never from the environment: a variable
//! exported in the developer's shell cannot change a test.

use std::future::Future;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use giropops_senhas::auth::Scopes;
use giropops_senhas::config::{ServerConfig, TrustConfig};
use giropops_senhas::history::{HistoryConfig, HistoryMode, RedisTarget};
use giropops_senhas::keyring::KeyRing;
use giropops_senhas::proto::v1::password_service_client::PasswordServiceClient;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::transport::Channel;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;

/// The history key prefix the server uses in tests.
pub const HISTORY_KEY: &str = "giropops-senhas:history";
/// The Redis list of the anonymous principal's history.
pub const ANONYMOUS_LIST: &str = "{giropops-senhas:history}:anonymous";

/// No history, no metrics endpoint, a quick Redis check interval.
pub fn stateless_config() -> ServerConfig {
    ServerConfig {
        redis_check_interval: Duration::from_millis(100),
        ..ServerConfig::default()
    }
}

/// A history of `cap` entries in `redis_url`, with short Redis timeouts,
/// encrypted with an ephemeral key; anonymous callers may do everything
/// (their history is [`ANONYMOUS_LIST`]).
pub fn redis_config(redis_url: &str, cap: usize) -> ServerConfig {
    ServerConfig {
        history: Some(HistoryConfig {
            target: RedisTarget::url(redis_url).expect("a redis url"),
            tls_roots: None,
            key: HISTORY_KEY.to_owned(),
            cap,
            pool_size: 16,
            connect_timeout: Duration::from_millis(500),
            response_timeout: Duration::from_millis(500),
            command_timeout: Duration::from_millis(500),
            min_replicas_ack: 0,
            wait_timeout: Duration::from_millis(200),
            keys: KeyRing::ephemeral(),
            mode: HistoryMode::Encrypted,
            ttl: Duration::from_secs(24 * 3600),
        }),
        trust: TrustConfig {
            anonymous_scopes: Scopes::all(),
            ..TrustConfig::default()
        },
        ..stateless_config()
    }
}

/// A running server; dropping it stops it.
pub struct TestServer {
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl TestServer {
    /// Serves with `config`.
    pub async fn start(config: ServerConfig) -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("local addr");
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            giropops_senhas::server::serve(listener, config, async {
                stopped.await.ok();
            })
            .await
            .expect("server ran");
        });
        TestServer {
            addr,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// Serves with no history.
    pub async fn stateless() -> TestServer {
        TestServer::start(stateless_config()).await
    }

    /// Serves with the default history (10 entries) in `redis_url`.
    pub async fn with_redis(redis_url: &str) -> TestServer {
        TestServer::start(redis_config(redis_url, 10)).await
    }

    /// `http://ADDR`.
    pub fn uri(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A connected channel.
    pub async fn channel(&self) -> Channel {
        Channel::from_shared(self.uri())
            .expect("uri")
            .connect()
            .await
            .expect("connect to test server")
    }

    /// A PasswordService client.
    pub async fn client(&self) -> PasswordServiceClient<Channel> {
        PasswordServiceClient::new(self.channel().await)
    }

    /// A grpc.health.v1 client.
    pub async fn health(&self) -> HealthClient<Channel> {
        HealthClient::new(self.channel().await)
    }

    /// The health status of `service` ("" for the server).
    pub async fn health_status(&self, service: &str) -> i32 {
        self.health()
            .await
            .check(HealthCheckRequest {
                service: service.to_owned(),
            })
            .await
            .expect("health check answers")
            .into_inner()
            .status
    }

    /// Stops the server and waits for it.
    pub async fn shutdown(mut self) {
        self.stop.take().map(|s| s.send(()));
        if let Some(task) = self.task.take() {
            task.await.expect("server task");
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop.take().map(|s| s.send(()));
    }
}

/// `GET /metrics` on `127.0.0.1:port` with a bare HTTP/1.1 request: the
/// whole response, headers included (asserted `200`).
pub async fn scrape(port: u16) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("metrics port open");
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    response
}

/// Polls `check` until it is true or `timeout` passes; returns whether it
/// became true. For conditions the server reaches on its own schedule.
pub async fn wait_until<F, Fut>(timeout: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if check().await {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
