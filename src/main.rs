//! The `giropops-senhas` binary: parse the command line, then serve or probe.

use std::process::ExitCode;

use clap::Parser;
use giropops_senhas::config::Cli;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    runtime.block_on(giropops_senhas::cli::run(cli))
}
