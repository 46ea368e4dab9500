//! Requests that name a policy (`policy`): the caller's right to it, then
//! the policy's options in place of the request's. Only the per-call fields
//! (`count`, `store`) may be set beside a name; every other one set is a
//! violation, all reported at once.

use std::borrow::Cow;

use tonic::{Request, Response, Status};

use super::error::ApiError;
use super::password_service::PasswordServiceImpl;
use crate::auth::{POLICY_PREFIX, Principal, Scope, is_policy_name};
use crate::generator::FieldViolation;
use crate::policies::{PolicyOptions, PolicySet};
use crate::proto::v1::{
    GeneratePassphraseRequest, GeneratePasswordRequest, GenerateTokenRequest, ListPoliciesRequest,
    ListPoliciesResponse,
};

/// The options a GeneratePassword `request` stands for: its own, or its
/// policy's with its `count` and `store`.
pub(super) fn password_options<'r>(
    policies: &PolicySet,
    principal: &Principal,
    request: &'r GeneratePasswordRequest,
    field: &'static str,
) -> Result<Cow<'r, GeneratePasswordRequest>, ApiError> {
    if request.policy.is_empty() {
        return ad_hoc(principal).map(|()| Cow::Borrowed(request));
    }
    let GeneratePasswordRequest {
        length,
        include_numbers,
        include_special_chars,
        include_lowercase,
        include_uppercase,
        min_lowercase,
        min_uppercase,
        min_digits,
        min_specials,
        exclude_ambiguous,
        exclude_chars,
        special_chars,
        count,
        store,
        policy,
    } = request;
    let set = [
        ("length", *length != 0),
        ("include_numbers", *include_numbers),
        ("include_special_chars", *include_special_chars),
        ("include_lowercase", include_lowercase.is_some()),
        ("include_uppercase", include_uppercase.is_some()),
        ("min_lowercase", *min_lowercase != 0),
        ("min_uppercase", *min_uppercase != 0),
        ("min_digits", *min_digits != 0),
        ("min_specials", *min_specials != 0),
        ("exclude_ambiguous", *exclude_ambiguous),
        ("exclude_chars", !exclude_chars.is_empty()),
        ("special_chars", !special_chars.is_empty()),
    ];
    match named(policies, principal, policy, field, &set)? {
        PolicyOptions::Password(options) => Ok(Cow::Owned(GeneratePasswordRequest {
            count: *count,
            store: *store,
            ..options.clone()
        })),
        other => Err(wrong_kind(field, policy, other)),
    }
}

/// The options a GeneratePassphrase `request` stands for.
pub(super) fn passphrase_options<'r>(
    policies: &PolicySet,
    principal: &Principal,
    request: &'r GeneratePassphraseRequest,
) -> Result<Cow<'r, GeneratePassphraseRequest>, ApiError> {
    if request.policy.is_empty() {
        return ad_hoc(principal).map(|()| Cow::Borrowed(request));
    }
    let GeneratePassphraseRequest {
        word_count,
        separator,
        capitalize,
        include_number,
        store,
        policy,
    } = request;
    let set = [
        ("word_count", *word_count != 0),
        ("separator", separator.is_some()),
        ("capitalize", *capitalize),
        ("include_number", *include_number),
    ];
    match named(policies, principal, policy, "policy", &set)? {
        PolicyOptions::Passphrase(options) => Ok(Cow::Owned(GeneratePassphraseRequest {
            store: *store,
            ..options.clone()
        })),
        other => Err(wrong_kind("policy", policy, other)),
    }
}

/// The options a GenerateToken `request` stands for.
pub(super) fn token_options<'r>(
    policies: &PolicySet,
    principal: &Principal,
    request: &'r GenerateTokenRequest,
) -> Result<Cow<'r, GenerateTokenRequest>, ApiError> {
    if request.policy.is_empty() {
        return ad_hoc(principal).map(|()| Cow::Borrowed(request));
    }
    let GenerateTokenRequest {
        bits,
        prefix,
        format,
        policy,
    } = request;
    let set = [
        ("bits", *bits != 0),
        ("prefix", !prefix.is_empty()),
        ("format", *format != 0),
    ];
    match named(policies, principal, policy, "policy", &set)? {
        PolicyOptions::Token(options) => Ok(Cow::Owned(options.clone())),
        other => Err(wrong_kind("policy", policy, other)),
    }
}

/// Options spelled out need `generate` itself: policy scopes allow only
/// their policies.
fn ad_hoc(principal: &Principal) -> Result<(), ApiError> {
    if principal.scopes.contains(Scope::Generate) {
        return Ok(());
    }
    let names: Vec<&str> = principal.scopes.policies().iter().map(|n| &**n).collect();
    Err(ApiError::PermissionDenied(format!(
        "{principal} may generate only with a named policy ({}): set `policy` to one of them, \
         or use a token with the `generate` scope",
        names.join(", ")
    )))
}

/// The policy `name`, once the caller may use it and set no option of its
/// own (`set`: each option field and whether the request sets it).
fn named<'p>(
    policies: &'p PolicySet,
    principal: &Principal,
    name: &str,
    field: &'static str,
    set: &[(&'static str, bool)],
) -> Result<&'p PolicyOptions, ApiError> {
    if !is_policy_name(name) {
        return Err(ApiError::InvalidArgument(vec![FieldViolation::new(
            field,
            format!(
                "{field}: not a policy name (1 to 64 of a-z, 0-9, '-', '_' and '.'); ListPolicies lists them"
            ),
        )]));
    }
    // The right first: a caller learns nothing of policies it may not use.
    if !principal.scopes.may_use_policy(name) {
        return Err(ApiError::PermissionDenied(format!(
            "the policy {name:?} needs the scope `{POLICY_PREFIX}{name}` or `generate`; {principal} has {}",
            principal.scopes
        )));
    }
    let prefix = field.strip_suffix("policy").unwrap_or_default();
    let mut violations: Vec<FieldViolation> = set
        .iter()
        .filter(|(_, is_set)| *is_set)
        .map(|(option, _)| {
            FieldViolation::new(
                option,
                format!(
                    "{prefix}{option}: set by the policy {name:?}: beside `policy`, only count and store may be set"
                ),
            )
        })
        .collect();
    let Some(options) = policies.get(name) else {
        violations.insert(
            0,
            FieldViolation::new(
                field,
                format!(
                    "{field}: no policy named {name:?} on this server (ListPolicies lists them)"
                ),
            ),
        );
        return Err(ApiError::InvalidArgument(violations));
    };
    if violations.is_empty() {
        Ok(options)
    } else {
        Err(ApiError::InvalidArgument(violations))
    }
}

/// A policy of another kind than the call makes.
fn wrong_kind(field: &'static str, name: &str, found: &PolicyOptions) -> ApiError {
    let (kind, method) = match found {
        PolicyOptions::Password(_) => ("password", "GeneratePassword"),
        PolicyOptions::Passphrase(_) => ("passphrase", "GeneratePassphrase"),
        PolicyOptions::Token(_) => ("token", "GenerateToken"),
    };
    ApiError::InvalidArgument(vec![FieldViolation::new(
        field,
        format!("{field}: {name:?} is a {kind} policy: call {method}"),
    )])
}

impl PasswordServiceImpl {
    /// ListPolicies: the policies the caller may use.
    pub(super) async fn list_policies(
        &self,
        request: Request<ListPoliciesRequest>,
    ) -> Result<Response<ListPoliciesResponse>, Status> {
        let principal = super::caller(&request);
        let ListPoliciesRequest {} = request.into_inner();
        Ok(Response::new(ListPoliciesResponse {
            policies: self.policies().current().visible_to(&principal.scopes),
        }))
    }
}
