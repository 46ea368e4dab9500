//! Which wire protocol carried a call. Every protocol on the port (gRPC,
//! gRPC-Web, Connect, the original app's HTTP API, the web page's form) is
//! translated into one gRPC call that crosses the same layer stack; the
//! adapter that translated it inserts its [`Protocol`] into the request's
//! extensions, so metrics and call logs can say which one it was. A request
//! without one arrived as plain gRPC.

/// The protocol a call arrived over (the `protocol` metric label).
#[derive(Clone, Copy, Debug, Default, Hash, PartialEq, Eq)]
pub enum Protocol {
    /// gRPC over HTTP/2 (`application/grpc`).
    #[default]
    Grpc,
    /// gRPC-Web, binary or `-text` (`application/grpc-web*`).
    GrpcWeb,
    /// Connect: unary `application/json` / `application/proto`, streaming
    /// `application/connect+json` / `+proto`.
    Connect,
    /// The original app's HTTP API (`/api/...`) and the web page's form.
    Http,
}

impl Protocol {
    /// Every protocol, in label order.
    pub const ALL: [Protocol; 4] = [
        Protocol::Grpc,
        Protocol::GrpcWeb,
        Protocol::Connect,
        Protocol::Http,
    ];

    /// The label value: `grpc`, `grpc_web`, `connect` or `http`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Protocol::Grpc => "grpc",
            Protocol::GrpcWeb => "grpc_web",
            Protocol::Connect => "connect",
            Protocol::Http => "http",
        }
    }

    /// The protocol recorded in `extensions` (plain gRPC when none is).
    pub fn of(extensions: &http::Extensions) -> Protocol {
        extensions.get::<Protocol>().copied().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::Protocol;

    #[test]
    fn absent_means_grpc_and_labels_are_distinct() {
        assert_eq!(Protocol::of(&http::Extensions::new()), Protocol::Grpc);
        let mut extensions = http::Extensions::new();
        extensions.insert(Protocol::Connect);
        assert_eq!(Protocol::of(&extensions), Protocol::Connect);
        let labels: std::collections::HashSet<_> =
            Protocol::ALL.iter().map(|p| p.as_str()).collect();
        assert_eq!(labels.len(), Protocol::ALL.len());
    }
}
