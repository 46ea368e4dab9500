//! What a caller may ask for, validated into a policy the generator trusts.

use std::ops::RangeInclusive;

use super::charset::CharClass;

/// Shortest password accepted: one character of each of the four classes.
pub const MIN_LENGTH: usize = 4;
/// Longest password accepted. Bounds the work and memory of one request and
/// of every history entry (the original app accepted 10 million).
pub const MAX_LENGTH: usize = 1024;
/// Length used when a caller does not choose one.
pub const DEFAULT_LENGTH: usize = 16;

/// The allowed lengths, for messages and validation.
pub const LENGTH_RANGE: RangeInclusive<usize> = MIN_LENGTH..=MAX_LENGTH;

/// Options as a caller states them, before validation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordOptions {
    /// Number of characters.
    pub length: u64,
    /// Require and use digits.
    pub include_numbers: bool,
    /// Require and use ASCII punctuation.
    pub include_special_chars: bool,
}

impl Default for PasswordOptions {
    fn default() -> Self {
        PasswordOptions {
            length: DEFAULT_LENGTH as u64,
            include_numbers: false,
            include_special_chars: false,
        }
    }
}

/// One broken rule of a request, naming the option it concerns.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{description}")]
pub struct PolicyViolation {
    /// The option at fault, named as in the API (`length`, …).
    pub field: &'static str,
    /// What is wrong and what is allowed, for a person to act on.
    pub description: String,
}

/// A class the policy draws from, with how many of it must appear.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ClassRule {
    pub class: CharClass,
    pub chars: Vec<u8>,
    pub min: usize,
}

/// A validated set of rules: generating from it cannot fail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordPolicy {
    length: usize,
    rules: Vec<ClassRule>,
    alphabet: Vec<u8>,
}

impl PasswordPolicy {
    /// Validates `options`, reporting every violation at once.
    pub fn new(options: PasswordOptions) -> Result<Self, Vec<PolicyViolation>> {
        let PasswordOptions {
            length,
            include_numbers,
            include_special_chars,
        } = options;
        let mut violations = Vec::new();
        let length = match usize::try_from(length) {
            Ok(length) if LENGTH_RANGE.contains(&length) => length,
            _ => {
                violations.push(PolicyViolation {
                    field: "length",
                    description: format!(
                        "length must be between {MIN_LENGTH} and {MAX_LENGTH}, got {length}"
                    ),
                });
                0
            }
        };
        if !violations.is_empty() {
            return Err(violations);
        }
        let wanted = [
            (CharClass::Lowercase, true),
            (CharClass::Uppercase, true),
            (CharClass::Digit, include_numbers),
            (CharClass::Special, include_special_chars),
        ];
        let rules: Vec<ClassRule> = wanted
            .into_iter()
            .filter(|&(_, on)| on)
            .map(|(class, _)| ClassRule {
                class,
                chars: class.chars().to_vec(),
                min: 1,
            })
            .collect();
        let alphabet = rules.iter().flat_map(|r| r.chars.iter().copied()).collect();
        Ok(PasswordPolicy {
            length,
            rules,
            alphabet,
        })
    }

    /// Number of characters to generate.
    pub fn length(&self) -> usize {
        self.length
    }

    /// Every character a password may contain.
    pub fn alphabet(&self) -> &[u8] {
        &self.alphabet
    }

    /// The classes used, each with its minimum count.
    pub fn required_classes(&self) -> impl Iterator<Item = (CharClass, usize)> + '_ {
        self.rules.iter().map(|r| (r.class, r.min))
    }

    pub(crate) fn rules(&self) -> &[ClassRule] {
        &self.rules
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(length: u64) -> PasswordOptions {
        PasswordOptions {
            length,
            ..PasswordOptions::default()
        }
    }

    #[test]
    fn accepts_the_bounds() {
        for length in [MIN_LENGTH, DEFAULT_LENGTH, MAX_LENGTH] {
            let policy = PasswordPolicy::new(options(length as u64)).unwrap();
            assert_eq!(policy.length(), length);
        }
    }

    #[test]
    fn rejects_out_of_range_lengths_naming_the_field_and_range() {
        for length in [0, 3, 1025, 10_000_000, u64::MAX] {
            let violations = PasswordPolicy::new(options(length)).unwrap_err();
            assert_eq!(violations.len(), 1);
            assert_eq!(violations[0].field, "length");
            assert_eq!(
                violations[0].to_string(),
                format!("length must be between 4 and 1024, got {length}")
            );
        }
    }

    #[test]
    fn letters_always_digits_and_specials_on_request() {
        let letters = PasswordPolicy::new(options(16)).unwrap();
        assert_eq!(letters.alphabet().len(), 52);
        let all = PasswordPolicy::new(PasswordOptions {
            length: 16,
            include_numbers: true,
            include_special_chars: true,
        })
        .unwrap();
        assert_eq!(all.alphabet().len(), 94);
        let classes: Vec<_> = all.required_classes().collect();
        assert_eq!(
            classes,
            CharClass::ALL.map(|c| (c, 1)).to_vec(),
            "each class used is required once"
        );
    }
}
