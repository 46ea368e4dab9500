//! Conversions between protobuf messages and domain types.

use crate::generator::{DEFAULT_LENGTH, PasswordOptions};
use crate::history::Record;
use crate::proto::v1::{GeneratePasswordRequest, GeneratePasswordResponse, PasswordRecord};

/// Applies the proto's defaults (`length` 0 → 16); validation comes after.
impl From<&GeneratePasswordRequest> for PasswordOptions {
    fn from(request: &GeneratePasswordRequest) -> Self {
        let GeneratePasswordRequest {
            length,
            include_numbers,
            include_special_chars,
        } = *request;
        PasswordOptions {
            length: match length {
                0 => DEFAULT_LENGTH as u64,
                n => u64::from(n),
            },
            include_numbers,
            include_special_chars,
        }
    }
}

impl From<Record> for PasswordRecord {
    fn from(record: Record) -> Self {
        PasswordRecord {
            password: record.password.into_exposed(),
            created_at: record.created_at.map(Into::into),
            entropy_bits: record.entropy_bits,
        }
    }
}

impl From<(&Record, bool)> for GeneratePasswordResponse {
    /// A generated record and whether it was stored.
    fn from((record, stored): (&Record, bool)) -> Self {
        GeneratePasswordResponse {
            password: record.password.expose().to_owned(),
            entropy_bits: record.entropy_bits,
            created_at: record.created_at.map(Into::into),
            stored,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_zero_means_the_default() {
        let options = PasswordOptions::from(&GeneratePasswordRequest::default());
        assert_eq!(options.length, 16);
        let request = GeneratePasswordRequest {
            length: 3,
            include_numbers: true,
            include_special_chars: true,
        };
        assert_eq!(
            PasswordOptions::from(&request),
            PasswordOptions {
                length: 3,
                include_numbers: true,
                include_special_chars: true
            }
        );
    }
}
