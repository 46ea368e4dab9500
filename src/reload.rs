//! Reloading what can change while serving: the tokens file, the TLS
//! certificate, key and client CA, the client scopes file, the history
//! keys file (not an `ephemeral` key) and the policies file. Each is re-read on SIGHUP and every
//! [`RELOAD_INTERVAL`] (Kubernetes swaps mounted Secrets by symlink,
//! without a signal). A new version replaces the old only if it loads
//! completely (for TLS: and the key matches the certificate); otherwise the
//! old one stays, with one ERROR (until the file is fixed) and
//! `giropops_reload_failures_total{file}`. Live connections are never
//! touched: each holds the TLS configuration it was accepted with (tokens,
//! client scopes and keys apply to its next call).

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;

use tokio::time::MissedTickBehavior;

use crate::auth::{Authenticator, TokenTable};
use crate::config::RELOAD_INTERVAL;
use crate::keyring::KeyRing;
use crate::metrics::Metrics;
use crate::policies::{Policies, PolicySet};
use crate::tls::{ClientScopes, ReloadableTls};

/// What to reload, and where to report.
#[derive(Debug)]
pub struct Reloadable {
    /// The tokens file and the authenticator it feeds.
    pub tokens: Option<(PathBuf, Authenticator)>,
    /// The server's TLS configuration.
    pub tls: Option<Arc<ReloadableTls>>,
    /// The client scopes file (SAN → scopes) and the authenticator it
    /// feeds.
    pub client_scopes: Option<(PathBuf, Authenticator)>,
    /// The history keys (a ring loaded from a file; it knows which).
    pub keys: Option<KeyRing>,
    /// The policies file and the policies it feeds.
    pub policies: Option<(PathBuf, Policies)>,
    /// Where failures are counted.
    pub metrics: Metrics,
}

impl Reloadable {
    /// Whether there is anything to reload.
    pub fn is_empty(&self) -> bool {
        let Reloadable {
            tokens,
            tls,
            client_scopes,
            keys,
            policies,
            metrics: _,
        } = self;
        tokens.is_none()
            && tls.is_none()
            && client_scopes.is_none()
            && keys.is_none()
            && policies.is_none()
    }

    /// Reloads on SIGHUP and every [`RELOAD_INTERVAL`], until aborted.
    pub async fn watch(self) {
        let mut ticks = tokio::time::interval(RELOAD_INTERVAL);
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        ticks.tick().await; // the first tick is now: just loaded
        #[cfg(unix)]
        let mut hangup =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
        let mut failing = HashSet::new();
        loop {
            #[cfg(unix)]
            let signalled = async {
                match hangup.as_mut() {
                    Some(signal) => signal.recv().await,
                    None => std::future::pending().await,
                }
            };
            #[cfg(not(unix))]
            let signalled = std::future::pending::<Option<()>>();
            tokio::select! {
                _ = ticks.tick() => {}
                _ = signalled => tracing::info!("SIGHUP: reloading tokens, certificates and keys"),
            }
            self.reload_once(&mut failing);
        }
    }

    /// One round; `failing` holds the files whose last reload failed.
    pub fn reload_once(&self, failing: &mut HashSet<&'static str>) {
        if let Some((path, authenticator)) = &self.tokens {
            match TokenTable::load(path) {
                Ok(table) => {
                    authenticator.reload(table);
                    self.recovered(failing, "tokens");
                }
                Err(error) => self.failed(failing, "tokens", &error),
            }
        }
        if let Some(tls) = &self.tls {
            match tls.reload() {
                Ok(changed) => {
                    if changed {
                        tracing::info!("TLS configuration reloaded: new connections use it");
                    }
                    for file in ["tls_cert", "tls_key", "tls_client_ca"] {
                        self.recovered(failing, file);
                    }
                }
                Err(error) => self.failed(failing, error.file().label(), &error),
            }
        }
        if let Some((path, authenticator)) = &self.client_scopes {
            match ClientScopes::load(path) {
                Ok(scopes) => {
                    authenticator.reload_client_scopes(scopes);
                    self.recovered(failing, "tls_client_scopes");
                }
                Err(error) => self.failed(failing, "tls_client_scopes", &error),
            }
        }
        if let Some(keys) = &self.keys {
            match keys.reload() {
                Ok(changed) => {
                    if changed {
                        tracing::info!(
                            encrypting = %keys.encrypting_key_id(),
                            keys = keys.key_ids().len(),
                            "history keys reloaded"
                        );
                    }
                    self.recovered(failing, "history_keys");
                }
                Err(error) => self.failed(failing, "history_keys", &error),
            }
        }
        if let Some((path, policies)) = &self.policies {
            match PolicySet::load(path) {
                Ok(set) => {
                    policies.replace(set);
                    self.recovered(failing, "policies");
                }
                Err(error) => self.failed(failing, "policies", &error),
            }
        }
    }

    fn failed(
        &self,
        failing: &mut HashSet<&'static str>,
        file: &'static str,
        error: &dyn std::error::Error,
    ) {
        self.metrics.reload_failed(file);
        if failing.insert(file) {
            tracing::error!(file, %error, "reload failed: the previous version stays in use");
        }
    }

    fn recovered(&self, failing: &mut HashSet<&'static str>, file: &'static str) {
        if failing.remove(file) {
            tracing::info!(file, "reloaded again");
        }
    }
}
