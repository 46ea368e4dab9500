//! The label sets of every metric: only values from fixed lists or from
//! the configuration, never from a request.

use std::sync::Arc;

use prometheus_client::encoding::{EncodeLabelSet, LabelSetEncoder};

/// A gRPC method, as metric labels: only names from [`Method::KNOWN`],
/// so a client cannot create label values by calling made-up paths.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Method {
    /// The full service name, e.g. `giropops.v1.PasswordService`.
    pub service: &'static str,
    /// The method name, e.g. `GeneratePassword`.
    pub method: &'static str,
}

/// `giropops.v1.PasswordService`.
const PASSWORD_SERVICE: &str = "giropops.v1.PasswordService";

impl Method {
    /// Every method served on the gRPC port.
    pub const KNOWN: &[Method] = &[
        Method::new(PASSWORD_SERVICE, "GeneratePassword"),
        Method::new(PASSWORD_SERVICE, "GeneratePassphrase"),
        Method::new(PASSWORD_SERVICE, "ListPasswords"),
        Method::new(PASSWORD_SERVICE, "CheckPassword"),
        Method::new(PASSWORD_SERVICE, "StreamPasswords"),
        Method::new(PASSWORD_SERVICE, "ListPolicies"),
        Method::new(PASSWORD_SERVICE, "GenerateToken"),
        Method::new(PASSWORD_SERVICE, "CheckToken"),
        Method::new("grpc.health.v1.Health", "Check"),
        Method::new("grpc.health.v1.Health", "Watch"),
        Method::new("grpc.health.v1.Health", "List"),
        Method::new(
            "grpc.reflection.v1.ServerReflection",
            "ServerReflectionInfo",
        ),
        Method::new(
            "grpc.reflection.v1alpha.ServerReflection",
            "ServerReflectionInfo",
        ),
    ];

    /// Any path not in [`Method::KNOWN`].
    pub const UNKNOWN: Method = Method::new("unknown", "unknown");

    pub(super) const fn new(service: &'static str, method: &'static str) -> Method {
        Method { service, method }
    }

    /// The method a request path (`/service/method`) names.
    pub fn from_path(path: &str) -> Method {
        let Some((service, method)) = path.strip_prefix('/').and_then(|p| p.split_once('/')) else {
            return Method::UNKNOWN;
        };
        Method::KNOWN
            .iter()
            .find(|known| known.service == service && known.method == method)
            .copied()
            .unwrap_or(Method::UNKNOWN)
    }
}

/// The `principal` label of a call (`--metrics-principal-label`): who
/// called, from a set the configuration bounds, whatever callers send.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub enum PrincipalLabel {
    /// A principal the configuration names: a token's name in the tokens
    /// file, a SAN listed in the client scopes file, or `anonymous`.
    Named(Arc<str>),
    /// A certificate principal the current configuration does not name
    /// (defensive: a certificate none of whose SANs is listed is already
    /// `anonymous`).
    Other,
    /// No principal (`-`, as in the per-call log line): the call was
    /// refused by the auth layer (`UNAUTHENTICATED`, `PERMISSION_DENIED`),
    /// or needs no one (a health check without a client certificate).
    NoPrincipal,
}

impl PrincipalLabel {
    /// The label value of [`PrincipalLabel::Other`].
    pub const OTHER: &'static str = "other";
    /// The label value of [`PrincipalLabel::NoPrincipal`].
    pub const NO_PRINCIPAL: &'static str = "-";

    /// The label value.
    pub fn as_str(&self) -> &str {
        match self {
            PrincipalLabel::Named(name) => name,
            PrincipalLabel::Other => PrincipalLabel::OTHER,
            PrincipalLabel::NoPrincipal => PrincipalLabel::NO_PRINCIPAL,
        }
    }
}

/// `principal="…"`, or no label at all (not an empty one) when the
/// principal label is off: series and dashboards stay as without it.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub(super) struct PrincipalLabels(pub(super) Option<PrincipalLabel>);

impl EncodeLabelSet for PrincipalLabels {
    fn encode(&self, encoder: &mut LabelSetEncoder) -> Result<(), std::fmt::Error> {
        match &self.0 {
            Some(principal) => [("principal", principal.as_str())].encode(encoder),
            None => Ok(()),
        }
    }
}

/// What a finished call is counted under.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct CallLabels {
    pub(super) service: &'static str,
    pub(super) method: &'static str,
    pub(super) code: &'static str,
    pub(super) protocol: &'static str,
    #[prometheus(flatten)]
    pub(super) principal: PrincipalLabels,
}

/// What a finished call's latency is observed under.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct LatencyLabels {
    #[prometheus(flatten)]
    pub(super) method: Method,
    #[prometheus(flatten)]
    pub(super) principal: PrincipalLabels,
}

/// What kind of secret was generated.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct KindLabels {
    pub(super) kind: &'static str,
}

/// A kind of generated secret.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecretKind {
    /// From GeneratePassword or StreamPasswords.
    Password,
    /// From GeneratePassphrase.
    Passphrase,
    /// From GenerateToken (an API key; not in `senha_gerada`, the
    /// original's count of passwords).
    Token,
}

/// How a history write ended.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct OutcomeLabels {
    pub(super) outcome: &'static str,
}

/// The files `src/reload.rs` reloads, as it names them.
pub(super) const RELOADED_FILES: [&str; 7] = [
    "tokens",
    "tls_cert",
    "tls_key",
    "tls_client_ca",
    "tls_client_scopes",
    "history_keys",
    "policies",
];

/// Which reloadable file failed to load.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct FileLabels {
    pub(super) file: &'static str,
}

/// Why a history entry was not returned.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct ReasonLabels {
    pub(super) reason: &'static str,
}
