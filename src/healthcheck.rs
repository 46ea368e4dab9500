//! `giropops-senhas healthcheck`: a grpc.health.v1 probe for containers,
//! which have no shell or grpc_health_probe.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use tonic::transport::Endpoint;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

/// Why a probe did not see SERVING.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// The address is not a valid URI.
    #[error("invalid address {0:?}")]
    Address(String),
    /// No answer within the timeout.
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    /// Could not connect.
    #[error("cannot connect: {0}")]
    Connect(#[from] tonic::transport::Error),
    /// The server answered with an error.
    #[error("check failed: {}: {}", .0.code(), .0.message())]
    Status(#[from] tonic::Status),
}

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
    timeout: Duration,
) -> Result<ServingStatus, ProbeError> {
    let endpoint = Endpoint::from_shared(addr.to_owned())
        .map_err(|_| ProbeError::Address(addr.to_owned()))?
        .connect_timeout(timeout)
        .timeout(timeout);
    let check = async {
        let channel = endpoint.connect().await?;
        let response = HealthClient::new(channel)
            .check(HealthCheckRequest {
                service: service.to_owned(),
            })
            .await?;
        Ok::<_, ProbeError>(response.into_inner().status())
    };
    tokio::time::timeout(timeout, check)
        .await
        .map_err(|_| ProbeError::Timeout(timeout))?
}

#[cfg(test)]
mod tests {
    use super::*;

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
