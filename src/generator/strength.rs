//! Strength of a password a person chose, estimated by zxcvbn. The
//! password is only borrowed: nothing here keeps or prints it.

use super::violation::FieldViolation;

/// Longest password accepted, in characters.
pub const MAX_CHECK_CHARS: usize = 256;
/// Characters zxcvbn scores: the first 32. Its cost grows with the length
/// and, much faster, with the number of distinct l33t characters (each
/// adds substitution combinations): [`WORST_CHECK_INPUT`], 256 characters,
/// takes ~1 s; its first 64, ~0.45 s; its first 32, ~0.12 s (release build,
/// this project's 2-core machine). A password longer than this is at least
/// as strong as its first 32 characters.
pub const MAX_SCORED_CHARS: usize = 32;

/// The costliest input found for zxcvbn: every l33t character of its
/// table, repeated. Benchmarked and tested as the worst case.
pub const WORST_CHECK_INPUT: &str =
    "4@8({[<3&69!1|70$5%+24@8({[<3&69!1|70$5%+24@8({[<3&69!1|70$5%+2";
/// Most `user_inputs` accepted.
pub const MAX_USER_INPUTS: usize = 16;
/// Longest user input accepted, in characters.
pub const MAX_USER_INPUT_CHARS: usize = 128;

/// zxcvbn's verdict.
#[derive(Debug, Clone, PartialEq)]
pub struct Strength {
    /// 0 (too guessable) to 4 (very unguessable).
    pub score: u8,
    /// log10 of the guesses needed.
    pub guesses_log10: f64,
    /// Offline slow-hash crack time, for people.
    pub crack_time_display: String,
    /// The same, in seconds.
    pub crack_time_seconds: f64,
    /// The main problem, if any.
    pub warning: Option<String>,
    /// How to do better.
    pub suggestions: Vec<String>,
}

/// Checks that `password` and `user_inputs` are within bounds (cheap: do
/// it before queueing for [`score_password`]).
pub fn validate_check(password: &str, user_inputs: &[String]) -> Result<(), Vec<FieldViolation>> {
    let mut violations = Vec::new();
    let chars = password.chars().count();
    if !(1..=MAX_CHECK_CHARS).contains(&chars) {
        violations.push(FieldViolation::new(
            "password",
            format!("password must be between 1 and {MAX_CHECK_CHARS} characters, got {chars}"),
        ));
    }
    if user_inputs.len() > MAX_USER_INPUTS {
        violations.push(FieldViolation::new(
            "user_inputs",
            format!(
                "user_inputs may hold at most {MAX_USER_INPUTS} entries, got {}",
                user_inputs.len()
            ),
        ));
    } else if user_inputs
        .iter()
        .any(|i| i.chars().count() > MAX_USER_INPUT_CHARS)
    {
        violations.push(FieldViolation::new(
            "user_inputs",
            format!("each of user_inputs must be at most {MAX_USER_INPUT_CHARS} characters"),
        ));
    }
    if violations.is_empty() {
        Ok(())
    } else {
        Err(violations)
    }
}

/// Assesses `password`, penalizing passwords built from `user_inputs`.
pub fn check_password(
    password: &str,
    user_inputs: &[String],
) -> Result<Strength, Vec<FieldViolation>> {
    validate_check(password, user_inputs)?;
    Ok(score_password(password, user_inputs))
}

/// zxcvbn's verdict on the first [`MAX_SCORED_CHARS`] characters of a
/// validated `password`. CPU work of up to tens of milliseconds: run it
/// off the async reactor.
pub fn score_password(password: &str, user_inputs: &[String]) -> Strength {
    let scored = match password.char_indices().nth(MAX_SCORED_CHARS) {
        Some((end, _)) => &password[..end],
        None => password,
    };
    let inputs: Vec<&str> = user_inputs.iter().map(String::as_str).collect();
    let estimate = zxcvbn::zxcvbn(scored, &inputs);
    let crack_time = estimate.crack_times().offline_slow_hashing_1e4_per_second();
    let feedback = estimate.feedback();
    Strength {
        score: u8::from(estimate.score()),
        guesses_log10: estimate.guesses_log10(),
        crack_time_display: crack_time.to_string(),
        crack_time_seconds: std::time::Duration::from(crack_time).as_secs_f64(),
        warning: feedback.and_then(|f| f.warning()).map(|w| w.to_string()),
        suggestions: feedback
            .map(|f| f.suggestions().iter().map(ToString::to_string).collect())
            .unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_passwords_score_low_with_feedback() {
        let strength = check_password("password", &[]).unwrap();
        assert_eq!(strength.score, 0);
        assert!(strength.warning.is_some());
        assert!(strength.guesses_log10 < 3.0);
    }

    #[test]
    fn generated_passwords_score_high() {
        let strength = check_password("q7#Lr}x2V!c(9mTe@Zb4", &[]).unwrap();
        assert_eq!(strength.score, 4);
        assert_eq!(strength.crack_time_display, "centuries");
        assert!(strength.guesses_log10 > 10.0);
    }

    #[test]
    fn user_inputs_lower_the_score() {
        let without = check_password("giropops2026", &[]).unwrap();
        let with = check_password("giropops2026", &["giropops".into()]).unwrap();
        assert!(with.guesses_log10 < without.guesses_log10);
    }

    #[test]
    fn only_the_first_32_characters_are_scored() {
        let head = "correct horse battery staple 42!";
        assert_eq!(head.chars().count(), MAX_SCORED_CHARS);
        let long = format!("{head}{}", "é".repeat(100));
        assert_eq!(score_password(&long, &[]), score_password(head, &[]));
        let worst = score_password(WORST_CHECK_INPUT, &[]);
        assert_eq!(worst, score_password(&WORST_CHECK_INPUT[..32], &[]));
    }

    #[test]
    fn bounds() {
        assert_eq!(check_password("", &[]).unwrap_err()[0].field, "password");
        assert_eq!(
            check_password(&"a".repeat(257), &[]).unwrap_err()[0].field,
            "password"
        );
        assert!(check_password(&"a".repeat(256), &[]).is_ok());
        let many = vec!["x".to_owned(); 17];
        assert_eq!(
            check_password("abc", &many).unwrap_err()[0].field,
            "user_inputs"
        );
        let long = vec!["x".repeat(129)];
        assert_eq!(
            check_password("abc", &long).unwrap_err()[0].field,
            "user_inputs"
        );
    }
}
