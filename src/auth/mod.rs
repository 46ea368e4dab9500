//! Authentication and authorization (the trust issue): who is calling
//! ([`Principal`]), what they may do ([`Scopes`]), and the decision for each
//! call ([`Authenticator::authorize`]), applied by the tower layer
//! [`AuthLayer`].
//!
//! - [`tokens`]: bearer tokens (`gps_` + 43 base64url characters, 256
//!   random bits), their SHA-256 digests, and the tokens file
//!   (`--auth-tokens-file`: `NAME SCOPES SHA256_HEX_OF_TOKEN` per line).
//! - [`scopes`]: the scopes (`generate`, `check`, `history`,
//!   `history:all`) and the scope map, RPC path → what it needs.
//! - [`layer`]: the tower layer, which reads `authorization: Bearer …` and
//!   puts the caller's [`Principal`] in the request's extensions, where a
//!   handler finds it with `request.extensions().get::<Principal>()`.
//!
//! The rules, for a call on a path:
//! 1. Health is always open; a path not in the scope map is always
//!    refused, `UNIMPLEMENTED` (no such method).
//! 2. The caller is the token's principal when the call carries a bearer
//!    token (a token wins over a client certificate); a malformed or
//!    unknown token is `UNAUTHENTICATED`, never anonymous. Without a token,
//!    the caller is its client certificate's principal when the connection
//!    is mutual TLS ([`Authenticator::certificate_principal`]: named by a
//!    SAN, with the scopes the client scopes file grants it, or the
//!    anonymous scopes when it lists none of its SANs), else anonymous,
//!    with `--anonymous-scopes`.
//! 3. Reflection needs a token or a certificate when tokens are
//!    configured; anyone may use it otherwise.
//! 4. A PasswordService method needs its scope: without it, an anonymous
//!    caller is `UNAUTHENTICATED` (a token is the fix) when tokens are
//!    configured, and anyone else `PERMISSION_DENIED`, naming the scope.
//!
//! Tokens are never logged, nor echoed in errors; principal names are.

pub mod layer;
pub mod scope_map;
pub mod scopes;
pub mod tokens;

use std::fmt;
use std::sync::Arc;

use arc_swap::ArcSwap;
use http::HeaderMap;
use http::header::AUTHORIZATION;
use tonic::Status;

use crate::metrics::PrincipalLabel;
use crate::tls::{ClientSan, ClientScopes};

pub use layer::{Auth, AuthFuture, AuthLayer};
pub use scope_map::{Requirement, requirement};
pub use scopes::{MAX_POLICY_NAME, POLICY_PREFIX, Scope, Scopes, ScopesError, is_policy_name};
pub use tokens::{TokenError, TokenTable, format_line, new_token};

/// How a principal proved who it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PrincipalKind {
    /// It did not: a call without a token nor a client certificate.
    Anonymous,
    /// A bearer token from the tokens file.
    Token,
    /// A verified client certificate (mutual TLS), named by its SAN
    /// ([`Authenticator::certificate_principal`]).
    Certificate,
}

impl PrincipalKind {
    /// How messages name a principal of this kind: `anonymous`, `token`,
    /// `certificate`.
    pub const fn noun(self) -> &'static str {
        match self {
            PrincipalKind::Anonymous => "anonymous",
            PrincipalKind::Token => "token",
            PrincipalKind::Certificate => "certificate",
        }
    }
}

/// Who is calling, and what they may do. In a handler:
/// `request.extensions().get::<Principal>()`. Cheap to clone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The token's name in the tokens file, the certificate's identity, or
    /// [`Principal::ANONYMOUS`]. The owner of the caller's history.
    pub name: Arc<str>,
    /// What it may do.
    pub scopes: Scopes,
    /// How it proved who it is.
    pub kind: PrincipalKind,
}

impl Principal {
    /// The name of callers without a token nor a certificate (reserved: no
    /// token may have it).
    pub const ANONYMOUS: &'static str = "anonymous";

    /// A name no principal may have: the history keeps its set of
    /// principals at `{HISTORY_KEY}:principals`, beside the lists
    /// `{HISTORY_KEY}:<principal>`.
    pub const RESERVED_PRINCIPALS: &'static str = "principals";
    /// The name of the history's hash of each list's last entry number.
    pub const RESERVED_SEQUENCES: &'static str = "sequences";

    /// The names no source of principals may give (tokens file, client
    /// scopes file, any later one), each with why. Matched whatever the
    /// case: DNS SANs are lowercased before they name a principal, so
    /// `ANONYMOUS` in a scopes file would be the anonymous callers.
    pub const RESERVED_NAMES: &'static [(&'static str, &'static str)] = &[
        (
            Principal::ANONYMOUS,
            "the name `anonymous` is reserved for callers without a token or certificate",
        ),
        (
            Principal::RESERVED_PRINCIPALS,
            "the name `principals` is reserved (the history's set of principals)",
        ),
        (
            Principal::RESERVED_SEQUENCES,
            "the name `sequences` is reserved (the history's hash of entry numbers)",
        ),
    ];

    /// Why `name` may not name a principal, if it is reserved (any case);
    /// never echoes `name`. The one rule every source of principals applies.
    pub fn reserved(name: &str) -> Option<&'static str> {
        Principal::RESERVED_NAMES
            .iter()
            .find(|(reserved, _)| name.eq_ignore_ascii_case(reserved))
            .map(|&(_, why)| why)
    }

    /// The principal of callers without a token, with `scopes`
    /// (`--anonymous-scopes`).
    pub fn anonymous(scopes: Scopes) -> Principal {
        Principal {
            name: Arc::from(Principal::ANONYMOUS),
            scopes,
            kind: PrincipalKind::Anonymous,
        }
    }

    /// The principal of a client certificate named `name` (its SAN), with
    /// `scopes`.
    pub fn certificate(name: impl Into<Arc<str>>, scopes: Scopes) -> Principal {
        Principal {
            name: name.into(),
            scopes,
            kind: PrincipalKind::Certificate,
        }
    }

    /// Whether this is the anonymous principal.
    pub fn is_anonymous(&self) -> bool {
        self.kind == PrincipalKind::Anonymous
    }
}

impl fmt::Display for Principal {
    /// `token `ci``, `certificate `host.example``, `anonymous`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            PrincipalKind::Anonymous => f.write_str(Principal::ANONYMOUS),
            kind => write!(f, "{} `{}`", kind.noun(), self.name),
        }
    }
}

/// The per-call decision: the token table (swapped whole on reload), the
/// anonymous principal, and whether tokens are configured. Cheap to clone:
/// clones share the table.
#[derive(Clone)]
pub struct Authenticator {
    shared: Arc<Shared>,
}

struct Shared {
    tokens: ArcSwap<TokenTable>,
    tokens_configured: bool,
    anonymous: Principal,
    /// The client scopes file (`--tls-client-scopes`): SAN → scopes.
    client_scopes: ArcSwap<ClientScopes>,
}

impl fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authenticator")
            .field("tokens", &self.shared.tokens.load().len())
            .field("tokens_configured", &self.shared.tokens_configured)
            .field("anonymous_scopes", &self.shared.anonymous.scopes)
            .field("client_sans", &self.shared.client_scopes.load().len())
            .finish()
    }
}

/// The hint every "no token" refusal carries.
const SEND_A_TOKEN: &str = "send authorization: Bearer gps_…";

impl Authenticator {
    /// An authenticator with `tokens` (`None` without `--auth-tokens-file`)
    /// and `anonymous_scopes` (`--anonymous-scopes`, by default
    /// [`Scopes::anonymous_default`]) for callers without a token.
    pub fn new(tokens: Option<TokenTable>, anonymous_scopes: Scopes) -> Authenticator {
        let tokens_configured = tokens.is_some();
        Authenticator {
            shared: Arc::new(Shared {
                tokens: ArcSwap::from_pointee(tokens.unwrap_or_default()),
                tokens_configured,
                anonymous: Principal::anonymous(anonymous_scopes),
                client_scopes: ArcSwap::from_pointee(ClientScopes::default()),
            }),
        }
    }

    /// Replaces the client scopes (SAN → scopes, `--tls-client-scopes`) at
    /// once, for every clone; live connections see them on their next
    /// call. Empty until first set: every client certificate then gets the
    /// anonymous scopes.
    pub fn reload_client_scopes(&self, scopes: ClientScopes) {
        self.shared.client_scopes.store(Arc::new(scopes));
    }

    /// The principal of a verified client certificate with `sans` (its DNS
    /// and URI SANs, in the certificate's order), from the current client
    /// scopes:
    ///
    /// - the first SAN the client scopes file lists names it, with the
    ///   scopes of that line;
    /// - a certificate none of whose SANs is listed, or without any DNS or
    ///   URI SAN, is the anonymous principal: the file grants it nothing,
    ///   and a name it chose itself must never own a history (a DNS SAN
    ///   `ci` would otherwise read the `ci` token's).
    pub fn certificate_principal(&self, sans: &[ClientSan]) -> Principal {
        let scopes = self.shared.client_scopes.load();
        match scopes.for_peer(sans) {
            // The file's scope words were checked when it was loaded.
            Some((san, granted)) => Principal::certificate(
                san.as_str(),
                granted.iter().fold(Scopes::none(), |scopes, word| {
                    match (word.strip_prefix(POLICY_PREFIX), Scope::from_name(word)) {
                        (Some(policy), _) => scopes.with_policy(policy),
                        (None, Some(scope)) => scopes.with(scope),
                        (None, None) => scopes,
                    }
                }),
            ),
            None => self.shared.anonymous.clone(),
        }
    }

    /// The `principal` metric label of a call whose caller is `principal`
    /// (`None`: refused, or on an open path), from the current tables, so
    /// the label set stays as bounded as the configuration whatever callers
    /// present:
    ///
    /// - a token's principal and the anonymous one are named (token names
    ///   come only from the tokens file, current or just replaced);
    /// - a certificate's principal is named when the current client scopes
    ///   file lists its name, and is [`PrincipalLabel::Other`] otherwise
    ///   (defensive: an unlisted certificate is already anonymous);
    /// - no principal is [`PrincipalLabel::NoPrincipal`].
    pub fn principal_label(&self, principal: Option<&Principal>) -> PrincipalLabel {
        let Some(principal) = principal else {
            return PrincipalLabel::NoPrincipal;
        };
        match principal.kind {
            PrincipalKind::Anonymous | PrincipalKind::Token => {
                PrincipalLabel::Named(principal.name.clone())
            }
            PrincipalKind::Certificate => {
                if self.shared.client_scopes.load().lists(&principal.name) {
                    PrincipalLabel::Named(principal.name.clone())
                } else {
                    PrincipalLabel::Other
                }
            }
        }
    }

    /// Replaces the token table at once, for every clone: a call sees the
    /// old table or the new one, never a mix. Whether tokens are
    /// configured (which decides who may use reflection) stays as at
    /// [`Authenticator::new`].
    pub fn reload(&self, tokens: TokenTable) {
        self.shared.tokens.store(Arc::new(tokens));
    }

    /// Whether a tokens file was given.
    pub fn tokens_configured(&self) -> bool {
        self.shared.tokens_configured
    }

    /// How many tokens the current table has.
    pub fn token_count(&self) -> usize {
        self.shared.tokens.load().len()
    }

    /// The principal of callers without a token.
    pub fn anonymous(&self) -> &Principal {
        &self.shared.anonymous
    }

    /// The principal of `token`, from the current table (malformed tokens
    /// are refused before hashing).
    pub fn authenticate(&self, token: &str) -> Result<Principal, TokenError> {
        self.shared.tokens.load().authenticate(token).cloned()
    }

    /// Decides a call on `path` with request `headers`; `certificate` is
    /// the client certificate's principal on a mutual TLS connection
    /// ([`Authenticator::certificate_principal`]; a principal of another
    /// kind is ignored). A bearer token wins over it.
    ///
    /// `Ok(Some(principal))`: allowed, as `principal`. `Ok(None)`: an
    /// open path (health), no principal needed. `Err`: the status to
    /// answer, `UNAUTHENTICATED` or `PERMISSION_DENIED`.
    pub fn authorize(
        &self,
        path: &str,
        headers: &HeaderMap,
        certificate: Option<&Principal>,
    ) -> Result<Option<Principal>, Status> {
        let needed = requirement(path);
        match needed {
            Requirement::Open => return Ok(None),
            Requirement::Denied => {
                // No such method here: UNIMPLEMENTED, as the router would
                // answer (no caller, token or not, reaches it).
                return Err(Status::unimplemented(
                    "no such method: this server serves giropops.v1.PasswordService, grpc.health.v1.Health and server reflection",
                ));
            }
            Requirement::Authenticated | Requirement::Scope(_) => {}
        }
        let principal = match bearer_token(headers)? {
            Some(token) => self
                .authenticate(token)
                .map_err(|error| Status::unauthenticated(self.token_refusal(error)))?,
            None => match certificate {
                Some(principal) if principal.kind == PrincipalKind::Certificate => {
                    principal.clone()
                }
                _ => self.shared.anonymous.clone(),
            },
        };
        let anonymous_needs_token = principal.is_anonymous() && self.shared.tokens_configured;
        match needed {
            Requirement::Authenticated if anonymous_needs_token => Err(Status::unauthenticated(
                format!("a token is required: {SEND_A_TOKEN}"),
            )),
            Requirement::Scope(scope) if !principal.scopes.reaches(scope) => {
                Err(if anonymous_needs_token {
                    Status::unauthenticated(format!(
                        "a token is required: this call needs the `{scope}` scope, which calls \
                         without a token lack; {SEND_A_TOKEN}"
                    ))
                } else if principal.is_anonymous() {
                    Status::permission_denied(format!(
                        "this call needs the `{scope}` scope; anonymous callers have {} and this \
                         server has no tokens (--auth-tokens-file)",
                        principal.scopes
                    ))
                } else {
                    Status::permission_denied(format!(
                        "this call needs the `{scope}` scope; {principal} has {}",
                        principal.scopes
                    ))
                })
            }
            _ => Ok(Some(principal)),
        }
    }

    /// The message for a refused token.
    fn token_refusal(&self, error: TokenError) -> String {
        match error {
            TokenError::Unknown if !self.shared.tokens_configured => {
                format!("{error} (this server has no tokens configured)")
            }
            _ => error.to_string(),
        }
    }
}

/// The bearer token of `headers`: `Ok(None)` without an `authorization`
/// header; `Err(UNAUTHENTICATED)` when the header is there but is not one
/// `Bearer <token>` (credentials were presented: never anonymous). The
/// scheme is case-insensitive. The token's format is not checked here.
pub fn bearer_token(headers: &HeaderMap) -> Result<Option<&str>, Status> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(Status::unauthenticated(format!(
            "more than one authorization header: {SEND_A_TOKEN}"
        )));
    }
    let malformed =
        || Status::unauthenticated(format!("malformed authorization header: {SEND_A_TOKEN}"));
    let value = value.to_str().map_err(|_| malformed())?.trim();
    let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(Status::unauthenticated(format!(
            "only bearer tokens are accepted: {SEND_A_TOKEN}"
        )));
    }
    let token = token.trim_start_matches(' ');
    if token.is_empty() {
        return Err(malformed());
    }
    Ok(Some(token))
}

#[cfg(test)]
mod tests;
