//! Strength of a generated secret, in bits.
//!
//! The entropy reported is `log2` of the number of outputs a policy can
//! produce. For a password of length `L` over an alphabet of `N` characters
//! split into disjoint classes, of which a set `R` must each appear at least
//! once, inclusion–exclusion counts the valid strings exactly:
//!
//! ```text
//! count = Σ_{S ⊆ R} (-1)^|S| · (N - |S chars|)^L
//! bits  = L·log2(N) + log2( Σ_{S ⊆ R} (-1)^|S| · (1 - |S chars|/N)^L )
//! ```
//!
//! The second form never overflows. With no required class it is `L·log2 N`.

/// Bits of entropy of a password of `length` characters drawn from classes
/// of the given sizes, each `(size, required)` where `required` means the
/// class must appear at least once. Classes must be disjoint and non-empty.
pub fn entropy_bits(length: usize, classes: &[(usize, bool)]) -> f64 {
    let total: usize = classes.iter().map(|&(size, _)| size).sum();
    if total == 0 || length == 0 {
        return 0.0;
    }
    let required: Vec<usize> = classes
        .iter()
        .filter(|&&(_, required)| required)
        .map(|&(size, _)| size)
        .collect();
    let n = total as f64;
    let l = i32::try_from(length).unwrap_or(i32::MAX);
    let mut valid_fraction = 0.0;
    for subset in 0u32..(1 << required.len()) {
        let excluded: usize = required
            .iter()
            .enumerate()
            .filter(|(i, _)| subset & (1 << i) != 0)
            .map(|(_, &size)| size)
            .sum();
        let sign = if subset.count_ones() % 2 == 0 {
            1.0
        } else {
            -1.0
        };
        valid_fraction += sign * (1.0 - excluded as f64 / n).powi(l);
    }
    length as f64 * n.log2() + valid_fraction.log2()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Counts valid strings by brute force, for small cases.
    fn brute_force(length: u32, classes: &[(usize, bool)]) -> f64 {
        let n: usize = classes.iter().map(|c| c.0).sum();
        let mut valid = 0u64;
        for code in 0..(n as u64).pow(length) {
            let mut seen = vec![false; classes.len()];
            let mut rest = code;
            for _ in 0..length {
                let mut index = (rest % n as u64) as usize;
                rest /= n as u64;
                for (class, &(size, _)) in classes.iter().enumerate() {
                    if index < size {
                        seen[class] = true;
                        break;
                    }
                    index -= size;
                }
            }
            if classes.iter().zip(&seen).all(|(c, &s)| !c.1 || s) {
                valid += 1;
            }
        }
        (valid as f64).log2()
    }

    #[test]
    fn uniform_alphabet_is_length_times_log2_n() {
        let bits = entropy_bits(16, &[(26, false), (26, false)]);
        assert!((bits - 16.0 * 52f64.log2()).abs() < 1e-9);
    }

    #[test]
    fn matches_brute_force_counts() {
        let cases: &[(u32, &[(usize, bool)])] = &[
            (4, &[(3, true), (2, true), (1, true)]),
            (5, &[(3, true), (2, false), (2, true)]),
            (4, &[(2, true), (2, true), (1, true), (3, true)]),
            (6, &[(4, true), (1, true)]),
        ];
        for &(length, classes) in cases {
            let exact = brute_force(length, classes);
            let computed = entropy_bits(length as usize, classes);
            assert!(
                (exact - computed).abs() < 1e-9,
                "{classes:?} len {length}: {exact} vs {computed}"
            );
        }
    }

    #[test]
    fn requiring_classes_costs_a_little_entropy() {
        let free = entropy_bits(16, &[(26, false), (26, false), (10, false), (32, false)]);
        let required = entropy_bits(16, &[(26, true), (26, true), (10, true), (32, true)]);
        assert!(required < free);
        assert!(free - required < 1.0, "{free} vs {required}");
        // 4 chars, one of each of 4 classes: 4! * 26 * 26 * 10 * 32 outputs.
        let four = entropy_bits(4, &[(26, true), (26, true), (10, true), (32, true)]);
        let expected = (24.0f64 * 26.0 * 26.0 * 10.0 * 32.0).log2();
        assert!((four - expected).abs() < 1e-9, "{four} vs {expected}");
    }
}
