//! Who may call, over what: TLS, tokens, scopes, reflection and the
//! history's keys.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use crate::auth::Scopes;

/// Who may call, over what.
#[derive(Debug, Args)]
#[command(next_help_heading = "TLS and tokens")]
pub struct TrustArgs {
    /// Tokens file: one line per token, `NAME SCOPES SHA256_HEX` (make one
    /// with `giropops-senhas token new`). Re-read on SIGHUP and every 10s.
    #[arg(long, env = "AUTH_TOKENS_FILE")]
    pub auth_tokens_file: Option<PathBuf>,
    /// What callers without a token may do: scopes (generate, check,
    /// history, history:all), comma-separated, or "none", or "all" (a laptop
    /// demo: "anonymous" is then a principal like any other).
    #[arg(long, env = "ANONYMOUS_SCOPES", default_value = "generate,check")]
    pub anonymous_scopes: Scopes,
    /// PEM certificate chain: serve gRPC over TLS (with --tls-key).
    #[arg(long, env = "TLS_CERT_FILE")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert.
    #[arg(long, env = "TLS_KEY_FILE")]
    pub tls_key: Option<PathBuf>,
    /// PEM CA bundle: require client certificates signed by it (mutual
    /// TLS); others are refused at the handshake.
    #[arg(long, env = "TLS_CLIENT_CA_FILE")]
    pub tls_client_ca: Option<PathBuf>,
    /// Client scopes file, with --tls-client-ca: one line per client
    /// certificate SAN, `SAN SCOPES` (a DNS name, or a URI such as a SPIFFE
    /// ID). A certificate whose SANs are not listed gets the anonymous
    /// scopes. Re-read on SIGHUP and every 10s.
    #[arg(long, env = "TLS_CLIENT_SCOPES_FILE")]
    pub tls_client_scopes: Option<PathBuf>,
    /// Allow tokens over plaintext on a non-loopback address: only when TLS
    /// ends at a mesh sidecar in front of this process.
    #[arg(long, env = "ALLOW_PLAINTEXT")]
    pub allow_plaintext: bool,
    /// Serve gRPC reflection: "on" or "off".
    #[arg(long, env = "REFLECTION", default_value = "on", value_parser = ["on", "off"])]
    pub reflection: String,
    /// History encryption keys: a file of `ID BASE64_32_BYTES` lines (the
    /// first encrypts, all decrypt), or "ephemeral" (a random key: history
    /// unreadable after a restart and across replicas). Needed when any
    /// caller may keep a history in the encrypted mode; unused with
    /// HISTORY_MODE=metadata.
    #[arg(long, env = "HISTORY_KEYS_FILE", help_heading = "History and Redis")]
    pub history_keys_file: Option<String>,
    /// Entries older than this are never returned; a quiet history expires.
    #[arg(long, env = "HISTORY_TTL", default_value = "24h", value_parser = humantime::parse_duration,
          help_heading = "History and Redis")]
    pub history_ttl: Duration,
}
