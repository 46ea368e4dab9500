//! [`ServeArgs`] → [`ServerConfig`]: every setting checked, every invalid
//! one reported at once, each naming its flag and variable.

use std::time::Duration;

use super::web::parse_origins;
use super::{
    ConfigErrors, HistoryArgs, LimitArgs, OptionalAddr, RedisArgs, ServeArgs, TrustArgs, WebArgs,
};
use crate::auth::{Scope, TokenTable};
use crate::config::{Limits, ServerConfig, TrustConfig, WebConfig};
use crate::history::{HistoryConfig, HistoryMode};
use crate::keyring::KeyRing;
use crate::policies::PolicySet;
use crate::tls::{ClientScopes, TlsFiles};

impl TryFrom<ServeArgs> for ServerConfig {
    type Error = ConfigErrors;

    /// Checks every setting and reports all the invalid ones at once.
    fn try_from(args: ServeArgs) -> Result<Self, ConfigErrors> {
        // Every field is named: a new flag cannot be silently ignored here.
        let ServeArgs {
            listen,
            redis,
            history,
            trust,
            limits,
            log: _, // applied by `telemetry::init`
            metrics_listen: OptionalAddr(metrics_addr),
            metrics_principal_label,
            health_listen: OptionalAddr(health_addr),
            web,
            policies_file,
        } = args;
        let mut errors = Vec::new();
        let policies = policies_file.and_then(|path| match PolicySet::load(&path) {
            Ok(set) => Some((path, set)),
            Err(error) => {
                errors.push(format!("--policies-file/POLICIES_FILE: {error}"));
                None
            }
        });
        let WebArgs {
            web_ui,
            cors_allowed_origins,
        } = web;
        let cors_allowed_origins = parse_origins(&cors_allowed_origins, &mut errors);
        let RedisArgs {
            redis_url: _, // these through `target()`
            redis_url_file: _,
            redis_password_file: _,
            redis_username: _,
            redis_ca_file: _,
            redis_sentinels: _,
            redis_sentinel_master: _,
            redis_sentinel_tls: _,
            redis_sentinel_password_file: _,
            redis_host: _,
            redis_port: _,
            redis_pool_size,
            redis_connect_timeout,
            redis_response_timeout,
            redis_command_timeout,
            redis_min_replicas_ack,
            redis_wait_timeout,
            redis_check_interval,
        } = redis;
        let HistoryArgs {
            history_cap,
            history_key,
            history_mode,
        } = history;
        let LimitArgs {
            request_timeout,
            drain_timeout,
            shutdown_delay,
            max_request_bytes,
            max_concurrent_streams,
            max_connection_age,
            max_connections,
            preface_timeout,
            max_response_bytes,
            response_budget_bytes,
            connection_budget_bytes,
            max_in_flight,
        } = limits;
        for (value, flag) in [
            (request_timeout, "--request-timeout/REQUEST_TIMEOUT"),
            (preface_timeout, "--preface-timeout/PREFACE_TIMEOUT"),
            (
                redis_connect_timeout,
                "--redis-connect-timeout/REDIS_CONNECT_TIMEOUT",
            ),
            (
                redis_command_timeout,
                "--redis-command-timeout/REDIS_COMMAND_TIMEOUT",
            ),
            (
                redis_check_interval,
                "--redis-check-interval/REDIS_CHECK_INTERVAL",
            ),
        ] {
            if value.is_zero() {
                errors.push(format!("{flag} must be above 0"));
            }
        }
        let TrustArgs {
            auth_tokens_file,
            anonymous_scopes,
            tls_cert,
            tls_key,
            tls_client_ca,
            tls_client_scopes,
            allow_plaintext,
            reflection,
            history_keys_file,
            history_ttl,
        } = trust;
        let tokens = auth_tokens_file.and_then(|path| match TokenTable::load(&path) {
            Ok(table) => Some((path, table)),
            Err(error) => {
                errors.push(format!("--auth-tokens-file/AUTH_TOKENS_FILE: {error}"));
                None
            }
        });
        if tls_client_scopes.is_some() && tls_client_ca.is_none() {
            errors.push(
                "--tls-client-scopes/TLS_CLIENT_SCOPES_FILE needs mutual TLS: set --tls-client-ca/TLS_CLIENT_CA_FILE".to_owned(),
            );
        }
        let client_scopes = tls_client_scopes.and_then(|path| match ClientScopes::load(&path) {
            Ok(scopes) => Some((path, scopes)),
            Err(error) => {
                errors.push(format!(
                    "--tls-client-scopes/TLS_CLIENT_SCOPES_FILE: {error}"
                ));
                None
            }
        });
        let tls = match (tls_cert, tls_key) {
            (Some(cert), Some(key)) => Some(TlsFiles {
                cert,
                key,
                client_ca: tls_client_ca,
            }),
            (None, None) if tls_client_ca.is_none() => None,
            _ => {
                errors.push(
                    "TLS needs both --tls-cert/TLS_CERT_FILE and --tls-key/TLS_KEY_FILE (and --tls-client-ca/TLS_CLIENT_CA_FILE needs them too)".to_owned(),
                );
                None
            }
        };
        if tokens.is_some() && tls.is_none() && !listen.ip().is_loopback() && !allow_plaintext {
            errors.push(format!(
                "tokens would travel in plaintext on {listen}: set --tls-cert/--tls-key, listen on loopback, or --allow-plaintext/ALLOW_PLAINTEXT when TLS ends at a mesh sidecar"
            ));
        }
        // A history only when some caller may keep one.
        let may_keep_history = anonymous_scopes.grants(Scope::History)
            || tokens.as_ref().is_some_and(|(_, table)| {
                table.principals().any(|p| p.scopes.grants(Scope::History))
            })
            || client_scopes.as_ref().is_some_and(|(_, scopes)| {
                scopes.grants_any("history") || scopes.grants_any("history:all")
            });
        let keys = match history_keys_file.as_deref() {
            _ if history_cap == 0 || !may_keep_history => None,
            // No secret is stored: nothing to encrypt, no keys file needed
            // (one given is not read).
            _ if history_mode == HistoryMode::Metadata => Some(KeyRing::ephemeral()),
            Some("ephemeral") => Some(KeyRing::ephemeral()),
            Some(path) => match KeyRing::load(path) {
                Ok(keys) => Some(keys),
                Err(error) => {
                    errors.push(format!("--history-keys-file/HISTORY_KEYS_FILE: {error}"));
                    None
                }
            },
            None => {
                errors.push(
                    "a caller may keep a history, so it is encrypted: set --history-keys-file/HISTORY_KEYS_FILE to a keys file, or to \"ephemeral\" (unreadable after a restart)".to_owned(),
                );
                None
            }
        };
        let history = keys.and_then(|keys| {
            if history_key.trim().is_empty() {
                errors.push("--history-key/HISTORY_KEY must not be empty".to_owned());
            }
            let response_timeout = redis_response_timeout.unwrap_or(redis_command_timeout);
            if response_timeout.is_zero() || response_timeout > redis_command_timeout {
                errors.push(format!(
                    "--redis-response-timeout/REDIS_RESPONSE_TIMEOUT ({response_timeout:?}) must be above 0 and at most --redis-command-timeout/REDIS_COMMAND_TIMEOUT ({redis_command_timeout:?})"
                ));
            }
            if redis_min_replicas_ack > 0
                && !(Duration::ZERO < redis_wait_timeout
                    && redis_wait_timeout < response_timeout
                    && response_timeout <= redis_command_timeout
                    && redis_command_timeout < request_timeout)
            {
                errors.push(format!(
                    "with --redis-min-replicas-ack/REDIS_MIN_REPLICAS_ACK the timeouts must nest: 0 < --redis-wait-timeout ({redis_wait_timeout:?}) < --redis-response-timeout ({response_timeout:?}) <= --redis-command-timeout ({redis_command_timeout:?}) < --request-timeout ({request_timeout:?})"
                ));
            }
            let (target, tls_roots) = redis.target(&mut errors)?;
            Some(HistoryConfig {
                target,
                tls_roots,
                key: history_key,
                cap: usize::from(history_cap),
                pool_size: usize::from(redis_pool_size),
                connect_timeout: redis_connect_timeout,
                response_timeout,
                command_timeout: redis_command_timeout,
                min_replicas_ack: redis_min_replicas_ack,
                wait_timeout: redis_wait_timeout,
                keys,
                mode: history_mode,
                ttl: history_ttl,
            })
        });
        if !errors.is_empty() {
            return Err(ConfigErrors(errors));
        }
        Ok(ServerConfig {
            history,
            redis_check_interval,
            limits: Limits {
                request_timeout,
                drain_timeout,
                shutdown_delay,
                max_request_bytes: max_request_bytes as usize,
                max_concurrent_streams,
                max_connection_age: (!max_connection_age.is_zero()).then_some(max_connection_age),
                max_connections: max_connections as usize,
                preface_timeout,
                max_response_bytes: max_response_bytes as usize,
                response_budget_bytes: response_budget_bytes as usize,
                connection_budget_bytes: connection_budget_bytes as usize,
                max_in_flight: max_in_flight as usize,
            },
            metrics_addr,
            metrics_principal_label,
            health_addr,
            policies,
            trust: TrustConfig {
                tokens,
                anonymous_scopes,
                tls,
                client_scopes,
                reflection: reflection == "on",
            },
            web: WebConfig {
                web_ui: web_ui == "on",
                cors_allowed_origins,
            },
        })
    }
}
