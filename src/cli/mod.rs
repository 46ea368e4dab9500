//! The command line: its grammar ([`Cli`], [`serve::ServeArgs`],
//! [`args`]), and the dispatch of a parsed command line to the server or to
//! a client subcommand, with the outcome turned into an exit code.

mod api_keys;
pub mod args;
pub mod commands;
pub mod healthcheck;
pub mod init_secrets;
mod policies;
pub mod reference;
pub mod serve;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tonic_health::pb::health_check_response::ServingStatus;

use self::args::{
    CheckArgs, CheckTokenArgs, GenerateArgs, HealthcheckArgs, ListArgs, PassphraseArgs,
    PoliciesArgs, TokenArgs, TokenNewArgs,
};
use self::serve::ServeArgs;
use crate::config::ServerConfig;
use crate::{server, telemetry};

/// giropops-senhas: passwords from a CSPRNG over gRPC, with a capped history
/// in Redis. Without a subcommand, serves.
#[derive(Debug, Parser)]
#[command(
    name = "giropops-senhas",
    version,
    about,
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    /// What to do; serving is the default.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Server settings (when serving).
    #[command(flatten)]
    pub serve: ServeArgs,
}

/// Subcommands besides serving.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Probe a running server with grpc.health.v1 Check: exit 0 when
    /// SERVING, 1 otherwise. For container health checks (no shell needed).
    Healthcheck(HealthcheckArgs),
    /// Generate passwords on a running server (printed one per line).
    Generate(GenerateArgs),
    /// Generate a passphrase on a running server.
    Passphrase(PassphraseArgs),
    /// List the most recent secrets of a running server, newest first.
    List(ListArgs),
    /// List the named policies of a running server that you may use.
    Policies(PoliciesArgs),
    /// Check the strength of a password read from stdin (never stored).
    Check(CheckArgs),
    /// Generate an API key on a running server (prefix, random part,
    /// checksum: `token --bits 256 --prefix gps_ --format base32`); `token
    /// new` mints a bearer token for --auth-tokens-file instead, locally.
    Token(TokenArgs),
    /// Check an API key read from stdin (checksum and shape, offline on the
    /// server, never stored): exit 0 when valid, 1 when not.
    CheckToken(CheckTokenArgs),
    /// Write every secret a deployment needs (certificates, a token,
    /// history keys, the Redis password and ACL file) into a directory,
    /// each set only if absent. For compose's one-shot service.
    InitSecrets(init_secrets::InitSecretsArgs),
}

/// `token` subcommands.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Mint a token: printed once, with the line to add to the tokens file.
    New(TokenNewArgs),
}

/// Runs what `cli` asks for.
pub async fn run(cli: Cli) -> ExitCode {
    let Cli { command, serve } = cli;
    match command {
        None => serve_until_signal(serve).await,
        Some(Command::Healthcheck(HealthcheckArgs {
            addr,
            service,
            timeout,
            credentials,
        })) => {
            let addr = addr.unwrap_or_else(|| healthcheck::local_addr(serve.listen));
            let options = match credentials.options(timeout) {
                Ok(options) => options,
                Err(error) => {
                    eprintln!("unhealthy: cannot read a credential file: {error}");
                    return ExitCode::FAILURE;
                }
            };
            healthcheck_exit(healthcheck::probe(&addr, &service, &options).await)
        }
        Some(Command::Token(TokenArgs {
            command: Some(TokenCommand::New(args)),
            generate: _,
        })) => commands::token_new(args),
        Some(Command::Token(TokenArgs {
            command: None,
            generate,
        })) => commands::finish(api_keys::token(generate).await),
        Some(Command::CheckToken(args)) => match api_keys::check_token(args).await {
            Ok(true) => ExitCode::SUCCESS,
            Ok(false) => ExitCode::FAILURE,
            Err(error) => commands::finish(Err(error)),
        },
        Some(Command::InitSecrets(args)) => init_secrets::run(args),
        Some(Command::Generate(args)) => commands::finish(commands::generate(args).await),
        Some(Command::Passphrase(args)) => commands::finish(commands::passphrase(args).await),
        Some(Command::List(args)) => commands::finish(commands::list(args).await),
        Some(Command::Policies(args)) => commands::finish(policies::list(args).await),
        Some(Command::Check(args)) => commands::finish(commands::check(args).await),
    }
}

/// Serves until SIGTERM/SIGINT. A failure to start is one line naming what
/// failed and the flag that changes it.
async fn serve_until_signal(args: ServeArgs) -> ExitCode {
    let _log = telemetry::init(args.log.log_format, &args.log.log_level);
    let listen = args.listen;
    let config = match ServerConfig::try_from(args) {
        Ok(config) => config,
        Err(errors) => {
            tracing::error!("{errors}");
            return ExitCode::FAILURE;
        }
    };
    match server::run(listen, config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error}");
            ExitCode::FAILURE
        }
    }
}

/// SERVING → 0; anything else → 1, with the reason.
fn healthcheck_exit(outcome: Result<ServingStatus, healthcheck::ProbeError>) -> ExitCode {
    match outcome {
        Ok(ServingStatus::Serving) => {
            println!("SERVING");
            ExitCode::SUCCESS
        }
        Ok(status) => {
            println!("{}", status.as_str_name());
            ExitCode::FAILURE
        }
        Err(error) => {
            eprintln!("unhealthy: {}", giropops_senhas_client::error_chain(&error));
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests;
