//! The real gRPC server, in-process, on `127.0.0.1:0`, stopped through a
//! oneshot; plus typed clients for it.

use std::future::Future;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use clap::Parser;
use giropops_senhas::config::Cli;
use giropops_senhas::proto::v1::password_service_client::PasswordServiceClient;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::transport::Channel;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;

/// A running server; dropping it stops it.
pub struct TestServer {
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl TestServer {
    /// Serves with the given command-line flags, plus a quick Redis check
    /// interval, short Redis timeouts and no metrics unless `flags` set them.
    pub async fn start(flags: &[&str]) -> TestServer {
        let defaults = [
            ("--metrics-listen", "off"),
            ("--redis-check-interval", "100ms"),
            ("--redis-connect-timeout", "500ms"),
            ("--redis-command-timeout", "500ms"),
        ];
        let mut argv = vec!["giropops-senhas"];
        for (flag, value) in defaults {
            if !flags.contains(&flag) {
                argv.extend([flag, value]);
            }
        }
        argv.extend_from_slice(flags);
        let cli = Cli::try_parse_from(argv).expect("valid flags");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("local addr");
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            giropops_senhas::server::serve(listener, cli.serve, async {
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

    /// Serves with history in `redis_url`.
    pub async fn with_redis(redis_url: &str, extra: &[&str]) -> TestServer {
        let mut flags = vec!["--redis-url", redis_url];
        flags.extend_from_slice(extra);
        TestServer::start(&flags).await
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
