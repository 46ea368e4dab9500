//! The real binary as a child process, and what the kernel says about it
//! (/proc/<pid>/status, /proc/<pid>/stat, /proc/<pid>/fd): peak resident
//! memory, threads, CPU time and open descriptors. Memory has to be read
//! from a separate process: allocators keep freed memory, and the test's
//! own clients would blur an in-process figure.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use clap::CommandFactory;
use giropops_senhas::cli::Cli;
use tempfile::TempDir;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

use super::redis_server::free_port;
use super::wait_until;

/// The server binary cargo built for the tests.
pub const BINARY: &str = env!("CARGO_BIN_EXE_giropops-senhas");

/// The binary, with every environment variable it reads removed: a
/// variable exported in the developer's shell cannot change a test.
/// (A copy of the helper in tests/lifecycle.rs.)
pub fn binary() -> Command {
    binary_at(BINARY)
}

/// Every environment variable the CLI reads.
fn variables() -> Vec<std::ffi::OsString> {
    fn walk(command: &clap::Command, into: &mut Vec<std::ffi::OsString>) {
        into.extend(
            command
                .get_arguments()
                .filter_map(|arg| arg.get_env().map(Into::into)),
        );
        for sub in command.get_subcommands() {
            walk(sub, into);
        }
    }
    let mut names = Vec::new();
    walk(&Cli::command(), &mut names);
    assert!(names.len() > 20, "the CLI reads {} variables", names.len());
    names
}

fn binary_at(program: &str) -> Command {
    let mut command = Command::new(program);
    for name in variables() {
        command.env_remove(name);
    }
    command
}

/// The binary serving gRPC on a free loopback port, its log in a file.
pub struct ServerProcess {
    child: Child,
    /// The gRPC address.
    pub addr: SocketAddr,
    /// `http://ADDR`.
    pub uri: String,
    /// The metrics port, when metrics are on.
    pub metrics_port: Option<u16>,
    log: PathBuf,
    /// With [`Options::stderr_unread`]: the pipe's read end, held open and
    /// never read.
    _unread: Option<std::process::ChildStderr>,
    _dir: TempDir,
}

/// How to start a [`ServerProcess`].
#[derive(Default)]
pub struct Options<'a> {
    /// Extra flags.
    pub args: &'a [&'a str],
    /// Serve /metrics on a free port.
    pub metrics: bool,
    /// Run under this RLIMIT_NOFILE (soft and hard), set by `sh -c ulimit`.
    pub open_files: Option<u32>,
    /// stderr to a pipe nobody reads (it fills, then every write blocks),
    /// instead of the log file.
    pub stderr_unread: bool,
}

impl ServerProcess {
    /// Starts the binary with `args` (metrics off) and waits until it
    /// answers health SERVING.
    pub async fn start(args: &[&str]) -> ServerProcess {
        ServerProcess::start_with(Options {
            args,
            ..Options::default()
        })
        .await
    }

    /// Starts the binary as `options` says and waits until it answers.
    pub async fn start_with(options: Options<'_>) -> ServerProcess {
        let dir = tempfile::tempdir().expect("temp dir");
        let log = dir.path().join("server.log");
        let port = free_port();
        let metrics_port = options.metrics.then(free_port);
        let mut command = match options.open_files {
            Some(limit) => {
                // `ulimit -n` in sh sets both limits: the server cannot
                // raise its soft limit past the hard one.
                let mut command = binary_at("sh");
                command.args([
                    "-c",
                    &format!("ulimit -n {limit} && exec \"$0\" \"$@\""),
                    BINARY,
                ]);
                command
            }
            None => binary(),
        };
        command
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .args([
                "--metrics-listen",
                &metrics_port.map_or("off".to_owned(), |p| format!("127.0.0.1:{p}")),
            ])
            .args(options.args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(if options.stderr_unread {
                Stdio::piped()
            } else {
                std::fs::File::create(&log).expect("log file").into()
            });
        let mut child = command.spawn().expect("start the binary");
        let unread = child.stderr.take();
        let server = ServerProcess {
            child,
            addr: ([127, 0, 0, 1], port).into(),
            uri: format!("http://127.0.0.1:{port}"),
            metrics_port,
            log,
            _unread: unread,
            _dir: dir,
        };
        server.wait_serving().await;
        server
    }

    async fn wait_serving(&self) {
        let serving = wait_until(Duration::from_secs(20), || async {
            health(&self.uri, "", Duration::from_millis(500)).await == Ok(ServingStatus::Serving)
        })
        .await;
        assert!(
            serving,
            "server never became SERVING; log:\n{}",
            self.logs()
        );
        if let Some(port) = self.metrics_port {
            let listening = wait_until(Duration::from_secs(5), || async {
                tokio::net::TcpStream::connect(("127.0.0.1", port))
                    .await
                    .is_ok()
            })
            .await;
            assert!(listening, "metrics port never opened");
        }
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().expect("try_wait").is_none()
    }

    /// A field of /proc/<pid>/status, e.g. `VmHWM` → "12345 kB".
    fn status_field(&self, field: &str) -> String {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .expect("read /proc/<pid>/status (Linux only)");
        status
            .lines()
            .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
            .unwrap_or_else(|| panic!("no {field} in /proc/<pid>/status"))
            .trim()
            .to_owned()
    }

    fn kib_field(&self, field: &str) -> u64 {
        let value = self.status_field(field);
        let kib = value
            .strip_suffix(" kB")
            .unwrap_or_else(|| panic!("{field}: {value}"));
        kib.trim().parse::<u64>().expect("a number of kB") * 1024
    }

    /// Peak resident memory so far, in bytes (`VmHWM`): what the kernel
    /// saw, whatever the allocator did since.
    pub fn peak_rss(&self) -> u64 {
        self.kib_field("VmHWM")
    }

    /// Resident memory now, in bytes (`VmRSS`).
    pub fn rss(&self) -> u64 {
        self.kib_field("VmRSS")
    }

    /// Threads now.
    pub fn threads(&self) -> u64 {
        self.status_field("Threads")
            .parse()
            .expect("a thread count")
    }

    /// Open file descriptors now.
    pub fn open_fds(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.pid()))
            .map(|dir| dir.count())
            .unwrap_or(0)
    }

    /// User + system CPU time used so far.
    pub fn cpu_time(&self) -> Duration {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid()))
            .expect("read /proc/<pid>/stat");
        // The command name may hold spaces: fields are counted after ')'.
        let after = &stat[stat.rfind(')').expect("(comm)") + 2..];
        let fields: Vec<&str> = after.split_whitespace().collect();
        // utime and stime are fields 14 and 15 of the whole line: 12 and
        // 13 counted from the state (field 3) as 1.
        let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
        Duration::from_secs_f64(ticks as f64 / clock_ticks_per_second() as f64)
    }

    /// The server's stderr so far.
    pub fn logs(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

/// The health of `service` ("" for the server) at `uri`, on a new
/// connection, everything within `timeout`.
pub async fn health(uri: &str, service: &str, timeout: Duration) -> Result<ServingStatus, String> {
    let check = async {
        let channel = tonic::transport::Channel::from_shared(uri.to_owned())
            .map_err(|e| e.to_string())?
            .connect()
            .await
            .map_err(|e| e.to_string())?;
        let status = HealthClient::new(channel)
            .check(HealthCheckRequest {
                service: service.to_owned(),
            })
            .await
            .map_err(|status| format!("{:?}: {}", status.code(), status.message()))?
            .into_inner()
            .status();
        Ok(status)
    };
    tokio::time::timeout(timeout, check)
        .await
        .unwrap_or_else(|_| Err(format!("no answer within {timeout:?}")))
}

/// `getconf CLK_TCK` (100 on every Linux we know of).
fn clock_ticks_per_second() -> u64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|output| String::from_utf8(output.stdout).ok())
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or(100)
}

/// Samples `measure` every `every` on a thread of its own (so a busy test
/// runtime cannot skip samples) until the returned guard is stopped; the
/// guard yields the largest value seen.
pub struct Sampler {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<u64>>,
}

impl Sampler {
    /// Starts sampling.
    pub fn start(every: Duration, measure: impl Fn() -> u64 + Send + 'static) -> Sampler {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut peak = measure();
            while !flag.load(std::sync::atomic::Ordering::Relaxed) {
                peak = peak.max(measure());
                std::thread::sleep(every);
            }
            peak.max(measure())
        });
        Sampler {
            stop,
            thread: Some(thread),
        }
    }

    /// Stops sampling; the largest value seen.
    pub fn stop(mut self) -> u64 {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        self.thread
            .take()
            .expect("running")
            .join()
            .expect("sampler thread")
    }
}

impl Drop for Sampler {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Reads a /proc/<pid>/status field of `pid` as a number (Threads, or a
/// kB figure in bytes), 0 once the process is gone: for [`Sampler`].
pub fn proc_status(pid: u32, field: &'static str) -> impl Fn() -> u64 + Send + 'static {
    move || {
        let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else {
            return 0;
        };
        status
            .lines()
            .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
            .and_then(|value| {
                let value = value.trim();
                match value.strip_suffix(" kB") {
                    Some(kib) => kib.trim().parse::<u64>().ok().map(|k| k * 1024),
                    None => value.parse().ok(),
                }
            })
            .unwrap_or(0)
    }
}

/// Bytes as MiB, for messages.
pub fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}
