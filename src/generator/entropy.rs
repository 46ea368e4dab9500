//! Strength of a generated secret, in bits.
//!
//! A password of length `L` is drawn uniformly from the strings the policy
//! allows: characters from the classes in use (class `k` has `s_k`
//! characters, after exclusions), each class at least `m_k ≥ 1` times.
//! Every one of those `N` strings is equally likely, so its min-entropy and
//! Shannon entropy are both exactly
//!
//! ```text
//! bits = log2 N,   N = Σ_{c ≥ m, Σc = L} L!/(c_1!···c_k!) · Π_k s_k^{c_k}
//! ```
//!
//! `N` is computed exactly in big integers (`uniform::count`) and converted
//! from its top 64 bits, so `bits` is accurate to a few ulps. One class:
//! `L·log2 s`. 16 characters, all four classes of the 94: 104.6 bits (the
//! forced-picks-and-shuffle of other generators, only bounded below, gets
//! 96.4), just under the `L·log2 94 = 104.9` of unconstrained strings.
//!
//! A passphrase of `w` words from a list of `W`, with a digit added to one
//! word, has `w·log2 W + log2(10·w)` bits: every choice is uniform.

use super::uniform::count::{self, Class};

/// Bits of a uniform password of `length` characters from classes given as
/// `(class size, minimum)`: `log2` of the number of such strings. Classes
/// are disjoint; a minimum of 0 counts as 1 (a class in use appears), as
/// in a policy. 0 when no string qualifies.
pub fn password_entropy_bits(length: usize, classes: &[(usize, usize)]) -> f64 {
    let classes: Vec<Class> = classes
        .iter()
        .map(|&(size, min)| Class {
            size: size as u64,
            min: min.max(1),
        })
        .collect();
    let forced: usize = classes.iter().map(|c| c.min).sum();
    if classes.is_empty() || classes.iter().any(|c| c.size == 0) || forced > length {
        return 0.0;
    }
    let n = if classes.len() <= 4 {
        count::count(length, &classes)
    } else {
        count::by_exclusion(length, &classes)
    };
    count::log2(&n)
}

/// Bits of a passphrase of `words` words from a list of `list_size`, with
/// one digit appended to one of the words when `with_digit`.
pub fn passphrase_entropy_bits(words: usize, list_size: usize, with_digit: bool) -> f64 {
    let word_bits = words as f64 * (list_size as f64).log2();
    if with_digit && words > 0 {
        word_bits + (10.0 * words as f64).log2()
    } else {
        word_bits
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn one_class_is_a_uniform_draw() {
        assert!(close(
            password_entropy_bits(16, &[(52, 1)]),
            16.0 * 52f64.log2()
        ));
        assert!(close(
            password_entropy_bits(10, &[(10, 1)]),
            10.0 * 10f64.log2()
        ));
    }

    /// The exact values, from closed forms (inclusion–exclusion by hand).
    #[test]
    fn minimums_give_the_exact_count() {
        let all = [(26, 1), (26, 1), (10, 1), (32, 1)];
        let bits = password_entropy_bits(16, &all);
        // 94^16 less the strings missing a class, plus those missing two…
        let missing = |sizes: &[f64]| (94.0 - sizes.iter().sum::<f64>()) / 94.0;
        let mut fraction = 1.0;
        for (sign, sets) in [
            (-1.0, vec![vec![26.0], vec![26.0], vec![10.0], vec![32.0]]),
            (
                1.0,
                vec![
                    vec![26.0, 26.0],
                    vec![26.0, 10.0],
                    vec![26.0, 32.0],
                    vec![26.0, 10.0],
                    vec![26.0, 32.0],
                    vec![10.0, 32.0],
                ],
            ),
            (
                -1.0,
                vec![
                    vec![26.0, 26.0, 10.0],
                    vec![26.0, 26.0, 32.0],
                    vec![26.0, 10.0, 32.0],
                    vec![26.0, 10.0, 32.0],
                ],
            ),
        ] {
            for set in sets {
                fraction += sign * missing(&set).powi(16);
            }
        }
        let expected = 16.0 * 94f64.log2() + fraction.log2();
        assert!(close(bits, expected), "{bits} vs {expected}");
        assert!((bits - 104.6).abs() < 0.05, "{bits}");
        assert!(bits < 16.0 * 94f64.log2());
        // 4 chars, one of each class: 4! orders of one character of each.
        let four = password_entropy_bits(4, &all);
        assert!(close(four, (24.0f64 * 26.0 * 26.0 * 10.0 * 32.0).log2()));
        // More forced digits, fewer strings.
        let more_digits = password_entropy_bits(16, &[(26, 1), (26, 1), (10, 6), (32, 1)]);
        assert!(more_digits < bits);
    }

    #[test]
    fn equals_the_brute_force_count() {
        // Classes A = {a, b}, B = {c}; strings of length 3 with ≥1 of each.
        let count = (0..3u32.pow(3))
            .filter(|code| {
                let digits = [code % 3, code / 3 % 3, code / 9];
                digits.iter().any(|&d| d < 2) && digits.contains(&2)
            })
            .count();
        assert_eq!(count, 27 - 8 - 1);
        let bits = password_entropy_bits(3, &[(2, 1), (1, 1)]);
        assert!(
            close(bits, (count as f64).log2()),
            "{bits} vs log2({count})"
        );
    }

    #[test]
    fn impossible_policies_have_no_strings() {
        assert_eq!(password_entropy_bits(3, &[(26, 2), (10, 2)]), 0.0);
        assert_eq!(password_entropy_bits(3, &[]), 0.0);
    }

    #[test]
    fn passphrases() {
        let six = passphrase_entropy_bits(6, 7776, false);
        assert!(close(six, 6.0 * 7776f64.log2()));
        assert!((six - 77.55).abs() < 0.01);
        assert!(close(
            passphrase_entropy_bits(6, 7776, true),
            six + 60f64.log2()
        ));
    }
}
