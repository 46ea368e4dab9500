//! What a caller may ask for, validated into a policy the generator trusts.
//!
//! Rules, checked all at once so a caller sees every problem in one reply:
//! - `length` is within [`MIN_LENGTH`]..=[`MAX_LENGTH`];
//! - lower- and upper-case letters are on unless turned off; digits and
//!   specials are off unless turned on; a class minimum above 0 turns its
//!   class on, and contradicts an explicit "off";
//! - at least one class is on, and no class that is on is emptied by
//!   `exclude_ambiguous` / `exclude_chars`;
//! - `special_chars` (replacing the 32 defaults) holds only ASCII punctuation;
//! - every class that is on appears at least `max(1, min)` times, and those
//!   minimums add up to no more than `length`.

use std::ops::RangeInclusive;

use super::charset::{AMBIGUOUS, CharClass};
use super::entropy::password_entropy_bits;

/// Shortest password accepted.
pub const MIN_LENGTH: usize = 4;
/// Longest password accepted. Bounds the work and memory of one request and
/// of every history entry (the original app accepted 10 million).
pub const MAX_LENGTH: usize = 1024;
/// Length used when a caller does not choose one.
pub const DEFAULT_LENGTH: usize = 16;
/// The allowed lengths.
pub const LENGTH_RANGE: RangeInclusive<usize> = MIN_LENGTH..=MAX_LENGTH;
/// Longest `exclude_chars` / `special_chars` accepted, in bytes.
pub const MAX_CHARSET_BYTES: usize = 256;

/// Options as a caller states them, before validation.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PasswordOptions {
    /// Number of characters.
    pub length: u64,
    /// Lower-case letters; `None` means on.
    pub include_lowercase: Option<bool>,
    /// Upper-case letters; `None` means on.
    pub include_uppercase: Option<bool>,
    /// Digits.
    pub include_numbers: bool,
    /// Special characters.
    pub include_special_chars: bool,
    /// Least number of lower-case letters (0: at least one when on).
    pub min_lowercase: u64,
    /// Least number of upper-case letters.
    pub min_uppercase: u64,
    /// Least number of digits.
    pub min_digits: u64,
    /// Least number of special characters.
    pub min_specials: u64,
    /// Leave out [`AMBIGUOUS`] look-alikes.
    pub exclude_ambiguous: bool,
    /// Characters never to use.
    pub exclude_chars: String,
    /// Replaces the default special characters when not empty.
    pub special_chars: String,
}

impl PasswordOptions {
    /// Options of the given length with the defaults otherwise (letters).
    pub fn with_length(length: u64) -> Self {
        PasswordOptions {
            length,
            ..PasswordOptions::default()
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

impl PolicyViolation {
    pub(crate) fn new(field: &'static str, description: impl Into<String>) -> Self {
        PolicyViolation {
            field,
            description: description.into(),
        }
    }
}

/// A class the policy draws from, with how many of it must appear.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ClassRule {
    pub class: CharClass,
    pub chars: Vec<u8>,
    pub min: usize,
}

/// A validated set of rules: generating from it cannot fail.
#[derive(Debug, Clone, PartialEq)]
pub struct PasswordPolicy {
    length: usize,
    rules: Vec<ClassRule>,
    alphabet: Vec<u8>,
    entropy_bits: f64,
}

/// How one class was asked for.
struct ClassRequest {
    class: CharClass,
    on: bool,
    min: u64,
    toggle_field: &'static str,
    min_field: &'static str,
    explicitly_off: bool,
}

impl PasswordPolicy {
    /// Validates `options`, reporting every violation at once.
    pub fn new(options: PasswordOptions) -> Result<Self, Vec<PolicyViolation>> {
        let PasswordOptions {
            length,
            include_lowercase,
            include_uppercase,
            include_numbers,
            include_special_chars,
            min_lowercase,
            min_uppercase,
            min_digits,
            min_specials,
            exclude_ambiguous,
            exclude_chars,
            special_chars,
        } = options;
        let mut violations = Vec::new();

        let length_ok = usize::try_from(length).is_ok_and(|l| LENGTH_RANGE.contains(&l));
        if !length_ok {
            violations.push(PolicyViolation::new(
                "length",
                format!("length must be between {MIN_LENGTH} and {MAX_LENGTH}, got {length}"),
            ));
        }
        let excluded = charset_field(
            "exclude_chars",
            &exclude_chars,
            u8::is_ascii_graphic,
            "printable ASCII characters",
            &mut violations,
        )
        .unwrap_or_default();
        // `None` when invalid: the violation is recorded, the class skipped.
        let specials = if special_chars.is_empty() {
            Some(CharClass::Special.chars().to_vec())
        } else {
            charset_field(
                "special_chars",
                &special_chars,
                u8::is_ascii_punctuation,
                "ASCII punctuation (!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~)",
                &mut violations,
            )
        };

        let requests = [
            ClassRequest {
                class: CharClass::Lowercase,
                on: include_lowercase.unwrap_or(true) || min_lowercase > 0,
                min: min_lowercase,
                toggle_field: "include_lowercase",
                min_field: "min_lowercase",
                explicitly_off: include_lowercase == Some(false),
            },
            ClassRequest {
                class: CharClass::Uppercase,
                on: include_uppercase.unwrap_or(true) || min_uppercase > 0,
                min: min_uppercase,
                toggle_field: "include_uppercase",
                min_field: "min_uppercase",
                explicitly_off: include_uppercase == Some(false),
            },
            ClassRequest {
                class: CharClass::Digit,
                on: include_numbers || min_digits > 0,
                min: min_digits,
                toggle_field: "include_numbers",
                min_field: "min_digits",
                explicitly_off: false,
            },
            ClassRequest {
                class: CharClass::Special,
                on: include_special_chars || min_specials > 0 || !special_chars.is_empty(),
                min: min_specials,
                toggle_field: "include_special_chars",
                min_field: "min_specials",
                explicitly_off: false,
            },
        ];

        let mut rules = Vec::new();
        for request in &requests {
            if request.explicitly_off && request.min > 0 {
                violations.push(PolicyViolation::new(
                    request.min_field,
                    format!(
                        "{} is {} but {} is false: turn the class on or set the minimum to 0",
                        request.min_field, request.min, request.toggle_field
                    ),
                ));
                continue;
            }
            if !request.on {
                continue;
            }
            let base = match (request.class, &specials) {
                (CharClass::Special, Some(specials)) => specials.as_slice(),
                (CharClass::Special, None) => continue,
                (class, _) => class.chars(),
            };
            let chars: Vec<u8> = base
                .iter()
                .copied()
                .filter(|c| !excluded.contains(c))
                .filter(|c| !(exclude_ambiguous && AMBIGUOUS.contains(c)))
                .collect();
            if chars.is_empty() {
                violations.push(PolicyViolation::new(
                    "exclude_chars",
                    format!(
                        "the exclusions leave no {} to use, but they are on",
                        request.class.name()
                    ),
                ));
                continue;
            }
            rules.push(ClassRule {
                class: request.class,
                chars,
                min: usize::try_from(request.min.max(1)).unwrap_or(usize::MAX),
            });
        }
        if requests.iter().all(|r| !r.on) {
            violations.push(PolicyViolation::new(
                "include_lowercase",
                "every character class is off: turn on at least one of include_lowercase, include_uppercase, include_numbers, include_special_chars",
            ));
        }
        let minimums: u64 = requests
            .iter()
            .filter(|r| r.on)
            .map(|r| r.min.max(1))
            .fold(0, u64::saturating_add);
        if length_ok && minimums > length {
            violations.push(PolicyViolation::new(
                "length",
                format!(
                    "the classes in use need at least {minimums} characters (each class on appears max(1, min_*) times), more than length {length}"
                ),
            ));
        }

        if !violations.is_empty() {
            return Err(violations);
        }
        let alphabet = rules.iter().flat_map(|r| r.chars.iter().copied()).collect();
        let length = length as usize;
        let classes: Vec<(usize, usize)> = rules.iter().map(|r| (r.chars.len(), r.min)).collect();
        Ok(PasswordPolicy {
            length,
            entropy_bits: password_entropy_bits(length, &classes),
            rules,
            alphabet,
        })
    }

    /// Number of characters to generate.
    pub fn length(&self) -> usize {
        self.length
    }

    /// Strength of every password this policy produces (see `entropy`).
    pub fn entropy_bits(&self) -> f64 {
        self.entropy_bits
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

/// Validates a caller-given set of characters: bounded, and each allowed.
/// Returns the distinct characters, or `None` (and a violation) if invalid.
fn charset_field(
    field: &'static str,
    value: &str,
    allowed: fn(&u8) -> bool,
    allowed_name: &str,
    violations: &mut Vec<PolicyViolation>,
) -> Option<Vec<u8>> {
    if value.len() > MAX_CHARSET_BYTES {
        violations.push(PolicyViolation::new(
            field,
            format!(
                "{field} must be at most {MAX_CHARSET_BYTES} bytes, got {}",
                value.len()
            ),
        ));
        return None;
    }
    if let Some(bad) = value
        .chars()
        .find(|&c| !c.is_ascii() || !allowed(&(c as u8)))
    {
        violations.push(PolicyViolation::new(
            field,
            format!("{field} may only hold {allowed_name}, got {bad:?}"),
        ));
        return None;
    }
    let mut chars: Vec<u8> = value.bytes().collect();
    chars.sort_unstable();
    chars.dedup();
    Some(chars)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(options: PasswordOptions) -> Vec<&'static str> {
        PasswordPolicy::new(options)
            .unwrap_err()
            .into_iter()
            .map(|v| v.field)
            .collect()
    }

    #[test]
    fn accepts_the_bounds() {
        for length in [MIN_LENGTH, DEFAULT_LENGTH, MAX_LENGTH] {
            let policy = PasswordPolicy::new(PasswordOptions::with_length(length as u64)).unwrap();
            assert_eq!(policy.length(), length);
        }
    }

    #[test]
    fn rejects_out_of_range_lengths_naming_the_field_and_range() {
        for length in [0, 3, 1025, 10_000_000, u64::MAX] {
            let violations = PasswordPolicy::new(PasswordOptions::with_length(length)).unwrap_err();
            assert_eq!(violations.len(), 1);
            assert_eq!(violations[0].field, "length");
            assert_eq!(
                violations[0].to_string(),
                format!("length must be between 4 and 1024, got {length}")
            );
        }
    }

    #[test]
    fn letters_by_default_digits_and_specials_on_request() {
        let letters = PasswordPolicy::new(PasswordOptions::with_length(16)).unwrap();
        assert_eq!(letters.alphabet().len(), 52);
        let all = PasswordPolicy::new(PasswordOptions {
            include_numbers: true,
            include_special_chars: true,
            ..PasswordOptions::with_length(16)
        })
        .unwrap();
        assert_eq!(all.alphabet().len(), 94);
        let classes: Vec<_> = all.required_classes().collect();
        assert_eq!(classes, CharClass::ALL.map(|c| (c, 1)).to_vec());
    }

    #[test]
    fn a_case_can_be_turned_off_but_not_every_class() {
        let upper_only = PasswordPolicy::new(PasswordOptions {
            include_lowercase: Some(false),
            ..PasswordOptions::with_length(8)
        })
        .unwrap();
        assert_eq!(upper_only.alphabet(), CharClass::Uppercase.chars());
        let none = fields(PasswordOptions {
            include_lowercase: Some(false),
            include_uppercase: Some(false),
            ..PasswordOptions::with_length(8)
        });
        assert_eq!(none, ["include_lowercase"]);
        let digits_only = PasswordPolicy::new(PasswordOptions {
            include_lowercase: Some(false),
            include_uppercase: Some(false),
            include_numbers: true,
            ..PasswordOptions::with_length(6)
        })
        .unwrap();
        assert_eq!(digits_only.alphabet(), CharClass::Digit.chars());
    }

    #[test]
    fn minimums_turn_classes_on_and_must_fit_the_length() {
        let policy = PasswordPolicy::new(PasswordOptions {
            min_digits: 3,
            min_specials: 2,
            ..PasswordOptions::with_length(8)
        })
        .unwrap();
        let classes: Vec<_> = policy.required_classes().collect();
        assert_eq!(
            classes,
            [
                (CharClass::Lowercase, 1),
                (CharClass::Uppercase, 1),
                (CharClass::Digit, 3),
                (CharClass::Special, 2)
            ]
        );
        let violations = PasswordPolicy::new(PasswordOptions {
            min_digits: 5,
            min_specials: 2,
            ..PasswordOptions::with_length(8)
        })
        .unwrap_err();
        assert_eq!(violations.len(), 1);
        assert_eq!(violations[0].field, "length");
        assert!(
            violations[0].description.contains("at least 9 characters"),
            "{}",
            violations[0]
        );
        // Huge minimums do not overflow.
        assert_eq!(
            fields(PasswordOptions {
                min_digits: u64::MAX,
                min_specials: u64::MAX,
                ..PasswordOptions::with_length(8)
            }),
            ["length"]
        );
    }

    #[test]
    fn a_minimum_contradicting_an_explicit_off_is_rejected() {
        assert_eq!(
            fields(PasswordOptions {
                include_uppercase: Some(false),
                min_uppercase: 2,
                ..PasswordOptions::with_length(8)
            }),
            ["min_uppercase"]
        );
    }

    #[test]
    fn exclusions_apply_to_every_class() {
        let policy = PasswordPolicy::new(PasswordOptions {
            include_numbers: true,
            include_special_chars: true,
            exclude_ambiguous: true,
            exclude_chars: "abc{}".into(),
            ..PasswordOptions::with_length(16)
        })
        .unwrap();
        for c in b"abc{}".iter().chain(AMBIGUOUS) {
            assert!(!policy.alphabet().contains(c), "{:?} excluded", *c as char);
        }
        assert!(policy.alphabet().contains(&b'x'));
    }

    #[test]
    fn exclusions_may_not_empty_a_class_in_use() {
        let violations = PasswordPolicy::new(PasswordOptions {
            include_numbers: true,
            exclude_chars: "0123456789".into(),
            ..PasswordOptions::with_length(16)
        })
        .unwrap_err();
        assert_eq!(violations[0].field, "exclude_chars");
        assert!(violations[0].description.contains("no digits"));
    }

    #[test]
    fn custom_specials_replace_the_defaults_and_are_validated() {
        let policy = PasswordPolicy::new(PasswordOptions {
            special_chars: "!!@#".into(),
            ..PasswordOptions::with_length(12)
        })
        .unwrap();
        let specials: Vec<u8> = policy
            .rules()
            .iter()
            .find(|r| r.class == CharClass::Special)
            .map(|r| r.chars.clone())
            .expect("custom specials turn the class on");
        assert_eq!(specials, b"!#@");
        for bad in ["ab", "! ", "é", &"!".repeat(300)] {
            assert_eq!(
                fields(PasswordOptions {
                    special_chars: bad.into(),
                    ..PasswordOptions::with_length(12)
                }),
                ["special_chars"],
                "{bad:?}"
            );
        }
        assert_eq!(
            fields(PasswordOptions {
                exclude_chars: "\u{7f}".into(),
                ..PasswordOptions::with_length(12)
            }),
            ["exclude_chars"]
        );
    }

    #[test]
    fn reports_every_violation_at_once() {
        let violations = fields(PasswordOptions {
            length: 2,
            special_chars: "a".into(),
            exclude_chars: "é".into(),
            ..PasswordOptions::default()
        });
        assert_eq!(violations, ["length", "exclude_chars", "special_chars"]);
    }
}
