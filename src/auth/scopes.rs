//! Scopes: what a principal may do (the scope map, `scope_map`, says what
//! each RPC path needs).
//!
//! The scope names are `generate`, `check`, `history` (the caller's own
//! history), `history:all` (everyone's, which includes the caller's
//! own: [`Scopes::grants`]) and `policy:NAME` (only that named policy). A
//! list is written comma-separated, or as one of the words `none` and
//! `all`; the same grammar serves the tokens file and `--anonymous-scopes`.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

/// One scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// `generate`: GeneratePassword, GeneratePassphrase, StreamPasswords,
    /// GenerateToken.
    Generate,
    /// `check`: CheckPassword, CheckToken.
    Check,
    /// `history`: ListPasswords over the caller's own history.
    History,
    /// `history:all`: ListPasswords over everyone's history.
    HistoryAll,
}

impl Scope {
    /// Every scope, in canonical order.
    pub const ALL: [Scope; 4] = [
        Scope::Generate,
        Scope::Check,
        Scope::History,
        Scope::HistoryAll,
    ];

    /// The scope's name, as written in the tokens file.
    pub const fn name(self) -> &'static str {
        match self {
            Scope::Generate => "generate",
            Scope::Check => "check",
            Scope::History => "history",
            Scope::HistoryAll => "history:all",
        }
    }

    /// The scope named `name` (exact, lowercase), if any.
    pub fn from_name(name: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|scope| scope.name() == name)
    }

    const fn bit(self) -> u8 {
        match self {
            Scope::Generate => 1,
            Scope::Check => 1 << 1,
            Scope::History => 1 << 2,
            Scope::HistoryAll => 1 << 3,
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A set of scopes. Displays as its canonical list (`generate,check`), or
/// `none` when empty; [`Scopes::parse`] reads that back.
///
/// Besides the four scopes, a set may name policies (`policy:NAME`): a
/// principal with policies and without `generate` may generate only with
/// those policies (the handler checks the name: [`Scopes::may_use_policy`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Scopes {
    bits: u8,
    /// The `policy:NAME` scopes, sorted, each once; `None` when there are
    /// none.
    policies: Option<Arc<[Arc<str>]>>,
}

impl Scopes {
    /// No scope.
    pub const fn none() -> Scopes {
        Scopes::of_bits(0)
    }

    const fn of_bits(bits: u8) -> Scopes {
        Scopes {
            bits,
            policies: None,
        }
    }

    /// Every scope.
    pub const fn all() -> Scopes {
        Scopes::of_bits(
            Scope::Generate.bit()
                | Scope::Check.bit()
                | Scope::History.bit()
                | Scope::HistoryAll.bit(),
        )
    }

    /// The default scopes of callers without a token: `generate,check`.
    pub const fn anonymous_default() -> Scopes {
        Scopes::of_bits(Scope::Generate.bit() | Scope::Check.bit())
    }

    /// This set with `scope` added.
    #[must_use]
    pub fn with(self, scope: Scope) -> Scopes {
        Scopes {
            bits: self.bits | scope.bit(),
            ..self
        }
    }

    /// This set with the scope `policy:NAME` added.
    #[must_use]
    pub fn with_policy(self, name: &str) -> Scopes {
        let mut names: Vec<Arc<str>> = self.policies().to_vec();
        if let Err(at) = names.binary_search_by(|known| (**known).cmp(name)) {
            names.insert(at, Arc::from(name));
        }
        Scopes {
            policies: Some(names.into()),
            ..self
        }
    }

    /// Whether `scope` is in the set, as written (see [`Scopes::grants`]).
    pub const fn contains(&self, scope: Scope) -> bool {
        self.bits & scope.bit() != 0
    }

    /// Whether the set allows what `scope` allows: `history:all` grants
    /// `history` too (everyone's history includes one's own).
    pub const fn grants(&self, scope: Scope) -> bool {
        match scope {
            Scope::History => self.contains(Scope::History) || self.contains(Scope::HistoryAll),
            _ => self.contains(scope),
        }
    }

    /// Whether a call needing `scope` may reach its handler: as
    /// [`Scopes::grants`], and for `generate`, also a set of policies only
    /// (the handler then requires one of them by name).
    pub fn reaches(&self, scope: Scope) -> bool {
        self.grants(scope) || (scope == Scope::Generate && !self.policies().is_empty())
    }

    /// Whether the set allows generating with the policy `name`: any policy
    /// with `generate`, else only those it names.
    pub fn may_use_policy(&self, name: &str) -> bool {
        self.contains(Scope::Generate)
            || self
                .policies()
                .binary_search_by(|known| (**known).cmp(name))
                .is_ok()
    }

    /// The policies the set names (`policy:NAME`), sorted.
    pub fn policies(&self) -> &[Arc<str>] {
        self.policies.as_deref().unwrap_or_default()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.bits == 0 && self.policies().is_empty()
    }

    /// The scopes in the set, in canonical order (policies aside).
    pub fn iter(&self) -> impl Iterator<Item = Scope> + use<> {
        let bits = self.bits;
        Scope::ALL
            .into_iter()
            .filter(move |scope| bits & scope.bit() != 0)
    }

    /// Parses a comma-separated list of scope names (`generate,history`,
    /// `policy:db-password`; spaces around names are ignored; a name twice
    /// is the same as once), or one of the words `none` and `all`.
    pub fn parse(list: &str) -> Result<Scopes, ScopesError> {
        match list.trim() {
            "" => return Err(ScopesError::Empty),
            "none" => return Ok(Scopes::none()),
            "all" => return Ok(Scopes::all()),
            _ => {}
        }
        let mut scopes = Scopes::none();
        for item in list.split(',').map(str::trim) {
            if item.is_empty() {
                return Err(ScopesError::EmptyItem);
            }
            if item == "none" || item == "all" {
                return Err(ScopesError::WordInList);
            }
            if let Some(name) = item.strip_prefix(POLICY_PREFIX) {
                if !is_policy_name(name) {
                    return Err(ScopesError::PolicyName(shown(name)));
                }
                scopes = scopes.with_policy(name);
                continue;
            }
            match Scope::from_name(item) {
                Some(scope) => scopes = scopes.with(scope),
                None => return Err(ScopesError::Unknown(shown(item))),
            }
        }
        Ok(scopes)
    }
}

/// The prefix of a policy scope: `policy:db-password`.
pub const POLICY_PREFIX: &str = "policy:";

/// Longest policy name.
pub const MAX_POLICY_NAME: usize = 64;

/// Whether `name` is a valid policy name: 1 to [`MAX_POLICY_NAME`] of
/// `a-z`, `0-9`, `-`, `_`, `.`, starting with a letter or digit.
pub fn is_policy_name(name: &str) -> bool {
    (1..=MAX_POLICY_NAME).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_' | b'.')
        })
}

impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("none");
        }
        let names = self.iter().map(|scope| scope.name().to_owned()).chain(
            self.policies()
                .iter()
                .map(|name| format!("{POLICY_PREFIX}{name}")),
        );
        for (i, name) in names.enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            f.write_str(&name)?;
        }
        Ok(())
    }
}

impl FromStr for Scopes {
    type Err = ScopesError;

    fn from_str(list: &str) -> Result<Scopes, ScopesError> {
        Scopes::parse(list)
    }
}

impl FromIterator<Scope> for Scopes {
    fn from_iter<I: IntoIterator<Item = Scope>>(iter: I) -> Scopes {
        iter.into_iter().fold(Scopes::none(), Scopes::with)
    }
}

/// The longest unknown scope name an error shows: a longer one may be a
/// token pasted into the wrong field, and is not echoed.
const MAX_SHOWN: usize = 24;

/// `item` if it is short printable ASCII, else `None` (never echoed).
fn shown(item: &str) -> Option<String> {
    let printable = item.bytes().all(|b| b.is_ascii_graphic());
    (item.len() <= MAX_SHOWN && printable && !item.starts_with("gps_")).then(|| item.to_owned())
}

/// Why a scope list does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScopesError {
    /// Nothing at all.
    #[error(
        "no scopes: write a comma-separated list of generate, check, history, history:all, or none, or all"
    )]
    Empty,
    /// `generate,,check`.
    #[error("an empty name in the scope list (two commas in a row, or one at an end)")]
    EmptyItem,
    /// `none` or `all` next to other names.
    #[error("`none` and `all` stand alone, not in a list")]
    WordInList,
    /// `policy:` followed by no valid policy name.
    #[error("{}: a policy name is 1 to 64 of a-z, 0-9, '-', '_' and '.', starting with a letter or digit", match .0 {
        Some(name) => format!("bad policy name `{name}` in `policy:`"),
        None => "a bad policy name in `policy:` (not shown)".to_owned(),
    })]
    PolicyName(Option<String>),
    /// A name that is no scope (shown when it is short and printable).
    #[error("{}: the scopes are generate, check, history, history:all and policy:NAME", match .0 {
        Some(name) => format!("unknown scope `{name}`"),
        None => "an unknown scope name (not shown)".to_owned(),
    })]
    Unknown(Option<String>),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_scopes_parse_display_and_allow_only_their_policies() {
        let scopes = Scopes::parse("check, policy:pin,policy:db-password,policy:pin").unwrap();
        assert_eq!(scopes.to_string(), "check,policy:db-password,policy:pin");
        assert_eq!(Scopes::parse(&scopes.to_string()), Ok(scopes.clone()));
        assert!(scopes.may_use_policy("pin") && scopes.may_use_policy("db-password"));
        assert!(!scopes.may_use_policy("api-key"));
        assert!(!scopes.grants(Scope::Generate));
        assert!(
            scopes.reaches(Scope::Generate),
            "policy scopes reach the handler"
        );
        assert!(!scopes.reaches(Scope::History));
        assert!(Scopes::parse("generate").unwrap().may_use_policy("any"));
        assert!(!Scopes::parse("check").unwrap().reaches(Scope::Generate));
        assert!(!Scopes::parse("policy:pin").unwrap().is_empty());
        for bad in ["policy:", "policy:Pin", "policy:-x", "policy:a b"] {
            assert!(
                matches!(Scopes::parse(bad), Err(ScopesError::PolicyName(_))),
                "{bad}"
            );
        }
        // A long bad name may be a pasted token: not echoed.
        let long = format!("policy:GPS_{}", "a".repeat(40));
        assert_eq!(Scopes::parse(&long), Err(ScopesError::PolicyName(None)));
    }

    #[test]
    fn parses_lists_and_words() {
        let generate_history = Scopes::none().with(Scope::Generate).with(Scope::History);
        assert_eq!(
            Scopes::parse("generate,history"),
            Ok(generate_history.clone())
        );
        assert_eq!(
            Scopes::parse(" history , generate "),
            Ok(generate_history.clone())
        );
        assert_eq!(
            Scopes::parse("generate,generate,history"),
            Ok(generate_history)
        );
        assert_eq!(Scopes::parse("none"), Ok(Scopes::none()));
        assert_eq!(Scopes::parse("all"), Ok(Scopes::all()));
        assert_eq!(
            Scopes::parse("history:all"),
            Ok(Scopes::none().with(Scope::HistoryAll))
        );
        assert_eq!(
            Scopes::parse("generate,check"),
            Ok(Scopes::anonymous_default())
        );
        assert_eq!(
            "check".parse::<Scopes>(),
            Ok(Scopes::none().with(Scope::Check))
        );
    }

    #[test]
    fn rejects_bad_lists() {
        assert_eq!(Scopes::parse(""), Err(ScopesError::Empty));
        assert_eq!(Scopes::parse("  "), Err(ScopesError::Empty));
        assert_eq!(
            Scopes::parse("generate,,check"),
            Err(ScopesError::EmptyItem)
        );
        assert_eq!(Scopes::parse("generate,"), Err(ScopesError::EmptyItem));
        assert_eq!(Scopes::parse("all,generate"), Err(ScopesError::WordInList));
        assert_eq!(Scopes::parse("none,check"), Err(ScopesError::WordInList));
        assert_eq!(
            Scopes::parse("generate,admin"),
            Err(ScopesError::Unknown(Some("admin".to_owned())))
        );
        // Case matters: the names are lowercase.
        assert!(Scopes::parse("Generate").is_err());
        assert!(Scopes::parse("history:ALL").is_err());
        assert!(Scopes::parse("history:mine").is_err());
    }

    #[test]
    fn never_echoes_what_may_be_a_token() {
        let token = format!("gps_{}", "A".repeat(43));
        let error = Scopes::parse(&token).unwrap_err();
        assert_eq!(error, ScopesError::Unknown(None));
        assert!(!error.to_string().contains(&token));
        let long = "x".repeat(MAX_SHOWN + 1);
        assert!(
            !Scopes::parse(&long)
                .unwrap_err()
                .to_string()
                .contains(&long)
        );
    }

    #[test]
    fn displays_the_canonical_list() {
        assert_eq!(Scopes::none().to_string(), "none");
        assert_eq!(
            Scopes::all().to_string(),
            "generate,check,history,history:all"
        );
        assert_eq!(
            Scopes::parse("history,check").unwrap().to_string(),
            "check,history"
        );
        for bits in 0..16u8 {
            let scopes: Scopes = Scope::ALL
                .into_iter()
                .filter(|scope| bits & scope.bit() != 0)
                .collect();
            assert_eq!(Scopes::parse(&scopes.to_string()), Ok(scopes));
        }
    }

    #[test]
    fn history_all_grants_history() {
        let all_history = Scopes::none().with(Scope::HistoryAll);
        assert!(all_history.grants(Scope::History));
        assert!(all_history.grants(Scope::HistoryAll));
        assert!(!all_history.contains(Scope::History));
        let own = Scopes::none().with(Scope::History);
        assert!(own.grants(Scope::History));
        assert!(!own.grants(Scope::HistoryAll));
        assert!(!Scopes::anonymous_default().grants(Scope::History));
    }
}
