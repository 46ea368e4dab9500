//! How the history reaches Redis: one server at a URL, or the master that
//! a set of Sentinels name; and [`Connector`], the pool's manager, which
//! opens every connection with our connect and response timeouts
//! (deadpool-redis's Sentinel manager takes no [`AsyncConnectionConfig`]:
//! redis-rs's defaults would silently apply).
//!
//! With Sentinel, every new connection asks the Sentinels (several at once,
//! redis-rs's lookup) for the current master and checks its `ROLE`; a
//! recycled connection is checked with `PING` and `ROLE` in one round trip,
//! so a dead connection or a demoted master never goes back into service.
//! (redis-rs opens its connections to the Sentinels with its own defaults,
//! 1 s to connect and 500 ms a reply; the pool's create timeout, our
//! connect timeout, bounds a whole look-up.)

use std::sync::atomic::{AtomicUsize, Ordering};

use deadpool::managed::{self, Metrics, RecycleError, RecycleResult};
use deadpool_redis::redis::aio::MultiplexedConnection;
use deadpool_redis::redis::sentinel::{SentinelClient, SentinelClientBuilder, SentinelServerType};
use deadpool_redis::redis::{
    self, AsyncConnectionConfig, ConnectionAddr, ConnectionInfo, ErrorKind, RedisConnectionInfo,
    RedisError, RedisResult, Role, ServerErrorKind, TlsCertificates, TlsMode,
};

/// Where Redis is.
#[derive(Debug, Clone)]
pub enum RedisTarget {
    /// One server: `redis://`, `rediss://` or `redis+unix://` (credentials
    /// included; its `Debug` redacts the password).
    Server(ConnectionInfo),
    /// The master a set of Sentinels name.
    Sentinel(SentinelTarget),
}

/// A master found through Sentinel.
#[derive(Clone)]
pub struct SentinelTarget {
    /// The Sentinels, `host:port`; at least one.
    pub sentinels: Vec<(String, u16)>,
    /// The master's name in the Sentinels' configuration.
    pub master: String,
    /// TLS to the Sentinels and to the master.
    pub tls: bool,
    /// Username, password and db used on the master.
    pub auth: RedisConnectionInfo,
    /// Password of the Sentinels themselves, when they require one.
    pub sentinel_password: Option<String>,
}

impl std::fmt::Debug for SentinelTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SentinelTarget")
            .field("sentinels", &self.sentinels)
            .field("master", &self.master)
            .field("tls", &self.tls)
            .field("auth", &self.auth)
            .field(
                "sentinel_password",
                &self.sentinel_password.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

impl RedisTarget {
    /// A target from a URL (`redis://`, `rediss://`, `redis+unix://`).
    pub fn url(url: &str) -> RedisResult<RedisTarget> {
        redis::IntoConnectionInfo::into_connection_info(url).map(RedisTarget::Server)
    }

    /// Whether connections use TLS.
    pub fn is_tls(&self) -> bool {
        match self {
            RedisTarget::Server(info) => matches!(info.addr(), ConnectionAddr::TcpTls { .. }),
            RedisTarget::Sentinel(sentinel) => sentinel.tls,
        }
    }

    /// Sets the ACL username.
    pub fn set_username(self, username: &str) -> RedisTarget {
        match self {
            RedisTarget::Server(info) => {
                let redis = info.redis_settings().clone().set_username(username);
                RedisTarget::Server(info.set_redis_settings(redis))
            }
            RedisTarget::Sentinel(sentinel) => RedisTarget::Sentinel(SentinelTarget {
                auth: sentinel.auth.set_username(username),
                ..sentinel
            }),
        }
    }

    /// Sets the password (from a file: never in a URL or the environment).
    pub fn set_password(self, password: &str) -> RedisTarget {
        match self {
            RedisTarget::Server(info) => {
                let redis = info.redis_settings().clone().set_password(password);
                RedisTarget::Server(info.set_redis_settings(redis))
            }
            RedisTarget::Sentinel(sentinel) => RedisTarget::Sentinel(SentinelTarget {
                auth: sentinel.auth.set_password(password),
                ..sentinel
            }),
        }
    }
}

/// For logs: the scheme, the host and port or socket path, and the db —
/// never the username or the password.
impl std::fmt::Display for RedisTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RedisTarget::Server(info) => {
                let db = info.redis_settings().db();
                match info.addr() {
                    ConnectionAddr::Tcp(host, port) => write!(f, "redis://{host}:{port}/{db}"),
                    ConnectionAddr::TcpTls { host, port, .. } => {
                        write!(f, "rediss://{host}:{port}/{db}")
                    }
                    ConnectionAddr::Unix(path) => {
                        write!(f, "redis+unix://{}?db={db}", path.display())
                    }
                    _ => write!(f, "redis (db {db})"),
                }
            }
            RedisTarget::Sentinel(sentinel) => {
                let scheme = if sentinel.tls { "rediss" } else { "redis" };
                let sentinels: Vec<String> = sentinel
                    .sentinels
                    .iter()
                    .map(|(host, port)| format!("{host}:{port}"))
                    .collect();
                write!(
                    f,
                    "sentinel {scheme}://{}/{} master {:?}",
                    sentinels.join(","),
                    sentinel.auth.db(),
                    sentinel.master
                )
            }
        }
    }
}

/// Parses `host:port,host:port` (spaces allowed around entries).
pub fn parse_sentinels(list: &str) -> Result<Vec<(String, u16)>, String> {
    let mut sentinels = Vec::new();
    for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let (host, port) = entry
            .rsplit_once(':')
            .ok_or_else(|| format!("{entry:?} is not host:port"))?;
        let port = port
            .parse::<u16>()
            .ok()
            .filter(|p| *p != 0)
            .ok_or_else(|| format!("{entry:?} has no valid port"))?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() {
            return Err(format!("{entry:?} has no host"));
        }
        sentinels.push((host.to_owned(), port));
    }
    if sentinels.is_empty() {
        return Err("no sentinel given".to_owned());
    }
    Ok(sentinels)
}

/// Where connections go.
enum Endpoint {
    Server(redis::Client),
    /// `SentinelClient` caches its connections to the Sentinels and needs
    /// `&mut`: one look-up at a time (each asks several Sentinels at once).
    Sentinel(tokio::sync::Mutex<SentinelClient>),
}

/// The pool's manager: connections with our timeouts, to the one server or
/// to the current master.
pub(super) struct Connector {
    endpoint: Endpoint,
    config: AsyncConnectionConfig,
    ping_number: AtomicUsize,
}

impl std::fmt::Debug for Connector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connector")
            .field("sentinel", &self.is_sentinel())
            .finish_non_exhaustive()
    }
}

impl Connector {
    /// A manager for `target`, trusting `roots` (PEM) instead of the
    /// public roots when given.
    pub(super) fn new(
        target: RedisTarget,
        roots: Option<&[u8]>,
        config: AsyncConnectionConfig,
    ) -> RedisResult<Connector> {
        let certificates = || TlsCertificates {
            client_tls: None,
            root_cert: roots.map(<[u8]>::to_vec),
        };
        let endpoint = match target {
            RedisTarget::Server(info) => {
                // No `CLIENT SETINFO` on connect: one round trip less, and
                // the least-privilege ACL user of `init-secrets` (which
                // Redis 7.0 could not load with `client|setinfo` in it)
                // leaves no denial in Redis's ACL log on 7.2 and later.
                let settings = info.redis_settings().clone().set_skip_set_lib_name();
                let info = info.set_redis_settings(settings);
                match roots {
                    Some(_) => {
                        Endpoint::Server(redis::Client::build_with_tls(info, certificates())?)
                    }
                    None => Endpoint::Server(redis::Client::open(info)?),
                }
            }
            RedisTarget::Sentinel(SentinelTarget {
                sentinels,
                master,
                tls,
                auth,
                sentinel_password,
            }) => {
                let addrs = sentinels.into_iter().map(|(host, port)| match tls {
                    true => ConnectionAddr::TcpTls {
                        host,
                        port,
                        insecure: false,
                        tls_params: None,
                    },
                    false => ConnectionAddr::Tcp(host, port),
                });
                let mut builder =
                    SentinelClientBuilder::new(addrs, master, SentinelServerType::Master)?
                        .set_client_to_redis_db(auth.db());
                if let Some(username) = auth.username() {
                    builder = builder.set_client_to_redis_username(username);
                }
                if let Some(password) = auth.password() {
                    builder = builder.set_client_to_redis_password(password);
                }
                if let Some(password) = sentinel_password {
                    builder = builder.set_client_to_sentinel_password(password);
                }
                if tls {
                    builder = builder
                        .set_client_to_redis_tls_mode(TlsMode::Secure)
                        .set_client_to_sentinel_tls_mode(TlsMode::Secure);
                    if roots.is_some() {
                        builder = builder
                            .set_client_to_redis_certificates(certificates())
                            .set_client_to_sentinel_certificates(certificates());
                    }
                }
                Endpoint::Sentinel(tokio::sync::Mutex::new(builder.build()?))
            }
        };
        Ok(Connector {
            endpoint,
            config,
            ping_number: AtomicUsize::new(0),
        })
    }

    /// Whether the master is found through Sentinel.
    pub(super) fn is_sentinel(&self) -> bool {
        matches!(self.endpoint, Endpoint::Sentinel(_))
    }

    /// A new connection, with our timeouts: to the server, or to the master
    /// the Sentinels name now.
    pub(super) async fn connect(&self) -> RedisResult<MultiplexedConnection> {
        match &self.endpoint {
            Endpoint::Server(client) => {
                client
                    .get_multiplexed_async_connection_with_config(&self.config)
                    .await
            }
            Endpoint::Sentinel(sentinel) => {
                sentinel
                    .lock()
                    .await
                    .get_async_connection_with_config(&self.config)
                    .await
            }
        }
    }

    /// Checks a connection is alive — and, with Sentinel, still to a master
    /// (`ROLE`: a demoted master is left behind).
    pub(super) async fn check(&self, connection: &mut MultiplexedConnection) -> RedisResult<()> {
        let ping_number = self.ping_number.fetch_add(1, Ordering::Relaxed).to_string();
        let mut pipe = redis::Pipeline::with_capacity(3);
        pipe.cmd("UNWATCH").ignore().cmd("PING").arg(&ping_number);
        let echoed = if self.is_sentinel() {
            let (echoed, role): (String, Role) = pipe.cmd("ROLE").query_async(connection).await?;
            if !matches!(role, Role::Primary { .. }) {
                return Err(not_master());
            }
            echoed
        } else {
            let (echoed,): (String,) = pipe.query_async(connection).await?;
            echoed
        };
        if echoed != ping_number {
            return Err(RedisError::from((
                ErrorKind::UnexpectedReturnType,
                "invalid PING reply",
            )));
        }
        Ok(())
    }
}

fn not_master() -> RedisError {
    RedisError::from((
        ErrorKind::Server(ServerErrorKind::ReadOnly),
        "the server is no longer the master",
    ))
}

/// Whether `error` says the server is a replica (a master demoted by a
/// failover): `READONLY`, alone or as the reason a transaction aborted.
pub fn is_read_only(error: &RedisError) -> bool {
    match error.kind() {
        ErrorKind::Server(ServerErrorKind::ReadOnly) => true,
        ErrorKind::Server(ServerErrorKind::ExecAbort) => {
            error.clone().into_server_errors().is_some_and(|errors| {
                errors
                    .iter()
                    .any(|(_, error)| error.kind() == Some(ServerErrorKind::ReadOnly))
            })
        }
        _ => false,
    }
}

impl managed::Manager for Connector {
    type Type = MultiplexedConnection;
    type Error = RedisError;

    async fn create(&self) -> RedisResult<MultiplexedConnection> {
        self.connect().await
    }

    async fn recycle(
        &self,
        connection: &mut MultiplexedConnection,
        _: &Metrics,
    ) -> RecycleResult<RedisError> {
        self.check(connection).await.map_err(RecycleError::Backend)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describes_targets_without_credentials() {
        for (url, shown) in [
            ("redis://u:s3cret@h:6379/2", "redis://h:6379/2"),
            ("rediss://:s3cret@h:6380", "rediss://h:6380/0"),
            (
                "redis+unix:///run/redis.sock?db=3&pass=s3cret",
                "redis+unix:///run/redis.sock?db=3",
            ),
        ] {
            let target = RedisTarget::url(url).expect("valid url");
            assert_eq!(target.to_string(), shown);
            assert!(!format!("{target:?}").contains("s3cret"), "{target:?}");
        }
        let target = RedisTarget::Sentinel(SentinelTarget {
            sentinels: vec![("a".into(), 26379), ("b".into(), 26380)],
            master: "mymaster".into(),
            tls: true,
            auth: RedisConnectionInfo::default().set_password("s3cret"),
            sentinel_password: Some("s3cret".into()),
        });
        assert_eq!(
            target.to_string(),
            "sentinel rediss://a:26379,b:26380/0 master \"mymaster\""
        );
        assert!(!format!("{target:?}").contains("s3cret"), "{target:?}");
    }

    #[test]
    fn a_password_file_sets_the_password() {
        let target = RedisTarget::url("redis+unix:///run/redis.sock")
            .expect("valid url")
            .set_password("from-file");
        let RedisTarget::Server(info) = target else {
            panic!("a server")
        };
        assert_eq!(info.redis_settings().password(), Some("from-file"));
    }

    #[test]
    fn parses_sentinel_lists() {
        assert_eq!(
            parse_sentinels(" s1:26379, s2:26380 ,[::1]:26381"),
            Ok(vec![
                ("s1".to_owned(), 26379),
                ("s2".to_owned(), 26380),
                ("::1".to_owned(), 26381)
            ])
        );
        for bad in ["", "s1", "s1:0", ":26379", "s1:x"] {
            assert!(parse_sentinels(bad).is_err(), "{bad:?}");
        }
    }
}
