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
use super::uniform::Sampler;
use super::violation::FieldViolation;

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

/// A class the policy draws from, with how many of it must appear.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ClassRule {
    pub class: CharClass,
    pub chars: Vec<u8>,
    pub min: usize,
}

/// A validated set of rules: generating from it cannot fail. Holds what
/// exact-uniform generation needs, computed once here (see `uniform`).
#[derive(Debug, Clone, PartialEq)]
pub struct PasswordPolicy {
    length: usize,
    rules: Vec<ClassRule>,
    alphabet: Vec<u8>,
    sampler: Sampler,
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
    pub fn new(options: PasswordOptions) -> Result<Self, Vec<FieldViolation>> {
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
        let length_ok = check_length(length, &mut violations);
        let excluded = charset_field(
            "exclude_chars",
            &exclude_chars,
            u8::is_ascii_graphic,
            "printable ASCII characters",
            &mut violations,
        )
        .unwrap_or_default();
        let specials = specials(&special_chars, &mut violations);
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
        let exclusions = Exclusions {
            chars: &excluded,
            ambiguous: exclude_ambiguous,
        };
        let rules: Vec<ClassRule> = requests
            .iter()
            .filter_map(|request| {
                class_rule(request, specials.as_deref(), &exclusions, &mut violations)
            })
            .collect();
        check_classes_fit(&requests, length, length_ok, &mut violations);
        if !violations.is_empty() {
            return Err(violations);
        }
        Ok(PasswordPolicy::from_rules(length as usize, rules))
    }

    /// The policy of validated `rules`.
    fn from_rules(length: usize, rules: Vec<ClassRule>) -> Self {
        let alphabet = rules.iter().flat_map(|r| r.chars.iter().copied()).collect();
        let classes: Vec<(&[u8], usize)> = rules.iter().map(|r| (&r.chars[..], r.min)).collect();
        let sampler = Sampler::new(length, &classes);
        PasswordPolicy {
            length,
            entropy_bits: sampler.entropy_bits(),
            sampler,
            rules,
            alphabet,
        }
    }

    /// Number of characters to generate.
    pub fn length(&self) -> usize {
        self.length
    }

    /// Strength of every password this policy produces: `log2` of the
    /// number of passwords it allows, each equally likely (see `entropy`).
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

    #[cfg(test)]
    pub(crate) fn rules(&self) -> &[ClassRule] {
        &self.rules
    }

    pub(crate) fn sampler(&self) -> &Sampler {
        &self.sampler
    }
}

/// `length` within [`LENGTH_RANGE`]; says whether it is.
fn check_length(length: u64, violations: &mut Vec<FieldViolation>) -> bool {
    let ok = usize::try_from(length).is_ok_and(|l| LENGTH_RANGE.contains(&l));
    if !ok {
        violations.push(FieldViolation::out_of_range(
            "length", MIN_LENGTH, MAX_LENGTH, length,
        ));
    }
    ok
}

/// The special characters to draw from: the 32 defaults, or the caller's
/// `special_chars`; `None` (and a violation) when those are invalid.
fn specials(special_chars: &str, violations: &mut Vec<FieldViolation>) -> Option<Vec<u8>> {
    if special_chars.is_empty() {
        return Some(CharClass::Special.chars().to_vec());
    }
    charset_field(
        "special_chars",
        special_chars,
        u8::is_ascii_punctuation,
        "ASCII punctuation (!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~)",
        violations,
    )
}

/// What is left out of every class.
struct Exclusions<'a> {
    chars: &'a [u8],
    ambiguous: bool,
}

/// The rule for one requested class: `None` when the class is off, or
/// broken (and a violation recorded).
fn class_rule(
    request: &ClassRequest,
    specials: Option<&[u8]>,
    exclusions: &Exclusions<'_>,
    violations: &mut Vec<FieldViolation>,
) -> Option<ClassRule> {
    if request.explicitly_off && request.min > 0 {
        violations.push(FieldViolation::new(
            request.min_field,
            format!(
                "{} is {} but {} is false: turn the class on or set the minimum to 0",
                request.min_field, request.min, request.toggle_field
            ),
        ));
        return None;
    }
    if !request.on {
        return None;
    }
    let base = match request.class {
        // Invalid special_chars: already reported.
        CharClass::Special => specials?,
        class => class.chars(),
    };
    let chars: Vec<u8> = base
        .iter()
        .copied()
        .filter(|c| !exclusions.chars.contains(c))
        .filter(|c| !(exclusions.ambiguous && AMBIGUOUS.contains(c)))
        .collect();
    if chars.is_empty() {
        violations.push(FieldViolation::new(
            "exclude_chars",
            format!(
                "the exclusions leave no {} to use, but they are on",
                request.class.name()
            ),
        ));
        return None;
    }
    Some(ClassRule {
        class: request.class,
        chars,
        min: usize::try_from(request.min.max(1)).unwrap_or(usize::MAX),
    })
}

/// At least one class is on, and the classes' minimums fit in `length`.
fn check_classes_fit(
    requests: &[ClassRequest],
    length: u64,
    length_ok: bool,
    violations: &mut Vec<FieldViolation>,
) {
    if requests.iter().all(|r| !r.on) {
        violations.push(FieldViolation::new(
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
        violations.push(FieldViolation::new(
            "length",
            format!(
                "the classes in use need at least {minimums} characters (each class on appears max(1, min_*) times), more than length {length}"
            ),
        ));
    }
}

/// Validates a caller-given set of characters: bounded, and each allowed.
/// Returns the distinct characters, or `None` (and a violation) if invalid.
fn charset_field(
    field: &'static str,
    value: &str,
    allowed: fn(&u8) -> bool,
    allowed_name: &str,
    violations: &mut Vec<FieldViolation>,
) -> Option<Vec<u8>> {
    if value.len() > MAX_CHARSET_BYTES {
        violations.push(FieldViolation::new(
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
        violations.push(FieldViolation::new(
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
mod tests;
