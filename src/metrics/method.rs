//! The methods calls are counted under: a fixed list, so no client can
//! grow the label set by calling made-up paths.

use prometheus_client::encoding::EncodeLabelSet;

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
