//! Password generation: exactly uniform over the strings the policy
//! allows (every class in use at least its minimum times, characters only
//! from the classes in use), so each of the policy's `N` passwords has
//! probability `1/N` and `entropy_bits` is `log2 N`. How: `uniform`.
//!
//! Not the Bitwarden/KeePassXC way (one forced pick per class, the rest
//! from the whole alphabet, a shuffle): that favours passwords holding few
//! characters of the small classes, so it is not uniform over the valid
//! strings, and its entropy is only bounded below.

use rand::CryptoRng;

use super::policy::PasswordPolicy;
use super::secret::Secret;

/// A password and its strength.
#[derive(Debug, Clone, PartialEq)]
pub struct GeneratedPassword {
    /// The password (redacted in `Debug`).
    pub password: Secret,
    /// `log2` of the number of passwords the policy can produce (each is
    /// equally likely).
    pub entropy_bits: f64,
}

/// Generates one password satisfying `policy`, uniformly among all the
/// passwords that do.
///
/// `rng` must be a CSPRNG (`rand::rng()` in the service, a seeded
/// `StdRng` in tests). All sampling is exact: unbiased integer draws and
/// uniform big integers by rejection.
pub fn generate_password<R: CryptoRng + ?Sized>(
    policy: &PasswordPolicy,
    rng: &mut R,
) -> GeneratedPassword {
    let chars = policy.sampler().sample(rng);
    debug_assert_eq!(chars.len(), policy.length());
    let password = String::from_utf8(chars).expect("alphabets are ASCII");
    GeneratedPassword {
        password: Secret::new(password),
        entropy_bits: policy.entropy_bits(),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::*;
    use crate::generator::{CharClass, DIGITS, PasswordOptions, SPECIALS, password_entropy_bits};

    fn policy(length: u64, include_numbers: bool, include_special_chars: bool) -> PasswordPolicy {
        PasswordPolicy::new(PasswordOptions {
            include_numbers,
            include_special_chars,
            ..PasswordOptions::with_length(length)
        })
        .unwrap()
    }

    fn classes_in(password: &str) -> Vec<CharClass> {
        let mut classes: Vec<CharClass> = password
            .bytes()
            .map(|c| CharClass::of(c).expect("printable ASCII"))
            .collect();
        classes.sort_by_key(|c| *c as u8);
        classes.dedup();
        classes
    }

    #[test]
    fn has_the_requested_length() {
        let mut rng = StdRng::seed_from_u64(1);
        for length in [4, 5, 16, 100, 1024] {
            for (numbers, specials) in [(false, false), (true, false), (false, true), (true, true)]
            {
                let generated = generate_password(&policy(length, numbers, specials), &mut rng);
                assert_eq!(generated.password.len(), length as usize);
            }
        }
    }

    #[test]
    fn every_requested_class_appears_even_in_the_shortest_passwords() {
        let mut rng = StdRng::seed_from_u64(2);
        for (numbers, specials) in [(false, false), (true, false), (false, true), (true, true)] {
            let policy = policy(4, numbers, specials);
            let mut expected = vec![CharClass::Lowercase, CharClass::Uppercase];
            if numbers {
                expected.push(CharClass::Digit);
            }
            if specials {
                expected.push(CharClass::Special);
            }
            for _ in 0..2_000 {
                let password = generate_password(&policy, &mut rng).password;
                assert_eq!(classes_in(password.expose()), expected);
            }
        }
    }

    /// The original app: with numbers on, 28% of 8-char passwords had no digit.
    #[test]
    fn eight_char_passwords_with_numbers_always_have_a_digit() {
        let mut rng = StdRng::seed_from_u64(3);
        let policy = policy(8, true, false);
        for _ in 0..10_000 {
            let password = generate_password(&policy, &mut rng).password;
            assert!(password.expose().bytes().any(|c| c.is_ascii_digit()));
        }
    }

    #[test]
    fn no_class_leaks_when_off() {
        let mut rng = StdRng::seed_from_u64(4);
        let letters_only = policy(64, false, false);
        let with_numbers = policy(64, true, false);
        let with_specials = policy(64, false, true);
        for _ in 0..1_000 {
            let p = generate_password(&letters_only, &mut rng).password;
            assert!(p.expose().bytes().all(|c| c.is_ascii_alphabetic()));
            let p = generate_password(&with_numbers, &mut rng).password;
            assert!(!p.expose().bytes().any(|c| SPECIALS.contains(&c)));
            let p = generate_password(&with_specials, &mut rng).password;
            assert!(!p.expose().bytes().any(|c| DIGITS.contains(&c)));
        }
    }

    /// Chi-square goodness of fit over 100k characters: each of the 94
    /// characters must be drawn about equally often. 93 degrees of freedom:
    /// the 0.9999 quantile is ~150; 200 is a generous, fixed bound.
    #[test]
    fn every_alphabet_character_is_drawn_uniformly() {
        let mut rng = StdRng::seed_from_u64(5);
        let policy = policy(1000, true, true);
        let mut counts: HashMap<u8, u64> = HashMap::new();
        for _ in 0..100 {
            for c in generate_password(&policy, &mut rng)
                .password
                .expose()
                .bytes()
            {
                *counts.entry(c).or_default() += 1;
            }
        }
        assert_eq!(counts.len(), 94, "every character appears");
        let total: u64 = counts.values().sum();
        // Uniform over the valid strings: at this length a class is missing
        // from fewer than 1e-40 of all strings, so each character's expected
        // count is 1000/94 per password to far better than the test sees.
        let expected = 1000.0 / 94.0 * 100.0;
        let chi_square: f64 = counts
            .values()
            .map(|&observed| (observed as f64 - expected).powi(2) / expected)
            .sum();
        assert_eq!(total, 100_000);
        assert!(chi_square < 200.0, "chi-square {chi_square}");
    }

    /// Each position holds each class about as often as any other position:
    /// no class is pinned to the front by the "one of each first" step.
    #[test]
    fn no_position_bias() {
        let mut rng = StdRng::seed_from_u64(6);
        let policy = policy(8, true, true);
        let trials = 40_000;
        let mut digit_at = [0u32; 8];
        for _ in 0..trials {
            let password = generate_password(&policy, &mut rng).password;
            for (i, c) in password.expose().bytes().enumerate() {
                if c.is_ascii_digit() {
                    digit_at[i] += 1;
                }
            }
        }
        let mean = digit_at.iter().sum::<u32>() as f64 / 8.0;
        for (i, &count) in digit_at.iter().enumerate() {
            let deviation = (count as f64 - mean).abs() / mean;
            assert!(deviation < 0.05, "position {i}: {count} vs mean {mean}");
        }
    }

    #[test]
    fn class_minimums_are_met_and_exclusions_respected() {
        let mut rng = StdRng::seed_from_u64(8);
        let policy = PasswordPolicy::new(PasswordOptions {
            min_digits: 4,
            min_specials: 3,
            min_uppercase: 2,
            exclude_ambiguous: true,
            exclude_chars: "xyz".into(),
            special_chars: "!@#$%".into(),
            ..PasswordOptions::with_length(10)
        })
        .unwrap();
        for _ in 0..2_000 {
            let password = generate_password(&policy, &mut rng).password;
            let p = password.expose();
            assert_eq!(p.len(), 10);
            assert!(p.bytes().filter(u8::is_ascii_digit).count() >= 4);
            assert!(p.bytes().filter(|c| b"!@#$%".contains(c)).count() >= 3);
            assert!(p.bytes().filter(u8::is_ascii_uppercase).count() >= 2);
            assert!(p.bytes().any(|c| c.is_ascii_lowercase()));
            assert!(p.bytes().all(|c| !crate::generator::AMBIGUOUS.contains(&c)));
            assert!(p.bytes().all(|c| !b"xyz".contains(&c)));
            assert!(
                p.bytes()
                    .all(|c| c.is_ascii_alphanumeric() || b"!@#$%".contains(&c))
            );
        }
    }

    /// With minimums, the forced characters must not cluster at the front:
    /// each class is about equally frequent at every position.
    #[test]
    fn no_position_bias_with_minimums() {
        let mut rng = StdRng::seed_from_u64(9);
        let policy = PasswordPolicy::new(PasswordOptions {
            min_digits: 3,
            min_specials: 2,
            ..PasswordOptions::with_length(8)
        })
        .unwrap();
        let trials = 40_000;
        let mut counts = [[0u32; 8]; 4];
        for _ in 0..trials {
            let password = generate_password(&policy, &mut rng).password;
            for (i, c) in password.expose().bytes().enumerate() {
                let class = CharClass::of(c).unwrap();
                let index = CharClass::ALL.iter().position(|&k| k == class).unwrap();
                counts[index][i] += 1;
            }
        }
        for (class, positions) in CharClass::ALL.iter().zip(counts) {
            let mean = positions.iter().sum::<u32>() as f64 / 8.0;
            for (i, &count) in positions.iter().enumerate() {
                let deviation = (count as f64 - mean).abs() / mean;
                assert!(deviation < 0.06, "{class:?} at {i}: {count} vs mean {mean}");
            }
        }
    }

    #[test]
    fn reports_entropy_of_the_policy() {
        let mut rng = StdRng::seed_from_u64(7);
        let generated = generate_password(&policy(16, false, false), &mut rng);
        assert_eq!(
            generated.entropy_bits,
            password_entropy_bits(16, &[(26, 1), (26, 1)])
        );
        // 16 letters, both cases: 52^16 strings, less the 2·26^16 of one case.
        let exact = 16.0 * 52f64.log2() + (1.0 - 2.0 * 0.5f64.powi(16)).log2();
        assert!(
            (generated.entropy_bits - exact).abs() < 1e-12,
            "{} vs {exact}",
            generated.entropy_bits
        );
    }

    #[test]
    fn different_calls_give_different_passwords() {
        let mut rng = rand::rng();
        let policy = policy(16, true, true);
        let a = generate_password(&policy, &mut rng).password;
        let b = generate_password(&policy, &mut rng).password;
        assert_ne!(a, b);
    }
}
