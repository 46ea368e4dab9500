//! Conversions between protobuf messages and domain types. Proto defaults
//! (0 or unset → the documented default) are applied here; validation is
//! the domain's.

use crate::generator::{
    DEFAULT_LENGTH, DEFAULT_SEPARATOR, DEFAULT_WORDS, FieldViolation, GeneratedPassword,
    GeneratedToken, PassphraseOptions, PasswordOptions, Strength, TokenCheck, TokenFormat,
};
use crate::history::Record;
use crate::proto::v1::{
    self, CheckPasswordResponse, CheckTokenResponse, GeneratePassphraseRequest,
    GeneratePasswordRequest, GenerateTokenResponse, PasswordRecord, StreamPasswordsResponse,
};

impl From<&GeneratePasswordRequest> for PasswordOptions {
    fn from(request: &GeneratePasswordRequest) -> Self {
        let GeneratePasswordRequest {
            length,
            include_numbers,
            include_special_chars,
            include_lowercase,
            include_uppercase,
            min_lowercase,
            min_uppercase,
            min_digits,
            min_specials,
            exclude_ambiguous,
            exclude_chars,
            special_chars,
            // Batch options, not password options: see `BatchOptions`.
            count: _,
            store: _,
            // Resolved before conversion: see `policy`.
            policy: _,
        } = request;
        PasswordOptions {
            length: match length {
                0 => DEFAULT_LENGTH as u64,
                &n => u64::from(n),
            },
            include_lowercase: *include_lowercase,
            include_uppercase: *include_uppercase,
            include_numbers: *include_numbers,
            include_special_chars: *include_special_chars,
            min_lowercase: u64::from(*min_lowercase),
            min_uppercase: u64::from(*min_uppercase),
            min_digits: u64::from(*min_digits),
            min_specials: u64::from(*min_specials),
            exclude_ambiguous: *exclude_ambiguous,
            exclude_chars: exclude_chars.clone(),
            special_chars: special_chars.clone(),
        }
    }
}

impl From<&GeneratePassphraseRequest> for PassphraseOptions {
    fn from(request: &GeneratePassphraseRequest) -> Self {
        let GeneratePassphraseRequest {
            word_count,
            separator,
            capitalize,
            include_number,
            store: _,
            policy: _,
        } = request;
        PassphraseOptions {
            word_count: match word_count {
                0 => DEFAULT_WORDS as u64,
                &n => u64::from(n),
            },
            separator: separator
                .clone()
                .unwrap_or_else(|| DEFAULT_SEPARATOR.to_owned()),
            capitalize: *capitalize,
            include_number: *include_number,
        }
    }
}

impl From<Record> for PasswordRecord {
    /// In metadata mode the record's password is empty: so is the message's.
    fn from(record: Record) -> Self {
        let Record {
            password,
            length,
            principal,
            created_at,
            entropy_bits,
        } = record;
        PasswordRecord {
            password: password.into_exposed(),
            created_at: created_at.map(Into::into),
            entropy_bits,
            length: u32::try_from(length).unwrap_or(u32::MAX),
            principal,
        }
    }
}

impl From<GeneratedPassword> for StreamPasswordsResponse {
    fn from(generated: GeneratedPassword) -> Self {
        StreamPasswordsResponse {
            password: generated.password.into_exposed(),
            entropy_bits: generated.entropy_bits,
        }
    }
}

impl From<Strength> for CheckPasswordResponse {
    fn from(strength: Strength) -> Self {
        let Strength {
            score,
            guesses_log10,
            crack_time_display,
            crack_time_seconds,
            warning,
            suggestions,
        } = strength;
        CheckPasswordResponse {
            score: u32::from(score),
            guesses_log10,
            crack_time_display,
            crack_time_seconds,
            warning: warning.unwrap_or_default(),
            suggestions,
        }
    }
}

/// The format a request's `field` names: `None` when unspecified (the
/// caller's default); a number no `TokenFormat` has is a violation.
pub(super) fn token_format(
    field: &'static str,
    value: i32,
    violations: &mut Vec<FieldViolation>,
) -> Option<TokenFormat> {
    match v1::TokenFormat::try_from(value) {
        Ok(v1::TokenFormat::Unspecified) => None,
        Ok(v1::TokenFormat::Base62) => Some(TokenFormat::Base62),
        Ok(v1::TokenFormat::Hex) => Some(TokenFormat::Hex),
        Ok(v1::TokenFormat::Base64url) => Some(TokenFormat::Base64Url),
        Ok(v1::TokenFormat::Base32Crockford) => Some(TokenFormat::Base32Crockford),
        Ok(v1::TokenFormat::Uuid) => Some(TokenFormat::Uuid),
        Err(_) => {
            violations.push(FieldViolation::new(
                field,
                format!(
                    "{field} must be TOKEN_FORMAT_UNSPECIFIED, TOKEN_FORMAT_BASE62, TOKEN_FORMAT_HEX, TOKEN_FORMAT_BASE64URL, TOKEN_FORMAT_BASE32_CROCKFORD or TOKEN_FORMAT_UUID (0 to 5), got {value}"
                ),
            ));
            None
        }
    }
}

/// The token options a request asks for (its `policy` resolved before),
/// and the violation of an unknown format (the default format then, so
/// the domain's checks still run and every violation is reported).
pub(crate) fn token_options(
    request: &v1::GenerateTokenRequest,
) -> (crate::generator::TokenOptions, Vec<FieldViolation>) {
    let v1::GenerateTokenRequest {
        bits,
        prefix,
        format,
        policy: _,
    } = request;
    let mut violations = Vec::new();
    let format = token_format("format", *format, &mut violations)
        .unwrap_or(crate::generator::DEFAULT_TOKEN_FORMAT);
    let options = crate::generator::TokenOptions {
        bits: (*bits != 0).then_some(*bits),
        prefix: prefix.clone(),
        format,
    };
    (options, violations)
}

impl From<TokenFormat> for v1::TokenFormat {
    fn from(format: TokenFormat) -> Self {
        match format {
            TokenFormat::Base62 => v1::TokenFormat::Base62,
            TokenFormat::Hex => v1::TokenFormat::Hex,
            TokenFormat::Base64Url => v1::TokenFormat::Base64url,
            TokenFormat::Base32Crockford => v1::TokenFormat::Base32Crockford,
            TokenFormat::Uuid => v1::TokenFormat::Uuid,
        }
    }
}

impl From<GeneratedToken> for GenerateTokenResponse {
    fn from(generated: GeneratedToken) -> Self {
        let GeneratedToken {
            token,
            entropy_bits,
            format,
        } = generated;
        GenerateTokenResponse {
            token: token.into_exposed(),
            entropy_bits,
            format: v1::TokenFormat::from(format).into(),
        }
    }
}

impl From<TokenCheck> for CheckTokenResponse {
    fn from(check: TokenCheck) -> Self {
        let TokenCheck {
            valid,
            format,
            prefix,
            entropy_bits,
            checksummed,
            problem,
        } = check;
        CheckTokenResponse {
            valid,
            format: format
                .map_or(v1::TokenFormat::Unspecified, Into::into)
                .into(),
            prefix,
            entropy_bits,
            checksummed,
            reason: problem
                .map(|problem| problem.to_string())
                .unwrap_or_default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_and_unset_mean_the_defaults() {
        let options = PasswordOptions::from(&GeneratePasswordRequest::default());
        assert_eq!(options, PasswordOptions::with_length(16));
        let options = PassphraseOptions::from(&GeneratePassphraseRequest::default());
        assert_eq!(options, PassphraseOptions::default());
        let options = PassphraseOptions::from(&GeneratePassphraseRequest {
            separator: Some(String::new()),
            ..Default::default()
        });
        assert_eq!(options.separator, "", "an explicit empty separator is kept");
    }

    #[test]
    fn records_carry_length_and_principal() {
        use std::time::{Duration, UNIX_EPOCH};
        let created = UNIX_EPOCH + Duration::from_millis(1_700_000_000_123);
        let mut record = Record::new(
            crate::generator::Secret::new("abcdefgh".to_owned()),
            40.5,
            created,
        );
        record.principal = "alice".to_owned();
        let message = PasswordRecord::from(record);
        assert_eq!(
            message,
            PasswordRecord {
                password: "abcdefgh".to_owned(),
                created_at: Some(created.into()),
                entropy_bits: 40.5,
                length: 8,
                principal: "alice".to_owned(),
            }
        );
    }

    #[test]
    fn fields_are_carried_over() {
        let request = GeneratePasswordRequest {
            length: 3,
            include_numbers: true,
            include_uppercase: Some(false),
            min_digits: 2,
            exclude_chars: "x".into(),
            ..Default::default()
        };
        let options = PasswordOptions::from(&request);
        assert_eq!(options.length, 3);
        assert!(options.include_numbers);
        assert_eq!(options.include_uppercase, Some(false));
        assert_eq!(options.include_lowercase, None);
        assert_eq!(options.min_digits, 2);
        assert_eq!(options.exclude_chars, "x");
    }

    #[test]
    fn token_formats_map_both_ways_and_unknown_ones_are_named() {
        let mut violations = Vec::new();
        assert_eq!(token_format("format", 0, &mut violations), None);
        for format in TokenFormat::ALL {
            let number = i32::from(v1::TokenFormat::from(format));
            assert_eq!(
                token_format("format", number, &mut violations),
                Some(format)
            );
        }
        assert!(violations.is_empty());
        assert_eq!(token_format("format", 6, &mut violations), None);
        assert_eq!(violations[0].field, "format");
        assert!(violations[0].description.ends_with("(0 to 5), got 6"));
    }

    #[test]
    fn a_check_becomes_its_message() {
        let invalid = crate::generator::check_token("not a token at all", None);
        let message = CheckTokenResponse::from(invalid);
        assert!(!message.valid && !message.checksummed);
        assert_eq!(message.format, 0);
        assert!(
            message.reason.starts_with("checksum mismatch"),
            "{message:?}"
        );
        let valid = crate::generator::check_token("0f8fad5b-d9cb-469f-a165-70867728950e", None);
        let message = CheckTokenResponse::from(valid);
        assert!(message.valid && message.reason.is_empty());
        assert_eq!(message.format, i32::from(v1::TokenFormat::Uuid));
    }
}
