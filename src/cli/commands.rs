//! Client subcommands for people at a terminal: `generate`, `passphrase`,
//! `list`, `check`. Human output by default, `--json` for scripts. Secrets
//! go to stdout only; errors to stderr as `CODE: message` (the gRPC code
//! name) or with the whole cause chain of a connection failure.
//!
//! Requests and responses are destructured field by field: a field added
//! to the contract cannot be silently left out here.

use std::io::BufRead;
use std::process::ExitCode;

use giropops_senhas_client::{
    BearerToken, CheckPasswordRequest, CheckPasswordResponse, ConnectError,
    GeneratePassphraseRequest, GeneratePassphraseResponse, GeneratePasswordRequest,
    GeneratePasswordResponse, ListPasswordsRequest, ListPasswordsResponse, PasswordRecord,
    PasswordServiceClient, connect_with, error_chain,
};
use serde_json::{Value, json};
use tonic::Status;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

use super::args::{CheckArgs, ClientArgs, GenerateArgs, ListArgs, PassphraseArgs, TokenNewArgs};

/// Why a client command failed.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// Could not reach the server.
    #[error(transparent)]
    Connect(#[from] ConnectError),
    /// The server refused the call (its message says all: not a `source`),
    /// or the transport failed before it answered.
    #[error("{}", super::healthcheck::describe_status(.status, *.tls_without_certificate))]
    Status {
        /// What failed.
        status: Status,
        /// Whether the call used TLS without a client certificate.
        tls_without_certificate: bool,
    },
    /// A credential file could not be read.
    #[error("cannot read a credential file")]
    Credentials(#[source] std::io::Error),
    /// Reading the password to check failed.
    #[error("cannot read the password from stdin")]
    Stdin(#[from] std::io::Error),
    /// Reading the token to check failed.
    #[error("cannot read the token from stdin")]
    TokenStdin(#[source] std::io::Error),
}

/// Prints the outcome of a client command and turns it into an exit code.
pub fn finish(result: Result<(), CommandError>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {}", error_chain(&error));
            ExitCode::FAILURE
        }
    }
}

impl ClientArgs {
    /// A client connected to `--addr`, bounded by `--timeout`, with the
    /// credentials given.
    pub(super) async fn connect(
        &self,
    ) -> Result<PasswordServiceClient<InterceptedService<Channel, BearerToken>>, CommandError> {
        let options = self
            .credentials
            .options(self.timeout)
            .map_err(CommandError::Credentials)?;
        Ok(connect_with(&self.addr, &options).await?)
    }

    /// A failed call, with what the hint needs to know.
    pub(super) fn failed(&self, status: Status) -> CommandError {
        CommandError::Status {
            status,
            tls_without_certificate: (self.addr.starts_with("https://")
                || self.credentials.ca_file.is_some())
                && self.credentials.cert.is_none(),
        }
    }

    /// Prints `reply` as `--json` asks.
    pub(super) fn print(&self, reply: &impl Render) {
        if self.json {
            println!("{}", reply.json());
        } else {
            reply.human();
        }
    }
}

/// How a response is shown: JSON for scripts, text for people (secrets on
/// stdout, remarks on stderr).
pub(super) trait Render {
    fn json(&self) -> Value;
    fn human(&self);
}

/// An RFC 3339 time, or "" when absent.
fn timestamp(time: Option<&prost_types::Timestamp>) -> String {
    time.map(ToString::to_string).unwrap_or_default()
}

impl Render for GeneratePasswordResponse {
    fn json(&self) -> Value {
        let GeneratePasswordResponse {
            password: _, // the first of `passwords`
            entropy_bits,
            created_at,
            stored,
            passwords,
        } = self;
        json!({
            "passwords": passwords,
            "entropy_bits": entropy_bits,
            "created_at": timestamp(created_at.as_ref()),
            "stored": stored,
        })
    }

    fn human(&self) {
        for password in &self.passwords {
            println!("{password}");
        }
        let stored = if self.stored { ", stored" } else { "" };
        eprintln!("{:.1} bits each{stored}", self.entropy_bits);
    }
}

impl Render for GeneratePassphraseResponse {
    fn json(&self) -> Value {
        let GeneratePassphraseResponse {
            passphrase,
            entropy_bits,
            created_at,
            stored,
        } = self;
        json!({
            "passphrase": passphrase,
            "entropy_bits": entropy_bits,
            "created_at": timestamp(created_at.as_ref()),
            "stored": stored,
        })
    }

    fn human(&self) {
        println!("{}", self.passphrase);
        let stored = if self.stored { ", stored" } else { "" };
        eprintln!("{:.1} bits{stored}", self.entropy_bits);
    }
}

impl Render for ListPasswordsResponse {
    fn json(&self) -> Value {
        let rows: Vec<Value> = self
            .passwords
            .iter()
            .map(|record| {
                let PasswordRecord {
                    password,
                    created_at,
                    entropy_bits,
                    length,
                    principal,
                } = record;
                json!({
                    "password": password,
                    "created_at": timestamp(created_at.as_ref()),
                    "entropy_bits": entropy_bits,
                    "length": length,
                    "principal": principal,
                })
            })
            .collect();
        json!({ "passwords": rows })
    }

    fn human(&self) {
        for record in &self.passwords {
            println!("{}", record_line(record));
        }
    }
}

/// One history entry for people: time, length, strength, principal, and
/// the secret — absent ("-") when the server keeps metadata only.
fn record_line(record: &PasswordRecord) -> String {
    let PasswordRecord {
        password,
        created_at,
        entropy_bits,
        length,
        principal,
    } = record;
    let created = timestamp(created_at.as_ref());
    let principal = if principal.is_empty() { "-" } else { principal };
    let password = if password.is_empty() { "-" } else { password };
    format!("{created}\t{length} chars\t{entropy_bits:.1} bits\t{principal}\t{password}")
}

impl Render for CheckPasswordResponse {
    fn json(&self) -> Value {
        let CheckPasswordResponse {
            score,
            guesses_log10,
            crack_time_display,
            crack_time_seconds,
            warning,
            suggestions,
        } = self;
        json!({
            "score": score,
            "guesses_log10": guesses_log10,
            "crack_time_display": crack_time_display,
            "crack_time_seconds": crack_time_seconds,
            "warning": warning,
            "suggestions": suggestions,
        })
    }

    fn human(&self) {
        println!(
            "score {}/4, cracked offline in {}",
            self.score, self.crack_time_display
        );
        if !self.warning.is_empty() {
            println!("warning: {}", self.warning);
        }
        for suggestion in &self.suggestions {
            println!("- {suggestion}");
        }
    }
}

/// `token new`: a fresh token, printed once (stdout), and the line to add
/// to the tokens file (stderr).
pub fn token_new(args: TokenNewArgs) -> ExitCode {
    let TokenNewArgs { name, scopes } = args;
    let (token, digest) = crate::auth::new_token();
    match crate::auth::format_line(&name, scopes, &digest) {
        Ok(line) => {
            println!("{token}");
            eprintln!(
                "# add this line to the tokens file (AUTH_TOKENS_FILE); the token is not stored anywhere:"
            );
            eprintln!("{line}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

/// `generate`: one or more passwords.
pub async fn generate(args: GenerateArgs) -> Result<(), CommandError> {
    let GenerateArgs {
        client,
        length,
        numbers,
        special,
        no_lowercase,
        no_uppercase,
        min_lowercase,
        min_uppercase,
        min_digits,
        min_specials,
        exclude_ambiguous,
        exclude,
        special_chars,
        count,
        no_store,
        policy,
    } = args;
    let request = GeneratePasswordRequest {
        length,
        include_numbers: numbers,
        include_special_chars: special,
        include_lowercase: no_lowercase.then_some(false),
        include_uppercase: no_uppercase.then_some(false),
        min_lowercase,
        min_uppercase,
        min_digits,
        min_specials,
        exclude_ambiguous,
        exclude_chars: exclude.unwrap_or_default(),
        special_chars: special_chars.unwrap_or_default(),
        count,
        store: no_store.then_some(false),
        policy: policy.unwrap_or_default(),
    };
    let reply = client
        .connect()
        .await?
        .generate_password(request)
        .await
        .map_err(|status| client.failed(status))?;
    client.print(reply.get_ref());
    Ok(())
}

/// `passphrase`: one passphrase.
pub async fn passphrase(args: PassphraseArgs) -> Result<(), CommandError> {
    let PassphraseArgs {
        client,
        words,
        separator,
        capitalize,
        numbers,
        no_store,
        policy,
    } = args;
    let request = GeneratePassphraseRequest {
        word_count: words,
        separator,
        capitalize,
        include_number: numbers,
        store: no_store.then_some(false),
        policy: policy.unwrap_or_default(),
    };
    let reply = client
        .connect()
        .await?
        .generate_passphrase(request)
        .await
        .map_err(|status| client.failed(status))?;
    client.print(reply.get_ref());
    Ok(())
}

/// `list`: the history, newest first.
pub async fn list(args: ListArgs) -> Result<(), CommandError> {
    let ListArgs { client, page_size } = args;
    let request = ListPasswordsRequest { page_size };
    let reply = client
        .connect()
        .await?
        .list_passwords(request)
        .await
        .map_err(|status| client.failed(status))?;
    client.print(reply.get_ref());
    Ok(())
}

/// `check`: reads a password from stdin (never from the command line,
/// where `ps` and shell history would see it) and prints its strength.
pub async fn check(args: CheckArgs) -> Result<(), CommandError> {
    let CheckArgs {
        client,
        user_inputs,
    } = args;
    let mut password = String::new();
    std::io::stdin().lock().read_line(&mut password)?;
    let password = password.trim_end_matches(['\r', '\n']).to_owned();
    let request = CheckPasswordRequest {
        password,
        user_inputs,
    };
    let reply = client
        .connect()
        .await?
        .check_password(request)
        .await
        .map_err(|status| client.failed(status))?;
    client.print(reply.get_ref());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listed_record_shows_length_principal_and_secret_if_kept() {
        let created = prost_types::Timestamp {
            seconds: 1_700_000_000,
            nanos: 0,
        };
        let mut record = PasswordRecord {
            password: "s3cr3t-pass".into(),
            created_at: Some(created),
            entropy_bits: 40.25,
            length: 11,
            principal: "alice".into(),
        };
        assert_eq!(
            record_line(&record),
            "2023-11-14T22:13:20Z\t11 chars\t40.2 bits\talice\ts3cr3t-pass"
        );
        record.password.clear();
        assert_eq!(
            record_line(&record),
            "2023-11-14T22:13:20Z\t11 chars\t40.2 bits\talice\t-"
        );
        let json = ListPasswordsResponse {
            passwords: vec![record],
        }
        .json();
        assert_eq!(json["passwords"][0]["length"], 11);
        assert_eq!(json["passwords"][0]["principal"], "alice");
    }

    #[test]
    fn a_refused_call_shows_the_code_name() {
        let error = CommandError::Status {
            status: Status::unavailable("history is unavailable; try again"),
            tls_without_certificate: true,
        };
        assert_eq!(
            error_chain(&error),
            "UNAVAILABLE: history is unavailable; try again"
        );
    }
}
