//! The `giropops-senhas` binary: parse the command line, then serve or probe.

use std::process::ExitCode;

use clap::Parser;
use giropops_senhas::cli::Cli;

/// musl's malloc takes a global lock: under many threads it dominates. The
/// static (musl) build uses mimalloc instead; glibc builds keep the system's.
#[cfg(target_env = "musl")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    runtime.block_on(giropops_senhas::cli::run(cli))
}
