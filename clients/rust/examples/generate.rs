//! Generates a password on a running server: `cargo run -p
//! giropops-senhas-client --example generate -- 127.0.0.1:50051`.

use std::time::Duration;

use giropops_senhas_client::{GeneratePasswordRequest, code_name, connect, error_chain};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:50051".to_owned());
    let mut client = match connect(&addr, Duration::from_secs(5)).await {
        Ok(client) => client,
        Err(error) => {
            eprintln!("error: {}", error_chain(&error));
            return std::process::ExitCode::FAILURE;
        }
    };
    let request = GeneratePasswordRequest {
        length: 24,
        include_numbers: true,
        ..Default::default()
    };
    match client.generate_password(request).await {
        Ok(reply) => {
            let reply = reply.into_inner();
            println!("{} ({:.1} bits)", reply.password, reply.entropy_bits);
            std::process::ExitCode::SUCCESS
        }
        Err(status) => {
            // INVALID_ARGUMENT names the field and range; UNAVAILABLE: retry.
            eprintln!("error: {}: {}", code_name(status.code()), status.message());
            std::process::ExitCode::FAILURE
        }
    }
}
