//! The API key subcommands: `token` (GenerateToken) and `check-token`
//! (CheckToken, the token read from stdin, never from the command line,
//! where `ps` and shell history would see it). As the other client
//! commands: human output by default, `--json` for scripts, the token on
//! stdout only.

use std::io::BufRead;

use giropops_senhas_client::{
    CheckTokenRequest, CheckTokenResponse, GenerateTokenRequest, GenerateTokenResponse, TokenFormat,
};
use serde_json::{Value, json};

use super::args::{ApiKeyArgs, CheckTokenArgs};
use super::commands::{CommandError, Render};

/// The CLI's name of a format number (`base32`), or the number itself.
fn format_name(format: i32) -> String {
    match TokenFormat::try_from(format) {
        Ok(TokenFormat::Unspecified) => String::new(),
        Ok(TokenFormat::Base62) => "base62".to_owned(),
        Ok(TokenFormat::Hex) => "hex".to_owned(),
        Ok(TokenFormat::Base64url) => "base64url".to_owned(),
        Ok(TokenFormat::Base32Crockford) => "base32".to_owned(),
        Ok(TokenFormat::Uuid) => "uuid".to_owned(),
        Err(_) => format.to_string(),
    }
}

impl Render for GenerateTokenResponse {
    fn json(&self) -> Value {
        let GenerateTokenResponse {
            token,
            entropy_bits,
            format,
        } = self;
        json!({
            "token": token,
            "entropy_bits": entropy_bits,
            "format": format_name(*format),
        })
    }

    fn human(&self) {
        println!("{}", self.token);
        eprintln!(
            "{:.1} bits, {}",
            self.entropy_bits,
            format_name(self.format)
        );
    }
}

impl Render for CheckTokenResponse {
    fn json(&self) -> Value {
        let CheckTokenResponse {
            valid,
            format,
            prefix,
            entropy_bits,
            checksummed,
            reason,
        } = self;
        json!({
            "valid": valid,
            "format": format_name(*format),
            "prefix": prefix,
            "entropy_bits": entropy_bits,
            "checksummed": checksummed,
            "reason": reason,
        })
    }

    fn human(&self) {
        println!("{}", verdict(self));
    }
}

/// One line for people: `valid: base32, prefix gps_, 130.0 bits, checksum
/// ok`, or `invalid: <reason>`.
fn verdict(reply: &CheckTokenResponse) -> String {
    let CheckTokenResponse {
        valid,
        format,
        prefix,
        entropy_bits,
        checksummed,
        reason,
    } = reply;
    if !valid {
        return format!("invalid: {reason}");
    }
    let prefix = if prefix.is_empty() {
        "no prefix".to_owned()
    } else {
        format!("prefix {prefix}")
    };
    let checksum = if *checksummed {
        "checksum ok"
    } else {
        "no checksum (shape only)"
    };
    format!(
        "valid: {}, {prefix}, {entropy_bits:.1} bits, {checksum}",
        format_name(*format)
    )
}

/// `token`: one API key.
pub(super) async fn token(args: ApiKeyArgs) -> Result<(), CommandError> {
    let ApiKeyArgs {
        client,
        bits,
        prefix,
        format,
        policy,
    } = args;
    let request = GenerateTokenRequest {
        bits,
        prefix: prefix.unwrap_or_default(),
        format: format.map_or(TokenFormat::Unspecified, Into::into).into(),
        policy: policy.unwrap_or_default(),
    };
    let reply = client
        .connect()
        .await?
        .generate_token(request)
        .await
        .map_err(|status| client.failed(status))?;
    client.print(reply.get_ref());
    Ok(())
}

/// `check-token`: reads one token from stdin, prints the verdict; whether
/// it is valid.
pub(super) async fn check_token(args: CheckTokenArgs) -> Result<bool, CommandError> {
    let CheckTokenArgs { client, format } = args;
    let mut token = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut token)
        .map_err(CommandError::TokenStdin)?;
    let request = CheckTokenRequest {
        token: token.trim().to_owned(),
        format: format.map_or(TokenFormat::Unspecified, Into::into).into(),
    };
    let reply = client
        .connect()
        .await?
        .check_token(request)
        .await
        .map_err(|status| client.failed(status))?;
    client.print(reply.get_ref());
    Ok(reply.get_ref().valid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_verdict_says_what_was_found_or_why_not() {
        let mut reply = CheckTokenResponse {
            valid: true,
            format: TokenFormat::Base32Crockford.into(),
            prefix: "gps_".into(),
            entropy_bits: 130.0,
            checksummed: true,
            reason: String::new(),
        };
        assert_eq!(
            verdict(&reply),
            "valid: base32, prefix gps_, 130.0 bits, checksum ok"
        );
        assert_eq!(reply.json()["format"], "base32");
        reply.valid = false;
        reply.reason = "checksum mismatch".into();
        assert_eq!(verdict(&reply), "invalid: checksum mismatch");
        let generated = GenerateTokenResponse {
            token: "t".into(),
            entropy_bits: 122.0,
            format: TokenFormat::Uuid.into(),
        };
        assert_eq!(generated.json()["format"], "uuid");
        assert_eq!(format_name(99), "99");
    }
}
