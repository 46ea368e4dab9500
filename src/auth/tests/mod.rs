//! The decision for every scope × every path, and the layer as a tower
//! service over a trivial inner service.

use std::convert::Infallible;

use http::{HeaderMap, HeaderValue};
use tonic::Code;
use tower::{Layer, ServiceExt, service_fn};

use super::*;
use crate::accept::ConnectionInfo;
use crate::layers::grpc::status_code;
use crate::tls::ClientScopes;

const SERVICE: &str = "/giropops.v1.PasswordService/";
const GENERATE_PATHS: [&str; 4] = [
    "GeneratePassword",
    "GeneratePassphrase",
    "StreamPasswords",
    "GenerateToken",
];
const REFLECTION_PATHS: [&str; 2] = [
    "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
    "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
];
const HEALTH_PATHS: [&str; 3] = [
    "/grpc.health.v1.Health/Check",
    "/grpc.health.v1.Health/Watch",
    "/grpc.health.v1.Health/List",
];
const UNKNOWN_PATHS: [&str; 4] = [
    "/giropops.v1.PasswordService/DeletePasswords",
    "/giropops.v1.Admin/Shutdown",
    "/",
    "/grpc.reflection.v1.ServerReflection/Other",
];

/// Tokens of every single scope, none, and all, and their table.
struct Fixture {
    tokens: Vec<(&'static str, String)>,
    table: TokenTable,
}

impl Fixture {
    fn new() -> Fixture {
        let mut tokens = Vec::new();
        let mut lines = Vec::new();
        for (name, scopes) in [
            ("gen", "generate"),
            ("chk", "check"),
            ("hist", "history"),
            ("histall", "history:all"),
            ("nothing", "none"),
            ("everything", "all"),
        ] {
            let (token, digest) = new_token();
            lines.push(format_line(name, Scopes::parse(scopes).unwrap(), &digest).unwrap());
            tokens.push((name, token));
        }
        let table = TokenTable::parse(&lines.join("\n")).unwrap();
        Fixture { tokens, table }
    }

    fn token(&self, name: &str) -> &str {
        &self.tokens.iter().find(|(n, _)| *n == name).unwrap().1
    }
}

fn bearer(token: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(
        "authorization",
        HeaderValue::from_str(&format!("Bearer {token}")).unwrap(),
    );
    headers
}

/// The code a call gets: `Code::Ok` when allowed.
fn code(result: &Result<Option<Principal>, Status>) -> Code {
    match result {
        Ok(_) => Code::Ok,
        Err(status) => status.code(),
    }
}

/// The token names allowed on each PasswordService method.
fn allowed_tokens(method: &str) -> &'static [&'static str] {
    match method {
        "GeneratePassword" | "GeneratePassphrase" | "StreamPasswords" | "GenerateToken" => {
            &["gen", "everything"]
        }
        "CheckPassword" | "CheckToken" => &["chk", "everything"],
        "ListPasswords" => &["hist", "histall", "everything"],
        _ => unreachable!(),
    }
}

fn password_methods() -> impl Iterator<Item = &'static str> {
    GENERATE_PATHS
        .into_iter()
        .chain(["CheckPassword", "CheckToken", "ListPasswords"])
}

mod authorize;
mod layer;
mod principals;
