//! The character classes a password draws from.

/// ASCII lower-case letters.
pub const LOWERCASE: &[u8] = b"abcdefghijklmnopqrstuvwxyz";
/// ASCII upper-case letters.
pub const UPPERCASE: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";
/// ASCII digits.
pub const DIGITS: &[u8] = b"0123456789";
/// The 32 printable ASCII punctuation characters (`char::is_ascii_punctuation`).
pub const SPECIALS: &[u8] = b"!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

/// Look-alike characters left out by `exclude_ambiguous`: the set of
/// `pwgen -B` (B8G6I1l0OQDS5Z2) plus o, |, and the quotes and backtick that
/// are hard to tell apart or to type in some fonts and keyboards.
pub const AMBIGUOUS: &[u8] = b"B8G6I1l0OQDS5Z2o|`'\"";

/// A class of characters a policy can require.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CharClass {
    /// `a`–`z`.
    Lowercase,
    /// `A`–`Z`.
    Uppercase,
    /// `0`–`9`.
    Digit,
    /// ASCII punctuation.
    Special,
}

impl CharClass {
    /// Every class, in the order they are listed to people.
    pub const ALL: [CharClass; 4] = [
        CharClass::Lowercase,
        CharClass::Uppercase,
        CharClass::Digit,
        CharClass::Special,
    ];

    /// How the class is named in messages.
    pub fn name(self) -> &'static str {
        match self {
            CharClass::Lowercase => "lowercase letters",
            CharClass::Uppercase => "uppercase letters",
            CharClass::Digit => "digits",
            CharClass::Special => "special characters",
        }
    }

    /// The default characters of this class.
    pub fn chars(self) -> &'static [u8] {
        match self {
            CharClass::Lowercase => LOWERCASE,
            CharClass::Uppercase => UPPERCASE,
            CharClass::Digit => DIGITS,
            CharClass::Special => SPECIALS,
        }
    }

    /// The class a character belongs to, if any.
    pub fn of(c: u8) -> Option<CharClass> {
        CharClass::ALL
            .into_iter()
            .find(|class| class.chars().contains(&c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn classes_have_the_expected_sizes() {
        assert_eq!(LOWERCASE.len(), 26);
        assert_eq!(UPPERCASE.len(), 26);
        assert_eq!(DIGITS.len(), 10);
        assert_eq!(SPECIALS.len(), 32);
    }

    #[test]
    fn classes_are_disjoint_and_cover_printable_ascii_without_space() {
        let mut seen = HashSet::new();
        for class in CharClass::ALL {
            for &c in class.chars() {
                assert!(seen.insert(c), "{:?} appears twice", c as char);
            }
        }
        let graphic: HashSet<u8> = (0u8..=127).filter(u8::is_ascii_graphic).collect();
        assert_eq!(seen, graphic);
    }

    #[test]
    fn specials_are_exactly_ascii_punctuation() {
        let punctuation: Vec<u8> = (0u8..=127).filter(u8::is_ascii_punctuation).collect();
        assert_eq!(SPECIALS, punctuation.as_slice());
    }

    #[test]
    fn ambiguous_characters_are_printable_ascii() {
        assert!(AMBIGUOUS.iter().all(u8::is_ascii_graphic));
        assert!(
            AMBIGUOUS.contains(&b'l') && AMBIGUOUS.contains(&b'0') && AMBIGUOUS.contains(&b'O')
        );
    }

    #[test]
    fn of_finds_the_class_of_each_character() {
        assert_eq!(CharClass::of(b'q'), Some(CharClass::Lowercase));
        assert_eq!(CharClass::of(b'Q'), Some(CharClass::Uppercase));
        assert_eq!(CharClass::of(b'7'), Some(CharClass::Digit));
        assert_eq!(CharClass::of(b'~'), Some(CharClass::Special));
        assert_eq!(CharClass::of(b' '), None);
    }
}
