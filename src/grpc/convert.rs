//! Conversions between protobuf messages and domain types. Proto defaults
//! (0 or unset → the documented default) are applied here; validation is
//! the domain's.

use crate::generator::{
    DEFAULT_LENGTH, DEFAULT_SEPARATOR, DEFAULT_WORDS, GeneratedPassword, PassphraseOptions,
    PasswordOptions, Strength,
};
use crate::history::Record;
use crate::proto::v1::{
    CheckPasswordResponse, GeneratePassphraseRequest, GeneratePasswordRequest, PasswordRecord,
    StreamPasswordsResponse,
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
}
