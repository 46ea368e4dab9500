//! Exactly uniform sampling from the strings a policy allows, and their
//! exact number (hence the exact entropy).
//!
//! A valid string has length `L`, only characters of the classes in use,
//! and at least `m_i` characters of each class `i`. Every valid string is
//! drawn with probability exactly `1/N` ([`count`] computes `N`):
//!
//! - **By rejection** when at least a quarter of all `A^L` strings over
//!   the whole alphabet are valid (the usual case: small minimums): draw
//!   `L` uniform characters, start again if a minimum is missed. Each try
//!   is uniform over all strings, so the one kept is uniform over the valid
//!   ones; at most 4 tries on average (16 characters, the four classes,
//!   `min_digits` 2: about 2).
//! - **By counts** otherwise ([`count::Split`]): the classes form two
//!   groups; the first group's share `n` of the length is drawn with
//!   probability `C(L,n)·W_A(n)·W_B(L-n)/N` (a uniform big integer below
//!   `N`, by rejection, located in the precomputed cumulative weights).
//!   Each group's `n` characters are then uniform among the strings over
//!   the group that meet its minimums: by rejection from uniform draws
//!   over the group's alphabet, and after a few misses by an exact walk
//!   over the group's class counts (a uniform big integer below `W(n)`).
//!   A uniform shuffle of all the characters gives every arrangement.
//!
//! All randomness is rand's unbiased integer sampling (the crate's
//! `unbiased` feature) and uniform big integers by rejection: no floats,
//! no `% n`.

pub(crate) mod count;

use std::fmt;

use num_bigint::BigUint;
use rand::CryptoRng;
use rand::distr::{Distribution, Uniform};
use rand::seq::{IndexedRandom, SliceRandom};

use self::count::{Class, Group, MAX_EXCLUSION_TERMS, Split};

/// Tries of a group's characters by rejection before the exact walk.
const GROUP_TRIES: usize = 8;

/// How a policy's passwords are drawn, precomputed with the policy.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Sampler {
    length: usize,
    /// The classes' characters, in the policy's order.
    classes: Vec<Vec<u8>>,
    mins: Vec<usize>,
    alphabet: Vec<u8>,
    /// Indexes into `alphabet` (Lemire's method: exact rejection).
    index: Uniform<usize>,
    /// The class of each character of `alphabet`.
    class_at: Vec<u8>,
    count: BigUint,
    plan: Plan,
    /// Tries of a group's characters by rejection before the exact walk.
    group_tries: usize,
}

#[derive(Clone, PartialEq, Eq)]
enum Plan {
    Rejection,
    Counts(Box<Split>),
}

impl fmt::Debug for Sampler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plan = match &self.plan {
            Plan::Rejection => "rejection",
            Plan::Counts(_) => "counts",
        };
        f.debug_struct("Sampler")
            .field("length", &self.length)
            .field("mins", &self.mins)
            .field("count_bits", &self.count.bits())
            .field("plan", &plan)
            .finish_non_exhaustive()
    }
}

impl Sampler {
    /// The sampler of strings of `length` over `classes` (each class's
    /// characters and its minimum ≥ 1; classes disjoint, 1 to 4 of them,
    /// minimums summing to at most `length`).
    pub(crate) fn new(length: usize, classes: &[(&[u8], usize)]) -> Sampler {
        Sampler::with_plan(length, classes, None)
    }

    /// [`Sampler::new`], the plan forced when `counts` is `Some`: by
    /// counts (`Some(tries)`, group rejection tries before the walk).
    fn with_plan(length: usize, classes: &[(&[u8], usize)], counts: Option<usize>) -> Sampler {
        let specs: Vec<Class> = classes
            .iter()
            .map(|&(chars, min)| Class {
                size: chars.len() as u64,
                min,
            })
            .collect();
        let alphabet: Vec<u8> = classes
            .iter()
            .flat_map(|(c, _)| c.iter().copied())
            .collect();
        let mut split = None;
        let count = if count::exclusion_terms(&specs) <= MAX_EXCLUSION_TERMS {
            count::by_exclusion(length, &specs)
        } else {
            let s = Split::new(length, &specs);
            let total = s.total().clone();
            split = Some(s);
            total
        };
        let all = count::power(alphabet.len() as u64, length);
        let plan = if counts.is_none() && &count * 4u32 >= all {
            Plan::Rejection
        } else {
            Plan::Counts(Box::new(
                split.unwrap_or_else(|| Split::new(length, &specs)),
            ))
        };
        Sampler {
            length,
            classes: classes.iter().map(|(c, _)| c.to_vec()).collect(),
            mins: classes.iter().map(|&(_, m)| m).collect(),
            index: Uniform::new(0, alphabet.len()).expect("classes are not empty"),
            class_at: (0u8..)
                .zip(classes)
                .flat_map(|(i, (chars, _))| chars.iter().map(move |_| i))
                .collect(),
            alphabet,
            count,
            plan,
            group_tries: counts.unwrap_or(GROUP_TRIES),
        }
    }

    /// The number of valid strings.
    #[cfg(test)]
    pub(crate) fn count(&self) -> &BigUint {
        &self.count
    }

    /// `log2` of the number of valid strings.
    pub(crate) fn entropy_bits(&self) -> f64 {
        count::log2(&self.count)
    }

    /// One valid string, each with probability `1/count`.
    pub(crate) fn sample<R: CryptoRng + ?Sized>(&self, rng: &mut R) -> Vec<u8> {
        match &self.plan {
            Plan::Rejection => self.by_rejection(rng),
            Plan::Counts(split) => self.by_counts(split, rng),
        }
    }

    fn by_rejection<R: CryptoRng + ?Sized>(&self, rng: &mut R) -> Vec<u8> {
        let mut chars = vec![0; self.length];
        let mut seen = [0usize; 4];
        loop {
            seen.fill(0);
            for c in chars.iter_mut() {
                let index = self.index.sample(rng);
                *c = self.alphabet[index];
                seen[usize::from(self.class_at[index])] += 1;
            }
            if seen.iter().zip(&self.mins).all(|(s, m)| s >= m) {
                return chars;
            }
        }
    }

    fn by_counts<R: CryptoRng + ?Sized>(&self, split: &Split, rng: &mut R) -> Vec<u8> {
        let r = below(split.total(), rng);
        let share = split.first + split.cumulative.partition_point(|c| c <= &r);
        let in_a = split.a.classes.len();
        let mut chars = Vec::with_capacity(self.length);
        let tries = self.group_tries;
        fill_group(
            &split.a,
            &self.classes[..in_a],
            share,
            tries,
            rng,
            &mut chars,
        );
        let rest = self.length - share;
        fill_group(
            &split.b,
            &self.classes[in_a..],
            rest,
            tries,
            rng,
            &mut chars,
        );
        chars.shuffle(rng);
        chars
    }
}

/// Appends `n` characters over `group` (whose classes' characters are
/// `chars`), uniform among the strings that meet the group's minimums.
/// Their order does not matter: the caller shuffles.
fn fill_group<R: CryptoRng + ?Sized>(
    group: &Group,
    chars: &[Vec<u8>],
    n: usize,
    tries: usize,
    rng: &mut R,
    out: &mut Vec<u8>,
) {
    let [first, second] = chars else {
        // Zero or one class: every string of the class is valid.
        for class in chars {
            out.extend((0..n).map(|_| pick(class, rng)));
        }
        return;
    };
    let (p, q) = (group.classes[0].min, group.classes[1].min);
    let index = Uniform::new(0, first.len() + second.len()).expect("classes are not empty");
    let start = out.len();
    for _ in 0..tries {
        let mut in_first = 0;
        for _ in 0..n {
            let index = index.sample(rng);
            if index < first.len() {
                in_first += 1;
                out.push(first[index]);
            } else {
                out.push(second[index - first.len()]);
            }
        }
        if in_first >= p && n - in_first >= q {
            return;
        }
        out.truncate(start);
    }
    // Rare: the window of counts holds little of the binomial's mass.
    let c = window_count(group, n, rng);
    out.extend((0..c).map(|_| pick(first, rng)));
    out.extend((0..n - c).map(|_| pick(second, rng)));
}

/// The first class's count in a uniform valid string of length `n` over a
/// two-class `group`: `c` in `p..=n-q` with probability
/// `C(n,c)·a^c·b^(n-c)/W(n)`, by a walk from the end of the window nearer
/// the binomial's mode (where the mass is, when rejection missed).
fn window_count<R: CryptoRng + ?Sized>(group: &Group, n: usize, rng: &mut R) -> usize {
    let [first, second] = group.classes[..] else {
        unreachable!("two classes")
    };
    let (a, b) = (first.size, second.size);
    let (lo, hi) = (first.min, n - second.min);
    let mut r = below(group.at(n), rng);
    // The mode of C(n,c)·a^c·b^(n-c) is near n·a/(a+b).
    let upward = (n as u64) * a <= (hi as u64) * (a + b);
    let mut c = if upward { lo } else { hi };
    let mut term = count::binomial(n, c) * count::power(a, c) * count::power(b, n - c);
    while r >= term {
        r -= &term;
        if upward {
            term *= (n - c) as u64 * a;
            term /= (c + 1) as u64 * b;
            c += 1;
        } else {
            term *= c as u64 * b;
            term /= (n - c + 1) as u64 * a;
            c -= 1;
        }
    }
    c
}

/// A uniform big integer in `0..bound` (`bound > 0`): uniform bits of
/// `bound`'s length, drawn again when too large (probability < 1/2).
fn below<R: CryptoRng + ?Sized>(bound: &BigUint, rng: &mut R) -> BigUint {
    let bits = bound.bits();
    let bytes = bits.div_ceil(8) as usize;
    let top_mask = 0xffu8 >> ((8 - bits % 8) % 8);
    let mut buf = vec![0u8; bytes];
    loop {
        rng.fill_bytes(&mut buf);
        if let Some(top) = buf.last_mut() {
            *top &= top_mask;
        }
        let candidate = BigUint::from_bytes_le(&buf);
        if &candidate < bound {
            return candidate;
        }
    }
}

fn pick<R: CryptoRng + ?Sized>(chars: &[u8], rng: &mut R) -> u8 {
    *chars
        .choose(rng)
        .expect("validated policies have no empty class")
}

#[cfg(test)]
mod tests;
