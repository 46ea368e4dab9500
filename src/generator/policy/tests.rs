//! Policy validation: every rule, every violation at once.

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
