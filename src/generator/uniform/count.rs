//! Exact counts, in big integers, of the strings a policy allows.
//!
//! Classes are disjoint; class `i` has `s_i` characters and must appear at
//! least `m_i ≥ 1` times in a string of length `L`. The number of valid
//! strings is
//!
//! ```text
//! N = Σ_{c ≥ m, Σc = L} L!/(c_1!···c_k!) · Π s_i^{c_i}
//! ```
//!
//! computed two ways, both exact:
//! - [`Split`]: the classes in two groups of at most two (letters; digits
//!   and specials). A group's strings of each length `n` are a window of a
//!   binomial sum, `W(n) = Σ_{c=p}^{n-q} C(n,c) a^c b^{n-c}`, kept by a
//!   recurrence in `n` (two boundary terms, exact small divisions); then
//!   `N = Σ_n C(L,n) W_A(n) W_B(L-n)`. Cost: `O(L - Σm)` big-integer steps.
//! - [`by_exclusion`]: inclusion–exclusion over the classes that fall
//!   short of their minimum; `Π(1 + m_i)` terms, so only for small minimums.

use num_bigint::BigUint;
use num_traits::{One, Zero};

/// A class as the counts see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Class {
    /// Number of characters.
    pub size: u64,
    /// Least number of occurrences (≥ 1).
    pub min: usize,
}

/// `C(n, k)`, exactly.
pub(crate) fn binomial(n: usize, k: usize) -> BigUint {
    if k > n {
        return BigUint::zero();
    }
    let k = k.min(n - k);
    let mut acc = BigUint::one();
    for i in 0..k {
        acc *= (n - i) as u64;
        acc /= (i + 1) as u64; // exact: acc is C(n, i + 1)
    }
    acc
}

/// `base^exp`, exactly.
pub(crate) fn power(base: u64, exp: usize) -> BigUint {
    let exp = u32::try_from(exp).expect("lengths are at most 1024");
    BigUint::from(base).pow(exp)
}

/// `log2(n)` as an `f64` (`n > 0`), from its top 64 bits: relative error
/// of the argument below 2^-52, so the result is within a few ulps.
pub(crate) fn log2(n: &BigUint) -> f64 {
    let bits = n.bits();
    if bits <= 64 {
        let small = n.iter_u64_digits().next().unwrap_or(0);
        return (small as f64).log2();
    }
    let shift = bits - 64;
    let top = (n >> shift).iter_u64_digits().next().unwrap_or(0);
    (top as f64).log2() + shift as f64
}

/// The strings over a group of zero, one or two classes, by length:
/// `counts[n - lo]` strings of length `n` meet the group's minimums, for
/// `n` in `lo..=hi`.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Group {
    pub classes: Vec<Class>,
    pub lo: usize,
    pub hi: usize,
    pub counts: Vec<BigUint>,
}

impl Group {
    /// The group's counts for lengths up to `hi` (the empty group: only 0).
    pub(crate) fn new(classes: &[Class], hi: usize) -> Group {
        let lo: usize = classes.iter().map(|c| c.min).sum();
        let hi = if classes.is_empty() { 0 } else { hi.max(lo) };
        let counts = match *classes {
            [] => vec![BigUint::one()],
            [only] => {
                let mut w = power(only.size, lo);
                let mut counts = Vec::with_capacity(hi - lo + 1);
                for _ in lo..hi {
                    let next = &w * only.size;
                    counts.push(w);
                    w = next;
                }
                counts.push(w);
                counts
            }
            [a, b] => window_sums(a, b, hi),
            _ => unreachable!("groups hold at most two classes"),
        };
        Group {
            classes: classes.to_vec(),
            lo,
            hi,
            counts,
        }
    }

    /// Strings of length `n` (`lo ≤ n ≤ hi`).
    pub(crate) fn at(&self, n: usize) -> &BigUint {
        &self.counts[n - self.lo]
    }
}

/// `W(n) = Σ_{c=p}^{n-q} C(n,c) a^c b^{n-c}` for `n` in `p+q..=hi`, with
/// `a`, `p` (and `b`, `q`) the size and minimum of the first (second)
/// class. Pascal's rule gives
/// `W(n+1) = (a+b)·W(n) + C(n,p-1)·a^p·b^(n+1-p) + C(n,q-1)·a^(n+1-q)·b^q`:
/// the two boundary terms enter the window as it widens.
fn window_sums(first: Class, second: Class, hi: usize) -> Vec<BigUint> {
    let (a, p) = (first.size, first.min);
    let (b, q) = (second.size, second.min);
    let lo = p + q;
    let mut w = binomial(lo, p) * power(a, p) * power(b, q);
    let mut low_edge = binomial(lo, p - 1) * power(a, p) * power(b, q + 1);
    let mut high_edge = binomial(lo, q - 1) * power(a, p + 1) * power(b, q);
    let mut counts = Vec::with_capacity(hi - lo + 1);
    for n in lo..hi {
        let next = &w * (a + b) + &low_edge + &high_edge;
        counts.push(w);
        w = next;
        // C(n+1, k) = C(n, k)·(n+1)/(n+1-k): exact, the quotient is C(n+1, k)·….
        low_edge *= b * (n as u64 + 1);
        low_edge /= (n + 2 - p) as u64;
        high_edge *= a * (n as u64 + 1);
        high_edge /= (n + 2 - q) as u64;
    }
    counts.push(w);
    counts
}

/// The classes in two groups, and the cumulative weights of the first
/// group's share of the length: `cumulative[i]` counts the valid strings
/// whose first group holds at most `first + i` characters.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Split {
    pub length: usize,
    pub a: Group,
    pub b: Group,
    pub first: usize,
    pub cumulative: Vec<BigUint>,
}

impl Split {
    /// The split of `classes` (1 to 4, minimums summing to at most `length`).
    pub(crate) fn new(length: usize, classes: &[Class]) -> Split {
        assert!((1..=4).contains(&classes.len()), "1 to 4 classes");
        let (in_a, in_b) = classes.split_at(classes.len().div_ceil(2));
        let min_a: usize = in_a.iter().map(|c| c.min).sum();
        let min_b: usize = in_b.iter().map(|c| c.min).sum();
        assert!(min_a + min_b <= length, "minimums fit in the length");
        let a = Group::new(in_a, length - min_b);
        let b = Group::new(in_b, length - min_a);
        let first = a.lo.max(length - b.hi);
        let last = a.hi.min(length - b.lo);
        let mut binom = binomial(length, first);
        let mut total = BigUint::zero();
        let mut cumulative = Vec::with_capacity(last - first + 1);
        for n in first..=last {
            total += &binom * a.at(n) * b.at(length - n);
            cumulative.push(total.clone());
            binom *= (length - n) as u64;
            binom /= (n + 1) as u64;
        }
        Split {
            length,
            a,
            b,
            first,
            cumulative,
        }
    }

    /// Every valid string.
    pub(crate) fn total(&self) -> &BigUint {
        self.cumulative.last().expect("at least one share")
    }
}

/// Terms [`by_exclusion`] sums: `Π(1 + m_i)`.
pub(crate) fn exclusion_terms(classes: &[Class]) -> usize {
    classes
        .iter()
        .map(|c| c.min.saturating_add(1))
        .fold(1, usize::saturating_mul)
}

/// `N` by inclusion–exclusion: for each set `U` of classes made to fall
/// short (class `i` appearing `t_i < m_i` times), `(-1)^|U|` times the
/// strings with exactly those counts in `U` and any characters of the
/// other classes.
pub(crate) fn by_exclusion(length: usize, classes: &[Class]) -> BigUint {
    let alphabet: u64 = classes.iter().map(|c| c.size).sum();
    let mut plus = BigUint::zero();
    let mut minus = BigUint::zero();
    for set in 0u32..(1 << classes.len()) {
        let short: Vec<Class> = classes
            .iter()
            .enumerate()
            .filter(|(i, _)| set & (1 << i) != 0)
            .map(|(_, &c)| c)
            .collect();
        let rest = alphabet - short.iter().map(|c| c.size).sum::<u64>();
        let sum = short_strings(length, &short, rest);
        if short.len().is_multiple_of(2) {
            plus += sum;
        } else {
            minus += sum;
        }
    }
    plus - minus
}

/// Strings of `length` where each class of `short` appears exactly `t_i`
/// times, summed over every `t_i < m_i`, the other positions drawn from
/// `rest` characters.
fn short_strings(length: usize, short: &[Class], rest: u64) -> BigUint {
    fn go(length: usize, short: &[Class], rest: u64, used: usize, ways: &BigUint) -> BigUint {
        let Some((class, others)) = short.split_first() else {
            return ways * power(rest, length - used);
        };
        let mut sum = BigUint::zero();
        for t in 0..class.min.min(length - used + 1) {
            let here = ways * binomial(length - used, t) * power(class.size, t);
            sum += go(length, others, rest, used + t, &here);
        }
        sum
    }
    go(length, short, rest, 0, &BigUint::one())
}

/// `N` for `classes` (1 to 4), by whichever way is cheaper.
pub(crate) fn count(length: usize, classes: &[Class]) -> BigUint {
    if exclusion_terms(classes) <= MAX_EXCLUSION_TERMS {
        by_exclusion(length, classes)
    } else {
        Split::new(length, classes).total().clone()
    }
}

/// Above this many terms, inclusion–exclusion costs more than the split.
pub(crate) const MAX_EXCLUSION_TERMS: usize = 32;
