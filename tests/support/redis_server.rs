//! An RAII `redis-server` on a free loopback port, in its own temp dir,
//! and an RAII `redis-sentinel` watching one. The binaries can be
//! overridden with `REDIS_SERVER_BIN` and `REDIS_SENTINEL_BIN`.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// A `redis-server` child process; `Drop` kills it and waits for it.
pub struct RedisServer {
    child: Option<Child>,
    port: u16,
    dir: TempDir,
    /// Arguments after the defaults (a later one wins).
    extra_args: Vec<String>,
    /// `user:password@` for the harness's own connections, when the
    /// default user is off.
    credentials: Option<String>,
}

/// A port that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind an ephemeral port")
        .port()
}

impl RedisServer {
    /// Starts a server and waits until it answers PING.
    pub fn start() -> RedisServer {
        RedisServer::start_with(&[], None)
    }

    /// Starts a server with `extra_args` after the defaults (e.g.
    /// `--appendonly yes`), and waits until it answers PING; the harness
    /// connects as `credentials` (`(user, password)`) when given.
    pub fn start_with(extra_args: &[&str], credentials: Option<(&str, &str)>) -> RedisServer {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut server = RedisServer {
            child: None,
            port: free_port(),
            dir,
            extra_args: extra_args.iter().map(|a| (*a).to_owned()).collect(),
            credentials: credentials.map(|(user, password)| format!("{user}:{password}@")),
        };
        server.spawn();
        server
    }

    /// `INFO section`, as text.
    pub fn info(&self, section: &str) -> redis::RedisResult<String> {
        redis::cmd("INFO")
            .arg(section)
            .query(&mut self.connection()?)
    }

    /// `redis://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Its working directory (`--dir`): the append-only files, if any, and
    /// room for sockets and certificates.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The port it listens on (kept across restarts).
    pub fn port(&self) -> u16 {
        self.port
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("redis.log")
    }

    fn spawn(&mut self) {
        let binary = std::env::var("REDIS_SERVER_BIN").unwrap_or_else(|_| "redis-server".into());
        let child = Command::new(&binary)
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(self.dir.path())
            .arg("--logfile")
            .arg(self.log_path())
            .args(&self.extra_args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {binary} (install redis-server): {e}"));
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if self.ping().is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let log = std::fs::read_to_string(self.log_path()).unwrap_or_default();
        panic!(
            "redis-server on port {} did not answer PING in 10s; its log:\n{log}",
            self.port
        );
    }

    fn connection(&self) -> redis::RedisResult<redis::Connection> {
        let url = format!(
            "redis://{}127.0.0.1:{}",
            self.credentials.as_deref().unwrap_or(""),
            self.port
        );
        let client = redis::Client::open(url)?;
        client.get_connection_with_timeout(Duration::from_secs(2))
    }

    /// PING, for readiness.
    pub fn ping(&self) -> redis::RedisResult<()> {
        redis::cmd("PING").query::<String>(&mut self.connection()?)?;
        Ok(())
    }

    /// The raw entries of a list, newest first.
    pub fn list(&self, key: &str) -> Vec<String> {
        redis::cmd("LRANGE")
            .arg(key)
            .arg(0)
            .arg(-1)
            .query(&mut self.connection().expect("connect to test redis"))
            .expect("LRANGE")
    }

    /// Every key in the database.
    pub fn keys(&self) -> Vec<String> {
        redis::cmd("KEYS")
            .arg("*")
            .query(&mut self.connection().expect("connect to test redis"))
            .expect("KEYS")
    }

    /// Runs a raw command (e.g. to seed legacy entries).
    pub fn run(&self, args: &[&str]) {
        let mut cmd = redis::cmd(args[0]);
        for arg in &args[1..] {
            cmd.arg(*arg);
        }
        cmd.exec(&mut self.connection().expect("connect to test redis"))
            .expect("redis command");
    }

    /// Kills the server (data is lost: it keeps none on disk).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().ok();
            child.wait().ok();
        }
    }

    /// Starts it again on the same port.
    pub fn restart(&mut self) {
        self.stop();
        self.spawn();
    }

    /// Freezes the process (SIGSTOP): connections stay open, nothing answers.
    pub fn pause(&self) {
        self.signal("-STOP");
    }

    /// Thaws a paused process (SIGCONT).
    pub fn resume(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, signal: &str) {
        let pid = self.child.as_ref().expect("running").id();
        let status = Command::new("kill")
            .args([signal, &pid.to_string()])
            .status()
            .expect("kill");
        assert!(status.success(), "kill {signal} {pid}");
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        if let Some(child) = &self.child {
            // A paused process must be thawed to die promptly.
            Command::new("kill")
                .args(["-CONT", &child.id().to_string()])
                .status()
                .ok();
        }
        self.stop();
    }
}

/// A `redis-sentinel` on a free loopback port watching one master, with
/// its own writable config file (Sentinel rewrites it); `Drop` kills it.
pub struct Sentinel {
    child: Option<Child>,
    port: u16,
    dir: TempDir,
    /// Its `requirepass`, if any.
    password: Option<String>,
}

/// The master name the test Sentinels use.
pub const MASTER_NAME: &str = "mymaster";

impl Sentinel {
    /// Starts a Sentinel watching `master` (quorum 2, down after 1 s) and
    /// waits until it answers PING.
    pub fn start(master: &RedisServer) -> Sentinel {
        Sentinel::start_with(master.port(), 2, "", None)
    }

    /// Starts a Sentinel watching the master on `master_port` with
    /// `quorum`, `extra` config lines (after the monitor line), and
    /// `password` if `extra` sets `requirepass`.
    pub fn start_with(
        master_port: u16,
        quorum: u32,
        extra: &str,
        password: Option<&str>,
    ) -> Sentinel {
        let dir = tempfile::tempdir().expect("temp dir");
        let port = free_port();
        let config = dir.path().join("sentinel.conf");
        std::fs::write(
            &config,
            format!(
                "port {port}\nbind 127.0.0.1\ndir {dir}\nlogfile {dir}/sentinel.log\n\
                 sentinel monitor {MASTER_NAME} 127.0.0.1 {master_port} {quorum}\n\
                 sentinel down-after-milliseconds {MASTER_NAME} 1000\n\
                 sentinel failover-timeout {MASTER_NAME} 2000\n\
                 sentinel parallel-syncs {MASTER_NAME} 1\n{extra}\n",
                dir = dir.path().display(),
            ),
        )
        .expect("sentinel config");
        let binary =
            std::env::var("REDIS_SENTINEL_BIN").unwrap_or_else(|_| "redis-sentinel".into());
        let child = Command::new(&binary)
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {binary} (install redis-sentinel): {e}"));
        let sentinel = Sentinel {
            child: Some(child),
            port,
            dir,
            password: password.map(str::to_owned),
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if sentinel.master_addr().is_ok() {
                return sentinel;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!(
            "redis-sentinel on port {port} did not answer in 10s; its log:\n{}",
            sentinel.log()
        );
    }

    /// `127.0.0.1:PORT`.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Its log.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("sentinel.log")).unwrap_or_default()
    }

    /// The master's port, as this Sentinel sees it now.
    pub fn master_addr(&self) -> redis::RedisResult<u16> {
        let auth = self
            .password
            .as_ref()
            .map_or(String::new(), |password| format!(":{password}@"));
        let client = redis::Client::open(format!("redis://{auth}127.0.0.1:{}", self.port))?;
        let mut connection = client.get_connection_with_timeout(Duration::from_secs(2))?;
        let (_host, port): (String, u16) = redis::cmd("SENTINEL")
            .arg("get-master-addr-by-name")
            .arg(MASTER_NAME)
            .query(&mut connection)?;
        Ok(port)
    }

    /// Kills it (SIGKILL).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().ok();
            child.wait().ok();
        }
    }
}

impl Drop for Sentinel {
    fn drop(&mut self) {
        self.kill();
    }
}
