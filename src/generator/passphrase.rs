//! Passphrases: words drawn uniformly from the EFF large wordlist.

use std::sync::LazyLock;

use rand::seq::IndexedRandom;
use rand::{CryptoRng, RngExt};

use super::entropy::passphrase_entropy_bits;
use super::secret::Secret;
use super::violation::FieldViolation;

/// The EFF large wordlist (CC BY 3.0 US, see `wordlists/NOTICE.md`): one
/// `dice-index<TAB>word` per line.
const EFF_LARGE_WORDLIST: &str = include_str!("wordlists/eff_large_wordlist.txt");

/// Words of the EFF large wordlist, in file order.
pub static WORDLIST: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
    EFF_LARGE_WORDLIST
        .lines()
        .filter_map(|line| line.split('\t').nth(1))
        .collect()
});

/// Fewest words accepted.
pub const MIN_WORDS: usize = 3;
/// Most words accepted.
pub const MAX_WORDS: usize = 20;
/// Words used when the caller does not choose.
pub const DEFAULT_WORDS: usize = 6;
/// Separator used when the caller does not choose.
pub const DEFAULT_SEPARATOR: &str = "-";
/// Longest separator accepted, in bytes.
pub const MAX_SEPARATOR_BYTES: usize = 8;

/// Options as a caller states them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PassphraseOptions {
    /// Number of words.
    pub word_count: u64,
    /// Between words.
    pub separator: String,
    /// Capitalize every word's first letter.
    pub capitalize: bool,
    /// Append a digit to one word.
    pub include_number: bool,
}

impl Default for PassphraseOptions {
    fn default() -> Self {
        PassphraseOptions {
            word_count: DEFAULT_WORDS as u64,
            separator: DEFAULT_SEPARATOR.to_owned(),
            capitalize: false,
            include_number: false,
        }
    }
}

/// Validated passphrase options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PassphrasePolicy {
    words: usize,
    separator: String,
    capitalize: bool,
    include_number: bool,
}

impl PassphrasePolicy {
    /// Validates `options`, reporting every violation.
    pub fn new(options: PassphraseOptions) -> Result<Self, Vec<FieldViolation>> {
        let PassphraseOptions {
            word_count,
            separator,
            capitalize,
            include_number,
        } = options;
        let mut violations = Vec::new();
        let words = usize::try_from(word_count)
            .ok()
            .filter(|w| (MIN_WORDS..=MAX_WORDS).contains(w));
        if words.is_none() {
            violations.push(FieldViolation::out_of_range(
                "word_count",
                MIN_WORDS,
                MAX_WORDS,
                word_count,
            ));
        }
        if separator.len() > MAX_SEPARATOR_BYTES {
            violations.push(FieldViolation::new(
                "separator",
                format!(
                    "separator must be at most {MAX_SEPARATOR_BYTES} bytes, got {}",
                    separator.len()
                ),
            ));
        } else if let Some(bad) = separator
            .chars()
            .find(|c| !(c.is_ascii_graphic() || *c == ' '))
        {
            violations.push(FieldViolation::new(
                "separator",
                format!("separator may only hold printable ASCII characters, got {bad:?}"),
            ));
        }
        match words {
            Some(words) if violations.is_empty() => Ok(PassphrasePolicy {
                words,
                separator,
                capitalize,
                include_number,
            }),
            _ => Err(violations),
        }
    }

    /// Strength of every passphrase this policy produces.
    pub fn entropy_bits(&self) -> f64 {
        passphrase_entropy_bits(self.words, WORDLIST.len(), self.include_number)
    }
}

/// A passphrase and its strength.
#[derive(Debug, Clone, PartialEq)]
pub struct GeneratedPassphrase {
    /// The passphrase (redacted in `Debug`).
    pub passphrase: Secret,
    /// Bits of entropy (see `entropy`).
    pub entropy_bits: f64,
}

/// Generates one passphrase: each word uniform over the list, and with
/// `include_number` a uniform digit appended to a uniformly chosen word.
pub fn generate_passphrase<R: CryptoRng + ?Sized>(
    policy: &PassphrasePolicy,
    rng: &mut R,
) -> GeneratedPassphrase {
    let mut words: Vec<String> = (0..policy.words)
        .map(|_| {
            let word = *WORDLIST.choose(rng).expect("the wordlist is not empty");
            if policy.capitalize {
                capitalized(word)
            } else {
                word.to_owned()
            }
        })
        .collect();
    if policy.include_number {
        let index = rng.random_range(0..words.len());
        let digit = rng.random_range(0..10u8);
        words[index].push(char::from(b'0' + digit));
    }
    GeneratedPassphrase {
        passphrase: Secret::new(words.join(&policy.separator)),
        entropy_bits: policy.entropy_bits(),
    }
}

fn capitalized(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::*;

    fn policy(options: PassphraseOptions) -> PassphrasePolicy {
        PassphrasePolicy::new(options).unwrap()
    }

    #[test]
    fn the_wordlist_has_7776_unique_lowercase_words() {
        assert_eq!(EFF_LARGE_WORDLIST.lines().count(), 7776);
        assert_eq!(WORDLIST.len(), 7776);
        let unique: HashSet<_> = WORDLIST.iter().collect();
        assert_eq!(unique.len(), 7776);
        assert!(
            WORDLIST
                .iter()
                .all(|w| !w.is_empty() && w.bytes().all(|c| c.is_ascii_lowercase() || c == b'-'))
        );
        assert_eq!(WORDLIST[0], "abacus");
        assert_eq!(WORDLIST[7775], "zoom");
    }

    #[test]
    fn default_is_six_words_joined_by_dashes() {
        let mut rng = StdRng::seed_from_u64(1);
        let generated = generate_passphrase(&policy(PassphraseOptions::default()), &mut rng);
        let phrase = generated.passphrase.expose();
        // Words may hold a dash themselves ("yo-yo"), so count from the list.
        assert!(phrase.split('-').count() >= 6, "{phrase}");
        assert!((generated.entropy_bits - 77.55).abs() < 0.01);
    }

    #[test]
    fn separator_capitalize_and_number() {
        let mut rng = StdRng::seed_from_u64(2);
        let policy = policy(PassphraseOptions {
            word_count: 4,
            separator: " ".into(),
            capitalize: true,
            include_number: true,
        });
        for _ in 0..500 {
            let phrase = generate_passphrase(&policy, &mut rng).passphrase;
            let words: Vec<&str> = phrase.expose().split(' ').collect();
            assert_eq!(words.len(), 4);
            assert!(
                words
                    .iter()
                    .all(|w| w.starts_with(|c: char| c.is_ascii_uppercase()))
            );
            let with_digit = words
                .iter()
                .filter(|w| w.ends_with(|c: char| c.is_ascii_digit()))
                .count();
            assert_eq!(with_digit, 1);
            for word in words {
                let bare = word
                    .trim_end_matches(|c: char| c.is_ascii_digit())
                    .to_ascii_lowercase();
                assert!(WORDLIST.contains(&bare.as_str()), "{bare}");
            }
        }
    }

    #[test]
    fn empty_separator_concatenates() {
        let mut rng = StdRng::seed_from_u64(3);
        let policy = policy(PassphraseOptions {
            word_count: 3,
            separator: String::new(),
            ..PassphraseOptions::default()
        });
        let phrase = generate_passphrase(&policy, &mut rng).passphrase;
        assert!(!phrase.expose().contains(' '));
        assert!(phrase.len() >= 9);
    }

    #[test]
    fn words_are_drawn_uniformly() {
        // 7776 words, 200k draws: chi-square with 7775 degrees of freedom
        // has mean 7775 and sd ~125; 8500 is a generous fixed bound.
        let mut rng = StdRng::seed_from_u64(4);
        let mut counts = vec![0u32; WORDLIST.len()];
        let index: std::collections::HashMap<&str, usize> =
            WORDLIST.iter().enumerate().map(|(i, w)| (*w, i)).collect();
        let draws = 200_000;
        for _ in 0..draws {
            let word = *WORDLIST.choose(&mut rng).unwrap();
            counts[index[word]] += 1;
        }
        let expected = draws as f64 / WORDLIST.len() as f64;
        let chi: f64 = counts
            .iter()
            .map(|&c| (c as f64 - expected).powi(2) / expected)
            .sum();
        assert!(chi < 8500.0, "chi-square {chi}");
    }

    #[test]
    fn validation() {
        for words in [0, 2, 21, u64::MAX] {
            let v = PassphrasePolicy::new(PassphraseOptions {
                word_count: words,
                ..PassphraseOptions::default()
            })
            .unwrap_err();
            assert_eq!(v[0].field, "word_count");
            assert!(v[0].description.contains("between 3 and 20"));
        }
        for separator in ["123456789", "\t", "é"] {
            let v = PassphrasePolicy::new(PassphraseOptions {
                separator: separator.into(),
                ..PassphraseOptions::default()
            })
            .unwrap_err();
            assert_eq!(v[0].field, "separator", "{separator:?}");
        }
    }
}
