//! An independent reading of GeneratePasswordRequest's documented rules,
//! to check generated passwords against (not a copy of the server's code).

use giropops_senhas::proto::v1::GeneratePasswordRequest;

const AMBIGUOUS: &str = "B8G6I1l0OQDS5Z2o|`'\"";
const DEFAULT_SPECIALS: &str = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

/// A class: its name, whether it is on, its minimum, and who belongs.
type Class<'a> = (&'a str, bool, u32, Box<dyn Fn(char) -> bool + 'a>);

/// Checks every constraint `request` asks of `password`.
pub fn check(request: &GeneratePasswordRequest, password: &str) -> Result<(), String> {
    let length = if request.length == 0 {
        16
    } else {
        request.length as usize
    };
    if password.len() != length {
        return Err(format!("length {} != {length}", password.len()));
    }
    let specials = if request.special_chars.is_empty() {
        DEFAULT_SPECIALS
    } else {
        request.special_chars.as_str()
    };
    let lower_on = request.include_lowercase.unwrap_or(true) || request.min_lowercase > 0;
    let upper_on = request.include_uppercase.unwrap_or(true) || request.min_uppercase > 0;
    let digits_on = request.include_numbers || request.min_digits > 0;
    let specials_on = request.include_special_chars
        || request.min_specials > 0
        || !request.special_chars.is_empty();
    let classes: [Class; 4] = [
        (
            "lowercase",
            lower_on,
            request.min_lowercase,
            Box::new(|c: char| c.is_ascii_lowercase()),
        ),
        (
            "uppercase",
            upper_on,
            request.min_uppercase,
            Box::new(|c: char| c.is_ascii_uppercase()),
        ),
        (
            "digits",
            digits_on,
            request.min_digits,
            Box::new(|c: char| c.is_ascii_digit()),
        ),
        (
            "specials",
            specials_on,
            request.min_specials,
            Box::new(move |c: char| specials.contains(c)),
        ),
    ];
    for c in password.chars() {
        if request.exclude_chars.contains(c) {
            return Err(format!("excluded {c:?} used"));
        }
        if request.exclude_ambiguous && AMBIGUOUS.contains(c) {
            return Err(format!("ambiguous {c:?} used"));
        }
        if !classes.iter().any(|(_, on, _, member)| *on && member(c)) {
            return Err(format!("{c:?} is in no class that is on"));
        }
    }
    for (name, on, min, member) in &classes {
        let count = password.chars().filter(|&c| member(c)).count();
        if *on && count < (*min).max(1) as usize {
            return Err(format!("{count} {name}, wanted at least {}", (*min).max(1)));
        }
    }
    Ok(())
}
