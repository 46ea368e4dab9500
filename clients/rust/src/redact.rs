//! `Debug` for the messages that hold a secret (a password, passphrase or
//! token): every field but the secret,
//! which shows as its length. prost's derived `Debug` would print it into
//! any log line or panic message that formats a message with `{:?}`.

use std::fmt;

use crate::proto::v1::{
    CheckPasswordRequest, CheckTokenRequest, GeneratePassphraseResponse, GeneratePasswordResponse,
    GenerateTokenResponse, PasswordRecord, StreamPasswordsResponse, TokenFormat,
};

/// A secret shown as its length only.
struct Redacted<'a>(&'a str);

impl fmt::Debug for Redacted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<redacted, {} bytes>", self.0.len())
    }
}

impl fmt::Debug for GeneratePasswordResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let GeneratePasswordResponse {
            password,
            entropy_bits,
            created_at,
            stored,
            passwords,
        } = self;
        f.debug_struct("GeneratePasswordResponse")
            .field("password", &Redacted(password))
            .field("entropy_bits", entropy_bits)
            .field("created_at", created_at)
            .field("stored", stored)
            .field(
                "passwords",
                &passwords.iter().map(|p| Redacted(p)).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl fmt::Debug for PasswordRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let PasswordRecord {
            password,
            created_at,
            entropy_bits,
            length,
            principal,
        } = self;
        // `length` and `principal` are metadata, not secrets: shown as they
        // are (an audit trail is their point).
        f.debug_struct("PasswordRecord")
            .field("password", &Redacted(password))
            .field("created_at", created_at)
            .field("entropy_bits", entropy_bits)
            .field("length", length)
            .field("principal", principal)
            .finish()
    }
}

impl fmt::Debug for GeneratePassphraseResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let GeneratePassphraseResponse {
            passphrase,
            entropy_bits,
            created_at,
            stored,
        } = self;
        f.debug_struct("GeneratePassphraseResponse")
            .field("passphrase", &Redacted(passphrase))
            .field("entropy_bits", entropy_bits)
            .field("created_at", created_at)
            .field("stored", stored)
            .finish()
    }
}

impl fmt::Debug for CheckPasswordRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let CheckPasswordRequest {
            password,
            user_inputs,
        } = self;
        f.debug_struct("CheckPasswordRequest")
            .field("password", &Redacted(password))
            .field(
                "user_inputs",
                &user_inputs.iter().map(|i| Redacted(i)).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl fmt::Debug for StreamPasswordsResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let StreamPasswordsResponse {
            password,
            entropy_bits,
        } = self;
        f.debug_struct("StreamPasswordsResponse")
            .field("password", &Redacted(password))
            .field("entropy_bits", entropy_bits)
            .finish()
    }
}

/// A format as its name (`TOKEN_FORMAT_HEX`), or the unknown number.
struct Format(i32);

impl fmt::Debug for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match TokenFormat::try_from(self.0) {
            Ok(format) => f.write_str(format.as_str_name()),
            Err(_) => write!(f, "{}", self.0),
        }
    }
}

impl fmt::Debug for GenerateTokenResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let GenerateTokenResponse {
            token,
            entropy_bits,
            format,
        } = self;
        f.debug_struct("GenerateTokenResponse")
            .field("token", &Redacted(token))
            .field("entropy_bits", entropy_bits)
            .field("format", &Format(*format))
            .finish()
    }
}

impl fmt::Debug for CheckTokenRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let CheckTokenRequest { token, format } = self;
        f.debug_struct("CheckTokenRequest")
            .field("token", &Redacted(token))
            .field("format", &Format(*format))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_secret_reaches_debug_output() {
        let secret = "hunter2-Secret!";
        let shown = [
            format!(
                "{:?}",
                GeneratePasswordResponse {
                    password: secret.into(),
                    passwords: vec![secret.into()],
                    ..Default::default()
                }
            ),
            format!(
                "{:?}",
                PasswordRecord {
                    password: secret.into(),
                    ..Default::default()
                }
            ),
            format!(
                "{:?}",
                GeneratePassphraseResponse {
                    passphrase: secret.into(),
                    ..Default::default()
                }
            ),
            format!(
                "{:?}",
                CheckPasswordRequest {
                    password: secret.into(),
                    user_inputs: vec![secret.into()],
                }
            ),
            format!(
                "{:?}",
                StreamPasswordsResponse {
                    password: secret.into(),
                    entropy_bits: 1.0,
                }
            ),
            format!(
                "{:?}",
                GenerateTokenResponse {
                    token: secret.into(),
                    entropy_bits: 128.0,
                    format: TokenFormat::Hex.into(),
                }
            ),
            format!(
                "{:?}",
                CheckTokenRequest {
                    token: secret.into(),
                    format: 0,
                }
            ),
        ];
        for text in shown {
            assert!(!text.contains(secret), "{text}");
            assert!(text.contains("<redacted, 15 bytes>"), "{text}");
        }
    }

    #[test]
    fn token_messages_show_their_format() {
        let text = format!(
            "{:?}",
            GenerateTokenResponse {
                token: "gps_secret".into(),
                entropy_bits: 130.0,
                format: TokenFormat::Base32Crockford.into(),
            }
        );
        assert!(text.contains("TOKEN_FORMAT_BASE32_CROCKFORD"), "{text}");
        assert!(text.contains("entropy_bits: 130.0"), "{text}");
        let text = format!(
            "{:?}",
            CheckTokenRequest {
                token: "x".into(),
                format: 99
            }
        );
        assert!(text.contains("format: 99"), "{text}");
    }

    #[test]
    fn a_record_shows_its_metadata() {
        let text = format!(
            "{:?}",
            PasswordRecord {
                password: "hunter2-Secret!".into(),
                length: 15,
                principal: "alice".into(),
                ..Default::default()
            }
        );
        assert!(!text.contains("hunter2"), "{text}");
        assert!(text.contains("length: 15"), "{text}");
        assert!(text.contains("principal: \"alice\""), "{text}");
    }
}
