//! `giropops-senhas healthcheck`: a grpc.health.v1 probe for containers,
//! which have no shell or grpc_health_probe.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use giropops_senhas_client::{ClientOptions, ConnectError, channel_with, code_name, error_chain};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

/// Why a probe did not see SERVING.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// The address is invalid, or nothing answered there.
    #[error(transparent)]
    Connect(#[from] ConnectError),
    /// No answer within the timeout.
    #[error("no answer within {after:?}{}", if *.tls_without_certificate { TIMEOUT_HINT } else { "" })]
    Timeout {
        /// The timeout.
        after: Duration,
        /// Whether the probe used TLS without a client certificate: a
        /// server requiring one may show only as silence.
        tls_without_certificate: bool,
    },
    /// The call failed: the server answered with an error, or the
    /// transport failed before it could.
    #[error("check failed: {}", describe_status(.status, *.tls_without_certificate))]
    Status {
        /// What failed.
        status: tonic::Status,
        /// Whether the probe used TLS without a client certificate.
        tls_without_certificate: bool,
    },
}

/// `CODE: message` of a failed call; when the call failed in the transport
/// (the server never answered it: with TLS 1.3 a server refuses a client
/// certificate after the client thinks the handshake is done), what the
/// transport said, with a hint for the usual TLS refusals.
///
/// `tls_without_certificate` says the caller used TLS without a client
/// certificate: then any failure in the transport says that a server
/// requiring one must be given `--cert` and `--key`, whatever words the
/// transport used (a refusal races the call and shows as "connection
/// closed", "connection was not ready", a reset or silence).
pub fn describe_status(status: &tonic::Status, tls_without_certificate: bool) -> String {
    let code = code_name(status.code());
    if status.code() == tonic::Code::Cancelled && status.message() == "Timeout expired" {
        // tonic's own deadline: the call got no answer at all.
        return format!("{code}: no answer in time{TIMEOUT_HINT}");
    }
    let Some(source) = std::error::Error::source(status) else {
        return format!("{code}: {}", status.message());
    };
    let cause = error_chain(source);
    let mut text = if cause.starts_with(status.message()) {
        format!("{code}: {cause}")
    } else {
        format!("{code}: {}: {cause}", status.message())
    };
    let hint = if cause.contains("CertificateRequired") {
        Some("the server requires a client certificate: pass --cert and --key")
    } else if cause.contains("UnknownCA") || cause.contains("BadCertificate") {
        Some(
            "the server refused the client certificate: is it signed by the server's --tls-client-ca?",
        )
    } else if tls_without_certificate
        || cause.contains("connection closed")
        || cause.contains("connection reset")
    {
        // A client certificate refused by a TLS 1.3 server often shows
        // only as this: the client sent its call before the refusal.
        Some(
            "the server closed the connection: if it requires a client certificate (mutual TLS), pass --cert and --key signed by its CA",
        )
    } else {
        None
    };
    if let Some(hint) = hint {
        text.push_str(" (");
        text.push_str(hint);
        text.push(')');
    }
    text
}

/// What a call that got no answer may mean: a TLS 1.3 server refuses a
/// missing client certificate after the client has sent its call, and the
/// refusal can be lost to a reconnect.
const TIMEOUT_HINT: &str = " (is the server overloaded? If it requires a client certificate \
     (mutual TLS), pass --cert and --key)";

/// The address to probe a server listening on `listen` from the same host:
/// a wildcard address (0.0.0.0, ::) becomes loopback.
pub fn local_addr(listen: SocketAddr) -> String {
    let ip = match listen.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!("http://{}", SocketAddr::new(ip, listen.port()))
}

/// Asks `addr` for the status of `service`, all within `timeout`.
pub async fn probe(
    addr: &str,
    service: &str,
    options: &ClientOptions,
) -> Result<ServingStatus, ProbeError> {
    let timeout = options.timeout.unwrap_or(Duration::from_secs(2));
    let tls_without_certificate = (addr.starts_with("https://") || options.ca_pem.is_some())
        && options.identity_pem.is_none();
    let check = async {
        let response = HealthClient::new(channel_with(addr, options).await?)
            .check(HealthCheckRequest {
                service: service.to_owned(),
            })
            .await
            .map_err(|status| ProbeError::Status {
                status,
                tls_without_certificate,
            })?;
        Ok::<_, ProbeError>(response.into_inner().status())
    };
    tokio::time::timeout(timeout, check)
        .await
        .map_err(|_| ProbeError::Timeout {
            after: timeout,
            tls_without_certificate,
        })?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_call_says_why_and_what_to_do() {
        let refused = tonic::Status::permission_denied("this call needs the `history` scope");
        assert_eq!(
            describe_status(&refused, true),
            "PERMISSION_DENIED: this call needs the `history` scope"
        );
        let transport = |cause: &str| {
            tonic::Status::from_error(Box::new(std::io::Error::other(cause.to_owned())))
        };
        let required = describe_status(
            &transport("connection error: received fatal alert: CertificateRequired"),
            true,
        );
        assert_eq!(
            required,
            "UNKNOWN: connection error: received fatal alert: CertificateRequired (the server \
             requires a client certificate: pass --cert and --key)"
        );
        let unknown_ca = describe_status(&transport("received fatal alert: UnknownCA"), true);
        assert!(unknown_ca.contains("--tls-client-ca"), "{unknown_ca}");
        let closed = describe_status(&transport("connection closed"), false);
        assert!(
            closed.contains("if it requires a client certificate"),
            "{closed}"
        );
        let silent = describe_status(&tonic::Status::cancelled("Timeout expired"), false);
        assert!(
            silent.starts_with("CANCELLED: no answer in time")
                && silent.contains("pass --cert and --key"),
            "{silent}"
        );
        let other = describe_status(&transport("dns error"), false);
        assert_eq!(other, "UNKNOWN: dns error");
        // Over TLS without a certificate, any transport failure hints at it.
        let not_ready = describe_status(
            &transport("operation was canceled: connection was not ready"),
            true,
        );
        assert!(
            not_ready.contains("if it requires a client certificate")
                && not_ready.contains("pass --cert and --key"),
            "{not_ready}"
        );
    }

    #[test]
    fn probes_loopback_at_the_listen_port() {
        assert_eq!(
            local_addr("0.0.0.0:50051".parse().unwrap()),
            "http://127.0.0.1:50051"
        );
        assert_eq!(
            local_addr("[::]:8080".parse().unwrap()),
            "http://[::1]:8080"
        );
        assert_eq!(
            local_addr("10.1.2.3:9000".parse().unwrap()),
            "http://10.1.2.3:9000"
        );
    }
}
