//! Dispatches the command line to the server or to a subcommand, and turns
//! the outcome into an exit code.

use std::process::ExitCode;

use tonic_health::pb::health_check_response::ServingStatus;

use crate::config::{Cli, Command, HealthcheckArgs};
use crate::{commands, healthcheck, server, telemetry};

/// Runs what `cli` asks for.
pub async fn run(cli: Cli) -> ExitCode {
    let Cli { command, serve } = cli;
    match command {
        None => {
            telemetry::init(&serve.log);
            match server::run(serve).await {
                Ok(()) => ExitCode::SUCCESS,
                Err(error) => {
                    tracing::error!(%error, "server failed");
                    ExitCode::FAILURE
                }
            }
        }
        Some(Command::Healthcheck(HealthcheckArgs {
            addr,
            service,
            timeout,
        })) => {
            let addr = addr.unwrap_or_else(|| healthcheck::local_addr(serve.listen));
            healthcheck_exit(healthcheck::probe(&addr, &service, timeout).await)
        }
        Some(Command::Generate(args)) => commands::finish(commands::generate(args).await),
        Some(Command::Passphrase(args)) => commands::finish(commands::passphrase(args).await),
        Some(Command::List(args)) => commands::finish(commands::list(args).await),
        Some(Command::Check(args)) => commands::finish(commands::check(args).await),
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
            eprintln!("unhealthy: {error}");
            ExitCode::FAILURE
        }
    }
}
