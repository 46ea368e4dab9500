//! The client subcommands' command-line grammar.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};
use giropops_senhas_client::ClientOptions;

/// Where and how a client subcommand talks to the server.
#[derive(Debug, Args)]
pub struct ClientArgs {
    /// Server address: host:port or http://host:port (plaintext), or
    /// https://host:port (TLS).
    #[arg(long, env = "GIROPOPS_ADDR", default_value = "http://127.0.0.1:50051")]
    pub addr: String,
    /// Print JSON instead of human text.
    #[arg(long)]
    pub json: bool,
    /// Bound on connecting and on the call.
    #[arg(long, default_value = "5s", value_parser = humantime::parse_duration)]
    pub timeout: Duration,
    /// Credentials and TLS.
    #[command(flatten)]
    pub credentials: CredentialArgs,
}

/// How a client proves who it is, and checks the server.
#[derive(Debug, Args)]
pub struct CredentialArgs {
    /// File holding a bearer token (gps_…): never on the command line,
    /// where `ps` and shell history would see it.
    #[arg(long, env = "GIROPOPS_TOKEN_FILE")]
    pub token_file: Option<PathBuf>,
    /// PEM CA bundle to verify the server with (a private CA); implies TLS.
    #[arg(long, env = "GIROPOPS_CA_FILE")]
    pub ca_file: Option<PathBuf>,
    /// PEM client certificate, for mutual TLS (with --key).
    #[arg(long, env = "GIROPOPS_CERT_FILE", requires = "key")]
    pub cert: Option<PathBuf>,
    /// PEM private key of --cert.
    #[arg(long, env = "GIROPOPS_KEY_FILE", requires = "cert")]
    pub key: Option<PathBuf>,
}

impl CredentialArgs {
    /// Reads the files into client options.
    pub fn options(&self, timeout: Duration) -> std::io::Result<ClientOptions> {
        let CredentialArgs {
            token_file,
            ca_file,
            cert,
            key,
        } = self;
        let read = |path: &PathBuf| {
            std::fs::read(path).map_err(|error| {
                std::io::Error::new(error.kind(), format!("{}: {error}", path.display()))
            })
        };
        let token = token_file
            .as_ref()
            .map(|path| {
                std::fs::read_to_string(path)
                    .map(|token| token.trim().to_owned())
                    .map_err(|error| {
                        std::io::Error::new(error.kind(), format!("{}: {error}", path.display()))
                    })
            })
            .transpose()?;
        let identity_pem = match (cert, key) {
            (Some(cert), Some(key)) => Some((read(cert)?, read(key)?)),
            _ => None,
        };
        Ok(ClientOptions {
            timeout: Some(timeout),
            ca_pem: ca_file.as_ref().map(read).transpose()?,
            identity_pem,
            token,
        })
    }
}

/// `generate` options (the server validates them).
#[derive(Debug, Args)]
pub struct GenerateArgs {
    #[command(flatten)]
    /// Where and how to call the server.
    pub client: ClientArgs,
    /// Number of characters (4-1024; 0: 16).
    #[arg(long, default_value_t = 0)]
    pub length: u32,
    /// Use digits.
    #[arg(long, visible_alias = "number")]
    pub numbers: bool,
    /// Use special characters.
    #[arg(long)]
    pub special: bool,
    /// Leave out lower-case letters.
    #[arg(long)]
    pub no_lowercase: bool,
    /// Leave out upper-case letters.
    #[arg(long)]
    pub no_uppercase: bool,
    /// Least number of lower-case letters.
    #[arg(long, default_value_t = 0)]
    pub min_lowercase: u32,
    /// Least number of upper-case letters.
    #[arg(long, default_value_t = 0)]
    pub min_uppercase: u32,
    /// Least number of digits.
    #[arg(long, default_value_t = 0)]
    pub min_digits: u32,
    /// Least number of special characters.
    #[arg(long, default_value_t = 0)]
    pub min_specials: u32,
    /// Leave out look-alike characters.
    #[arg(long)]
    pub exclude_ambiguous: bool,
    /// Characters never to use.
    #[arg(long)]
    pub exclude: Option<String>,
    /// Special characters to use instead of the 32 defaults.
    #[arg(long)]
    pub special_chars: Option<String>,
    /// How many passwords (1-1000).
    #[arg(long, default_value_t = 1)]
    pub count: u32,
    /// Do not add them to the history.
    #[arg(long)]
    pub no_store: bool,
    /// Use the server's named policy (see `policies`) instead of options.
    #[arg(long)]
    pub policy: Option<String>,
}

/// `passphrase` options.
#[derive(Debug, Args)]
pub struct PassphraseArgs {
    #[command(flatten)]
    /// Where and how to call the server.
    pub client: ClientArgs,
    /// Number of words (3-20; 0: 6).
    #[arg(long, default_value_t = 0)]
    pub words: u32,
    /// Between words (default "-").
    #[arg(long)]
    pub separator: Option<String>,
    /// Capitalize each word.
    #[arg(long)]
    pub capitalize: bool,
    /// Append a digit to one word.
    #[arg(long, visible_alias = "number")]
    pub numbers: bool,
    /// Do not add it to the history.
    #[arg(long)]
    pub no_store: bool,
    /// Use the server's named policy (see `policies`) instead of options.
    #[arg(long)]
    pub policy: Option<String>,
}

/// `policies` options.
#[derive(Debug, Args)]
pub struct PoliciesArgs {
    #[command(flatten)]
    /// Where and how to call the server.
    pub client: ClientArgs,
}

/// `list` options.
#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    /// Where and how to call the server.
    pub client: ClientArgs,
    /// How many (0: 10; at most 1000).
    #[arg(long, default_value_t = 0)]
    pub page_size: u32,
}

/// `check` options.
#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    /// Where and how to call the server.
    pub client: ClientArgs,
    /// A word the password should not be built from (repeatable).
    #[arg(long = "user-input")]
    pub user_inputs: Vec<String>,
}

/// A token format, as the command line names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// 0-9A-Za-z (the server's default).
    Base62,
    /// 0-9a-f.
    Hex,
    /// RFC 4648 base64url, no padding.
    Base64url,
    /// Crockford base32 (0-9A-Z without I L O U).
    Base32,
    /// An RFC 9562 version 4 UUID (122 bits, no prefix, no checksum).
    Uuid,
}

impl From<FormatArg> for giropops_senhas_client::TokenFormat {
    fn from(format: FormatArg) -> Self {
        use giropops_senhas_client::TokenFormat;
        match format {
            FormatArg::Base62 => TokenFormat::Base62,
            FormatArg::Hex => TokenFormat::Hex,
            FormatArg::Base64url => TokenFormat::Base64url,
            FormatArg::Base32 => TokenFormat::Base32Crockford,
            FormatArg::Uuid => TokenFormat::Uuid,
        }
    }
}

/// `token` options: an API key from a running server (GenerateToken), or,
/// with `new`, a bearer token for this server's own tokens file.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct TokenArgs {
    /// `new`: a bearer token for --auth-tokens-file, made locally.
    #[command(subcommand)]
    pub command: Option<crate::cli::TokenCommand>,
    /// Without a subcommand: the API key to ask the server for.
    #[command(flatten)]
    pub generate: ApiKeyArgs,
}

/// The API key `token` asks a running server for (it validates them).
#[derive(Debug, Args)]
pub struct ApiKeyArgs {
    #[command(flatten)]
    /// Where and how to call the server.
    pub client: ClientArgs,
    /// Entropy in bits (64-1024, rounded up to whole characters; 0: 128,
    /// or 122 for uuid).
    #[arg(long, default_value_t = 0)]
    pub bits: u32,
    /// Written before the random part: 1-15 of a-z 0-9, then _ (gps_).
    /// Default: none.
    #[arg(long)]
    pub prefix: Option<String>,
    /// How the random part is written: base62 (the default), hex,
    /// base64url, base32 (Crockford) or uuid.
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,
    /// Use the server's named API key policy (see `policies`) instead of
    /// options.
    #[arg(long)]
    pub policy: Option<String>,
}

/// `check-token` options.
#[derive(Debug, Args)]
pub struct CheckTokenArgs {
    #[command(flatten)]
    /// Where and how to call the server.
    pub client: ClientArgs,
    /// The format the token was minted in, when known (exact entropy):
    /// base62, hex, base64url, base32 or uuid. Default: any.
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,
}

/// `healthcheck` options.
#[derive(Debug, Args)]
pub struct HealthcheckArgs {
    /// Server to probe. Default: this host at the port of LISTEN_ADDR
    /// (http://127.0.0.1:50051 unless LISTEN_ADDR says otherwise), so the
    /// image's HEALTHCHECK follows a changed listen address.
    #[arg(long, env = "HEALTHCHECK_ADDR")]
    pub addr: Option<String>,
    /// Service to ask about; "" is the whole server.
    #[arg(long, default_value = "")]
    pub service: String,
    /// Give up after this long (e.g. 2s, 500ms).
    #[arg(long, default_value = "2s", value_parser = humantime::parse_duration)]
    pub timeout: Duration,
    /// Credentials and TLS (health itself needs no token).
    #[command(flatten)]
    pub credentials: CredentialArgs,
}

/// `token new` options.
#[derive(Debug, Args)]
pub struct TokenNewArgs {
    /// The token's name: the principal that owns its history (1-64 of
    /// A-Z a-z 0-9 _ . @ -).
    #[arg(long)]
    pub name: String,
    /// What it may do: generate, check, history, history:all (comma-separated).
    #[arg(long)]
    pub scopes: crate::auth::Scopes,
}
