//! Named policies: the policies file (`--policies-file`), so that callers
//! ask for `db-password` and one place holds its rules.
//!
//! The file is a `giropops.v1.ListPoliciesResponse` in JSON, proto3's
//! mapping, as Connect speaks it (read by the contract's own descriptors:
//! nothing here is written per field):
//!
//! ```json
//! {"policies": [
//!   {"name": "db-password", "description": "Database users",
//!    "password": {"length": 32, "minDigits": 2, "excludeChars": "\"'\\\\"}},
//!   {"name": "recovery", "passphrase": {"wordCount": 8}}
//! ]}
//! ```
//!
//! Every policy is validated when the file is loaded, all problems at once:
//! a valid name, each once, at most [`MAX_POLICIES`]; one kind of options;
//! no `count`, `store` or `policy` inside them; options the generator
//! accepts. A file that breaks any rule is refused whole; on a reload the
//! previous set stays (like the tokens file, see `reload`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arc_swap::ArcSwap;
use prost::Message;

use crate::auth::{MAX_POLICY_NAME, Scopes, is_policy_name};
use crate::gateway::Codec;
use crate::generator::{
    PassphraseOptions, PassphrasePolicy, PasswordOptions, PasswordPolicy, TokenPolicy,
};
use crate::proto::v1::policy::Options;
use crate::proto::v1::{
    GeneratePassphraseRequest, GeneratePasswordRequest, GenerateTokenRequest, ListPoliciesResponse,
    Policy,
};

/// Most policies in one file.
pub const MAX_POLICIES: usize = 256;
/// Largest policies file read, in bytes.
pub const MAX_FILE_BYTES: u64 = 1 << 20;
/// Longest description, in bytes.
pub const MAX_DESCRIPTION_BYTES: usize = 256;

/// Why a policies file was refused: every problem found, in file order.
#[derive(Debug, thiserror::Error)]
#[error("policies file {}: {}", path.display(), problems.join("; "))]
pub struct PoliciesError {
    /// The file.
    pub path: PathBuf,
    /// What is wrong, one entry per problem.
    pub problems: Vec<String>,
}

/// What a named policy generates, validated.
#[derive(Debug, Clone)]
pub enum PolicyOptions {
    /// GeneratePassword's options (count, store and policy unset).
    Password(GeneratePasswordRequest),
    /// GeneratePassphrase's options (store and policy unset).
    Passphrase(GeneratePassphraseRequest),
    /// GenerateToken's options (policy unset).
    Token(GenerateTokenRequest),
}

/// A validated set of policies, by name.
#[derive(Debug, Clone, Default)]
pub struct PolicySet {
    by_name: BTreeMap<String, (Policy, PolicyOptions)>,
}

impl PolicySet {
    /// Reads and validates the file at `path`.
    pub fn load(path: &Path) -> Result<PolicySet, PoliciesError> {
        let refused = |problem: String| PoliciesError {
            path: path.to_owned(),
            problems: vec![problem],
        };
        let file = std::fs::File::open(path).map_err(|e| refused(format!("cannot open: {e}")))?;
        let mut json = Vec::new();
        std::io::Read::read_to_end(
            &mut std::io::Read::take(file, MAX_FILE_BYTES + 1),
            &mut json,
        )
        .map_err(|e| refused(format!("cannot read: {e}")))?;
        if json.len() as u64 > MAX_FILE_BYTES {
            return Err(refused(format!("larger than {MAX_FILE_BYTES} bytes")));
        }
        PolicySet::parse(&json).map_err(|problems| PoliciesError {
            path: path.to_owned(),
            problems,
        })
    }

    /// Validates a policies document (JSON), every problem at once.
    pub fn parse(json: &[u8]) -> Result<PolicySet, Vec<String>> {
        let codec = Codec::new();
        let descriptor = codec
            .message_descriptor("giropops.v1.ListPoliciesResponse")
            .expect("the contract defines ListPoliciesResponse");
        let bytes = codec
            .json_to_proto(&descriptor, json)
            .map_err(|error| vec![format!("not a ListPoliciesResponse in JSON: {error}")])?;
        let document = ListPoliciesResponse::decode(bytes.as_slice())
            .map_err(|error| vec![format!("not a ListPoliciesResponse: {error}")])?;
        let ListPoliciesResponse { policies } = document;
        let mut problems = Vec::new();
        if policies.len() > MAX_POLICIES {
            problems.push(format!(
                "{} policies: at most {MAX_POLICIES}",
                policies.len()
            ));
        }
        let mut by_name = BTreeMap::new();
        for (index, policy) in policies.into_iter().enumerate() {
            match validate(policy) {
                Ok((policy, options)) => {
                    let name = policy.name.clone();
                    if by_name.insert(name.clone(), (policy, options)).is_some() {
                        problems.push(format!("policy {name:?} is defined twice"));
                    }
                }
                Err(found) => problems.extend(
                    found
                        .into_iter()
                        .map(|problem| format!("policies[{index}]: {problem}")),
                ),
            }
        }
        if problems.is_empty() {
            Ok(PolicySet { by_name })
        } else {
            Err(problems)
        }
    }

    /// The policy named `name`, if any.
    pub fn get(&self, name: &str) -> Option<&PolicyOptions> {
        self.by_name.get(name).map(|(_, options)| options)
    }

    /// The policies `scopes` may use, sorted by name, with their strength.
    pub fn visible_to(&self, scopes: &Scopes) -> Vec<Policy> {
        self.by_name
            .iter()
            .filter(|(name, _)| scopes.may_use_policy(name))
            .map(|(_, (policy, _))| policy.clone())
            .collect()
    }

    /// How many policies there are.
    pub fn len(&self) -> usize {
        self.by_name.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }
}

/// One policy checked, with its strength filled in; or what is wrong.
fn validate(policy: Policy) -> Result<(Policy, PolicyOptions), Vec<String>> {
    let Policy {
        name,
        description,
        options,
        entropy_bits: _,
    } = policy;
    let mut problems = Vec::new();
    let label = if is_policy_name(&name) {
        format!("policy {name:?}")
    } else {
        problems.push(format!(
            "name: 1 to {MAX_POLICY_NAME} of a-z, 0-9, '-', '_' and '.', starting with a letter or digit"
        ));
        "policy".to_owned()
    };
    if description.len() > MAX_DESCRIPTION_BYTES {
        problems.push(format!(
            "{label}: description: at most {MAX_DESCRIPTION_BYTES} bytes"
        ));
    }
    let checked = match options {
        None => {
            problems.push(format!(
                "{label}: no options: give \"password\", \"passphrase\" or \"token\""
            ));
            None
        }
        Some(Options::Password(request)) => {
            let GeneratePasswordRequest {
                count,
                store,
                policy,
                ..
            } = &request;
            let inner = [
                (
                    *count != 0,
                    "password.count: not in a policy (each call chooses it)",
                ),
                (
                    store.is_some(),
                    "password.store: not in a policy (each call chooses it)",
                ),
                (
                    !policy.is_empty(),
                    "password.policy: a policy cannot name another",
                ),
            ];
            let domain = PasswordPolicy::new(PasswordOptions::from(&request))
                .map(|domain| domain.entropy_bits());
            judged(&label, "password", &inner, domain, &mut problems)
                .map(|bits| (bits, PolicyOptions::Password(request)))
        }
        Some(Options::Passphrase(request)) => {
            let GeneratePassphraseRequest { store, policy, .. } = &request;
            let inner = [
                (
                    store.is_some(),
                    "passphrase.store: not in a policy (each call chooses it)",
                ),
                (
                    !policy.is_empty(),
                    "passphrase.policy: a policy cannot name another",
                ),
            ];
            let domain = PassphrasePolicy::new(PassphraseOptions::from(&request))
                .map(|domain| domain.entropy_bits());
            judged(&label, "passphrase", &inner, domain, &mut problems)
                .map(|bits| (bits, PolicyOptions::Passphrase(request)))
        }
        Some(Options::Token(request)) => {
            let inner = [(
                !request.policy.is_empty(),
                "token.policy: a policy cannot name another",
            )];
            let (options, mut violations) = crate::grpc::token_options(&request);
            let domain = match TokenPolicy::new(options) {
                Ok(domain) if violations.is_empty() => Ok(domain.entropy_bits()),
                Ok(_) => Err(violations),
                Err(found) => {
                    violations.extend(found);
                    Err(violations)
                }
            };
            judged(&label, "token", &inner, domain, &mut problems)
                .map(|bits| (bits, PolicyOptions::Token(request)))
        }
    };
    match checked {
        Some((entropy_bits, options)) if problems.is_empty() => {
            let message = Policy {
                name,
                description,
                options: Some(match &options {
                    PolicyOptions::Password(request) => Options::Password(request.clone()),
                    PolicyOptions::Passphrase(request) => Options::Passphrase(request.clone()),
                    PolicyOptions::Token(request) => Options::Token(request.clone()),
                }),
                entropy_bits,
            };
            Ok((message, options))
        }
        _ => Err(problems),
    }
}

/// The strength of a policy's options, or `None` with what is wrong added
/// to `problems`: the fields a policy may not hold (`inner`: set, and why)
/// and the generator's violations, under `kind` (`password.length: …`).
fn judged(
    label: &str,
    kind: &str,
    inner: &[(bool, &str)],
    domain: Result<f64, Vec<crate::generator::FieldViolation>>,
    problems: &mut Vec<String>,
) -> Option<f64> {
    let before = problems.len();
    problems.extend(
        inner
            .iter()
            .filter(|(set, _)| *set)
            .map(|(_, why)| format!("{label}: {why}")),
    );
    match domain {
        Ok(bits) if problems.len() == before => Some(bits),
        Ok(_) => None,
        Err(violations) => {
            problems.extend(
                violations
                    .into_iter()
                    .map(|v| format!("{label}: {kind}.{}: {}", v.field, v.description)),
            );
            None
        }
    }
}

/// The current policies, shared by the service and the reloader; cheap to
/// clone.
#[derive(Debug, Clone, Default)]
pub struct Policies(Arc<ArcSwap<PolicySet>>);

impl Policies {
    /// Policies starting as `set`.
    pub fn new(set: PolicySet) -> Policies {
        Policies(Arc::new(ArcSwap::from_pointee(set)))
    }

    /// The set as of now.
    pub fn current(&self) -> Arc<PolicySet> {
        self.0.load_full()
    }

    /// Replaces the set (a reload that loaded completely).
    pub fn replace(&self, set: PolicySet) {
        self.0.store(Arc::new(set));
    }
}

#[cfg(test)]
mod tests;
