use std::collections::HashMap;

use num_bigint::BigUint;
use proptest::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::{IndexedRandom, SliceRandom};

use super::count::{self, Class, Split};
use super::*;

/// Tiny alphabets: class `i` is a run of `sizes[i]` letters from `a`.
fn classes(sizes: &[usize]) -> Vec<Vec<u8>> {
    let mut next = b'a';
    sizes
        .iter()
        .map(|&size| {
            let class: Vec<u8> = (next..next + size as u8).collect();
            next += size as u8;
            class
        })
        .collect()
}

fn specs(sizes: &[usize], mins: &[usize]) -> Vec<Class> {
    sizes
        .iter()
        .zip(mins)
        .map(|(&size, &min)| Class {
            size: size as u64,
            min,
        })
        .collect()
}

fn valid(s: &[u8], classes: &[Vec<u8>], mins: &[usize]) -> bool {
    s.iter().all(|c| classes.iter().any(|k| k.contains(c)))
        && classes
            .iter()
            .zip(mins)
            .all(|(k, &m)| s.iter().filter(|c| k.contains(c)).count() >= m)
}

/// Every string over the alphabet, by brute force.
fn all_strings(alphabet: &[u8], length: usize) -> Vec<Vec<u8>> {
    let mut out = vec![Vec::new()];
    for _ in 0..length {
        out = out
            .into_iter()
            .flat_map(|s| {
                alphabet.iter().map(move |&c| {
                    let mut t = s.clone();
                    t.push(c);
                    t
                })
            })
            .collect();
    }
    out
}

fn brute_force(sizes: &[usize], mins: &[usize], length: usize) -> usize {
    let classes = classes(sizes);
    let alphabet: Vec<u8> = classes.concat();
    all_strings(&alphabet, length)
        .iter()
        .filter(|s| valid(s, &classes, mins))
        .count()
}

#[test]
fn counts_equal_brute_force() {
    let shapes: &[&[usize]] = &[
        &[1],
        &[3],
        &[1, 1],
        &[2, 1],
        &[1, 3],
        &[2, 2],
        &[1, 1, 1],
        &[2, 1, 1],
        &[1, 2, 2],
        &[1, 1, 1, 1],
        &[2, 1, 1, 1],
        &[1, 1, 2, 1],
        &[2, 2, 1, 1],
    ];
    let mut checked = 0;
    for sizes in shapes {
        let alphabet: usize = sizes.iter().sum();
        for length in 1..=6usize {
            if alphabet.pow(length as u32) > 50_000 {
                continue;
            }
            // Every vector of minimums 1..=3 that fits.
            let k = sizes.len();
            for code in 0..3usize.pow(k as u32) {
                let mins: Vec<usize> = (0..k)
                    .map(|i| code / 3usize.pow(i as u32) % 3 + 1)
                    .collect();
                if mins.iter().sum::<usize>() > length {
                    continue;
                }
                let expected = BigUint::from(brute_force(sizes, &mins, length));
                let classes = specs(sizes, &mins);
                let what = format!("sizes {sizes:?} mins {mins:?} length {length}");
                assert_eq!(count::by_exclusion(length, &classes), expected, "{what}");
                assert_eq!(Split::new(length, &classes).total(), &expected, "{what}");
                assert_eq!(count::count(length, &classes), expected, "{what}");
                checked += 1;
            }
        }
    }
    assert!(checked > 300, "{checked} cases");
}

/// Where brute force can't go, the two exact ways must agree.
#[test]
fn both_ways_agree_on_real_policies() {
    let sizes = [26, 26, 10, 32];
    for (length, mins) in [
        (16, [1, 1, 1, 1]),
        (16, [2, 2, 2, 2]),
        (128, [1, 1, 2, 1]),
        (200, [3, 2, 3, 2]),
        (1024, [1, 2, 1, 1]),
        (1024, [2, 1, 3, 2]),
    ] {
        let classes = specs(&sizes, &mins);
        assert_eq!(
            count::by_exclusion(length, &classes),
            Split::new(length, &classes).total().clone(),
            "length {length} mins {mins:?}"
        );
    }
    // 16 characters, the four classes: log2 N = 104.6 (the old bound: 96.4).
    let n = count::count(16, &specs(&sizes, &[1, 1, 1, 1]));
    assert!(
        (count::log2(&n) - 104.5925).abs() < 1e-4,
        "{}",
        count::log2(&n)
    );
}

#[test]
fn log2_uses_the_top_bits() {
    assert_eq!(count::log2(&BigUint::from(1u32)), 0.0);
    assert_eq!(count::log2(&BigUint::from(1024u32)), 10.0);
    let big = count::power(94, 1024);
    assert!((count::log2(&big) - 1024.0 * 94f64.log2()).abs() < 1e-9);
    let just_below = count::power(2, 200) - 1u32;
    assert!((count::log2(&just_below) - 200.0).abs() < 1e-12);
}

/// The forced-picks-then-shuffle generator this module replaced.
fn old_generator(classes: &[Vec<u8>], mins: &[usize], length: usize, rng: &mut StdRng) -> Vec<u8> {
    let alphabet: Vec<u8> = classes.concat();
    let mut chars = Vec::new();
    for (class, &min) in classes.iter().zip(mins) {
        chars.extend((0..min).map(|_| *class.choose(rng).unwrap()));
    }
    while chars.len() < length {
        chars.push(*alphabet.choose(rng).unwrap());
    }
    chars.shuffle(rng);
    chars
}

/// Chi-square of `draws` samples over every valid string against the
/// uniform distribution, and its degrees of freedom.
fn chi_square(
    sizes: &[usize],
    mins: &[usize],
    length: usize,
    per_string: usize,
    mut draw: impl FnMut() -> Vec<u8>,
) -> (f64, f64) {
    let classes = classes(sizes);
    let valid_strings: Vec<Vec<u8>> = all_strings(&classes.concat(), length)
        .into_iter()
        .filter(|s| valid(s, &classes, mins))
        .collect();
    let mut seen: HashMap<Vec<u8>, usize> = HashMap::new();
    let draws = per_string * valid_strings.len();
    for _ in 0..draws {
        let s = draw();
        assert!(valid(&s, &classes, mins), "invalid {s:?}");
        *seen.entry(s).or_default() += 1;
    }
    let expected = per_string as f64;
    let chi = valid_strings
        .iter()
        .map(|s| {
            let observed = seen.get(s).copied().unwrap_or(0) as f64;
            (observed - expected).powi(2) / expected
        })
        .sum();
    (chi, valid_strings.len() as f64 - 1.0)
}

/// Six standard deviations above the mean of a chi-square with `df`
/// degrees of freedom: a uniform sampler passes with near certainty (and
/// the seed is fixed), a biased one fails.
fn threshold(df: f64) -> f64 {
    df + 6.0 * (2.0 * df).sqrt()
}

/// Small cases with 2 to 4 classes where the old generator is measurably
/// biased (it favours even class counts: a string with counts (2, 2)
/// against (3, 1) is 4/3 as likely).
const CASES: [(&[usize], &[usize], usize); 4] = [
    (&[2, 2], &[1, 1], 4),
    (&[2, 1, 1], &[1, 1, 1], 5),
    (&[1, 2, 1], &[1, 2, 1], 5),
    (&[1, 1, 1, 1], &[1, 1, 1, 1], 6),
];

#[test]
fn every_valid_string_is_equally_likely() {
    let mut rng = StdRng::seed_from_u64(11);
    for (sizes, mins, length) in CASES {
        let classes = classes(sizes);
        let with_mins: Vec<(&[u8], usize)> = classes
            .iter()
            .map(|c| &c[..])
            .zip(mins.iter().copied())
            .collect();
        // Each plan, and the group walk alone (no rejection tries).
        for sampler in [
            Sampler::new(length, &with_mins),
            Sampler::with_plan(length, &with_mins, Some(GROUP_TRIES)),
            Sampler::with_plan(length, &with_mins, Some(0)),
        ] {
            let expected = BigUint::from(brute_force(sizes, mins, length));
            assert_eq!(sampler.count(), &expected);
            let (chi, df) = chi_square(sizes, mins, length, 100, || sampler.sample(&mut rng));
            eprintln!(
                "{sampler:?}, {sizes:?} L={length}: chi-square {chi:.0}, df {df}, threshold {:.0}",
                threshold(df)
            );
            assert!(
                chi < threshold(df),
                "{sizes:?} {mins:?} {length} {sampler:?}: chi-square {chi}, df {df}"
            );
        }
    }
}

/// The test has power: the forced-picks-and-shuffle generator fails it on
/// the same cases.
#[test]
fn the_old_generator_fails_the_uniformity_test() {
    let mut rng = StdRng::seed_from_u64(11);
    for (sizes, mins, length) in CASES {
        let classes = classes(sizes);
        let (chi, df) = chi_square(sizes, mins, length, 100, || {
            old_generator(&classes, mins, length, &mut rng)
        });
        eprintln!(
            "old generator, {sizes:?} {mins:?} L={length}: chi-square {chi:.0}, df {df}, threshold {:.0}",
            threshold(df)
        );
        assert!(
            chi > 2.0 * threshold(df),
            "{sizes:?} {mins:?} {length}: chi-square {chi}, df {df}"
        );
    }
}

#[test]
fn plans_are_chosen_by_the_share_of_valid_strings() {
    let chars = classes(&[26, 26, 10, 32]);
    let with = |mins: [usize; 4]| -> Vec<(&[u8], usize)> {
        chars.iter().map(|c| &c[..]).zip(mins).collect()
    };
    let loose = Sampler::new(1024, &with([1, 1, 1, 1]));
    assert!(matches!(loose.plan, Plan::Rejection), "{loose:?}");
    let tight = Sampler::new(1024, &with([1, 1, 600, 1]));
    assert!(matches!(tight.plan, Plan::Counts(_)), "{tight:?}");
    let short = Sampler::new(8, &with([2, 2, 2, 2]));
    assert!(matches!(short.plan, Plan::Counts(_)), "{short:?}");
    // 16 characters with two digits: 47% of all strings qualify.
    let usual = Sampler::new(16, &with([1, 1, 2, 1]));
    assert!(matches!(usual.plan, Plan::Rejection), "{usual:?}");
}

#[test]
fn uniform_big_integers_below_a_bound() {
    let mut rng = StdRng::seed_from_u64(12);
    for bound in [1u32, 5, 256, 257, 1000] {
        let big = BigUint::from(bound);
        let per_value = 200;
        let mut counts = vec![0usize; bound as usize];
        for _ in 0..per_value * bound as usize {
            let v = below(&big, &mut rng);
            assert!(v < big);
            counts[usize::try_from(v.iter_u32_digits().next().unwrap_or(0)).unwrap()] += 1;
        }
        let expected = per_value as f64;
        let chi: f64 = counts
            .iter()
            .map(|&o| (o as f64 - expected).powi(2) / expected)
            .sum();
        let df = (bound as f64 - 1.0).max(1.0);
        assert!(chi < threshold(df), "bound {bound}: {chi}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Every string drawn meets its policy, whatever the plan.
    #[test]
    fn samples_meet_their_policy(
        sizes in prop::collection::vec(1usize..=26, 1..=4),
        mins in prop::collection::vec(1usize..=40, 4),
        extra in 0usize..200,
        tries in prop::option::of(0usize..3),
        seed: u64,
    ) {
        let chars = classes(&sizes);
        let mins = &mins[..sizes.len()];
        let length = mins.iter().sum::<usize>() + extra;
        let with_mins: Vec<(&[u8], usize)> = chars.iter().map(|c| &c[..]).zip(mins.iter().copied()).collect();
        let sampler = Sampler::with_plan(length, &with_mins, tries);
        let mut rng = StdRng::seed_from_u64(seed);
        for _ in 0..4 {
            let s = sampler.sample(&mut rng);
            prop_assert_eq!(s.len(), length);
            prop_assert!(valid(&s, &chars, mins), "{:?}", s);
        }
    }
}
