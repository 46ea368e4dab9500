//! Client subcommands for people at a terminal: `generate`, `passphrase`,
//! `list`, `check`. Human output by default, `--json` for scripts. Secrets
//! go to stdout only; errors to stderr with the gRPC status code.

use std::io::BufRead;
use std::process::ExitCode;

use serde_json::json;
use tonic::Status;

use crate::client::{
    CheckPasswordRequest, GeneratePassphraseRequest, GeneratePasswordRequest, ListPasswordsRequest,
    connect,
};
use crate::config::{CheckArgs, ClientArgs, GenerateArgs, ListArgs, PassphraseArgs};

/// Why a client command failed.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// Could not reach the server.
    #[error("cannot connect: {0}")]
    Connect(#[from] tonic::transport::Error),
    /// The server refused the call.
    #[error("{}: {}", .0.code(), .0.message())]
    Status(#[from] Status),
    /// Reading the password to check failed.
    #[error("cannot read the password from stdin: {0}")]
    Stdin(#[from] std::io::Error),
}

/// Prints the outcome of a client command and turns it into an exit code.
pub fn finish(result: Result<(), CommandError>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

/// `generate`: one or more passwords.
pub async fn generate(args: GenerateArgs) -> Result<(), CommandError> {
    let GenerateArgs {
        client: ClientArgs {
            addr,
            json,
            timeout,
        },
        length,
        numbers,
        special,
        no_lowercase,
        no_uppercase,
        min_digits,
        min_specials,
        exclude_ambiguous,
        exclude,
        special_chars,
        count,
        no_store,
    } = args;
    let request = GeneratePasswordRequest {
        length,
        include_numbers: numbers,
        include_special_chars: special,
        include_lowercase: no_lowercase.then_some(false),
        include_uppercase: no_uppercase.then_some(false),
        min_digits,
        min_specials,
        exclude_ambiguous,
        exclude_chars: exclude.unwrap_or_default(),
        special_chars: special_chars.unwrap_or_default(),
        count,
        store: no_store.then_some(false),
        ..Default::default()
    };
    let reply = connect(&addr, timeout)
        .await?
        .generate_password(request)
        .await?
        .into_inner();
    if json {
        println!(
            "{}",
            json!({
                "passwords": reply.passwords,
                "entropy_bits": reply.entropy_bits,
                "stored": reply.stored,
            })
        );
    } else {
        for password in &reply.passwords {
            println!("{password}");
        }
        eprintln!(
            "{:.1} bits each{}",
            reply.entropy_bits,
            if reply.stored { ", stored" } else { "" }
        );
    }
    Ok(())
}

/// `passphrase`: one passphrase.
pub async fn passphrase(args: PassphraseArgs) -> Result<(), CommandError> {
    let PassphraseArgs {
        client: ClientArgs {
            addr,
            json,
            timeout,
        },
        words,
        separator,
        capitalize,
        number,
        no_store,
    } = args;
    let request = GeneratePassphraseRequest {
        word_count: words,
        separator,
        capitalize,
        include_number: number,
        store: no_store.then_some(false),
    };
    let reply = connect(&addr, timeout)
        .await?
        .generate_passphrase(request)
        .await?
        .into_inner();
    if json {
        println!(
            "{}",
            json!({
                "passphrase": reply.passphrase,
                "entropy_bits": reply.entropy_bits,
                "stored": reply.stored,
            })
        );
    } else {
        println!("{}", reply.passphrase);
        eprintln!("{:.1} bits", reply.entropy_bits);
    }
    Ok(())
}

/// `list`: the history, newest first.
pub async fn list(args: ListArgs) -> Result<(), CommandError> {
    let ListArgs {
        client: ClientArgs {
            addr,
            json,
            timeout,
        },
        page_size,
    } = args;
    let reply = connect(&addr, timeout)
        .await?
        .list_passwords(ListPasswordsRequest { page_size })
        .await?
        .into_inner();
    let rows: Vec<(String, String, f64)> = reply
        .passwords
        .into_iter()
        .map(|record| {
            let created = record.created_at.map(|t| t.to_string()).unwrap_or_default();
            (record.password, created, record.entropy_bits)
        })
        .collect();
    if json {
        let rows: Vec<_> = rows
            .iter()
            .map(|(p, c, e)| json!({"password": p, "created_at": c, "entropy_bits": e}))
            .collect();
        println!("{}", json!({ "passwords": rows }));
    } else {
        for (password, created, _) in rows {
            println!("{created}\t{password}");
        }
    }
    Ok(())
}

/// `check`: reads a password from stdin (never from the command line,
/// where `ps` and shell history would see it) and prints its strength.
pub async fn check(args: CheckArgs) -> Result<(), CommandError> {
    let CheckArgs {
        client: ClientArgs {
            addr,
            json,
            timeout,
        },
        user_inputs,
    } = args;
    let mut password = String::new();
    std::io::stdin().lock().read_line(&mut password)?;
    let password = password.trim_end_matches(['\r', '\n']).to_owned();
    let reply = connect(&addr, timeout)
        .await?
        .check_password(CheckPasswordRequest {
            password,
            user_inputs,
        })
        .await?
        .into_inner();
    if json {
        println!(
            "{}",
            json!({
                "score": reply.score,
                "guesses_log10": reply.guesses_log10,
                "crack_time_display": reply.crack_time_display,
                "crack_time_seconds": reply.crack_time_seconds,
                "warning": reply.warning,
                "suggestions": reply.suggestions,
            })
        );
    } else {
        println!(
            "score {}/4, cracked offline in {}",
            reply.score, reply.crack_time_display
        );
        if !reply.warning.is_empty() {
            println!("warning: {}", reply.warning);
        }
        for suggestion in reply.suggestions {
            println!("- {suggestion}");
        }
    }
    Ok(())
}
