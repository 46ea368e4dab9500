//! The scope map: what a call on each RPC path needs.
//!
//! The map is closed: a path it does not name is refused
//! ([`Requirement::Denied`]), so a method added to the server is never
//! open by accident.

use super::scopes::Scope;

/// What a call on a path needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requirement {
    /// Anyone, with or without a token, even an invalid one (health: a
    /// probe must never be refused).
    Open,
    /// Any authenticated principal (a valid token or a client
    /// certificate) when tokens are configured; anyone otherwise
    /// (reflection).
    Authenticated,
    /// A principal whose scopes grant this scope.
    Scope(Scope),
    /// Nobody: the path is not in the scope map.
    Denied,
}

/// The gRPC path prefix of PasswordService.
const PASSWORD_SERVICE: &str = "/giropops.v1.PasswordService/";
/// The gRPC path prefix of the health service.
const HEALTH_SERVICE: &str = "/grpc.health.v1.Health/";
/// The reflection paths, v1 and v1alpha.
const REFLECTION: [&str; 2] = [
    "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
    "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
];

/// The scope map: what a call on `path` (`/package.Service/Method`) needs.
///
/// Every PasswordService method needs one scope (ListPasswords needs
/// `history`; its handler decides own vs everyone's from the principal's
/// `history:all`); health is open; reflection needs authentication when
/// tokens are configured; anything else is [`Requirement::Denied`].
pub fn requirement(path: &str) -> Requirement {
    if let Some(method) = path.strip_prefix(PASSWORD_SERVICE) {
        return match method {
            // A caller with policy scopes only reaches these too: the
            // handler then requires a policy it names.
            "GeneratePassword" | "GeneratePassphrase" | "StreamPasswords" | "ListPolicies" => {
                Requirement::Scope(Scope::Generate)
            }
            // Policy scopes alone reach it too; its handler requires
            // `generate` itself (an API key is no policy's).
            "GenerateToken" => Requirement::Scope(Scope::Generate),
            "CheckPassword" | "CheckToken" => Requirement::Scope(Scope::Check),
            "ListPasswords" => Requirement::Scope(Scope::History),
            _ => Requirement::Denied,
        };
    }
    if let Some(method) = path.strip_prefix(HEALTH_SERVICE) {
        // Any method of the health service, but only one path segment.
        return if !method.is_empty() && !method.contains('/') {
            Requirement::Open
        } else {
            Requirement::Denied
        };
    }
    if REFLECTION.contains(&path) {
        return Requirement::Authenticated;
    }
    Requirement::Denied
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scope_map() {
        let service = "/giropops.v1.PasswordService/";
        for (method, scope) in [
            ("GeneratePassword", Scope::Generate),
            ("GeneratePassphrase", Scope::Generate),
            ("StreamPasswords", Scope::Generate),
            ("CheckPassword", Scope::Check),
            ("GenerateToken", Scope::Generate),
            ("CheckToken", Scope::Check),
            ("ListPasswords", Scope::History),
        ] {
            assert_eq!(
                requirement(&format!("{service}{method}")),
                Requirement::Scope(scope)
            );
        }
        for method in ["Check", "Watch", "List"] {
            assert_eq!(
                requirement(&format!("/grpc.health.v1.Health/{method}")),
                Requirement::Open
            );
        }
        for path in REFLECTION {
            assert_eq!(requirement(path), Requirement::Authenticated);
        }
        for path in [
            "",
            "/",
            "/giropops.v1.PasswordService/",
            "/giropops.v1.PasswordService/DeleteEverything",
            "/giropops.v1.PasswordService/GeneratePassword/x",
            "/giropops.v1.PasswordService/generatepassword",
            "/giropops.v2.PasswordService/GeneratePassword",
            "giropops.v1.PasswordService/GeneratePassword",
            "/grpc.health.v1.Health/",
            "/grpc.health.v1.Health/Check/x",
            "/grpc.reflection.v1.ServerReflection/Other",
            "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo/",
            "/unknown/unknown",
        ] {
            assert_eq!(requirement(path), Requirement::Denied, "{path:?}");
        }
    }

    #[test]
    fn every_known_method_is_in_the_scope_map() {
        for method in crate::metrics::Method::KNOWN {
            let path = format!("/{}/{}", method.service, method.method);
            assert_ne!(requirement(&path), Requirement::Denied, "{path}");
        }
    }
}
