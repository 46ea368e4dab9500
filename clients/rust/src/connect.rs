//! Connecting to a server from an address a person typed.

use std::time::Duration;

use tonic::transport::{Channel, ClientTlsConfig, Endpoint};

use crate::PasswordServiceClient;

/// Why [`connect`] failed. Its `Display` names the address; the underlying
/// cause (refused, DNS, TLS) is its `source`: print the whole chain with
/// [`error_chain`].
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The address is not `host:port`, `http://host:port` or
    /// `https://host:port`.
    #[error("invalid address {addr:?}: expected host:port, http://host:port or https://host:port")]
    InvalidAddress {
        /// What was given.
        addr: String,
        /// What the URI parser said.
        #[source]
        source: tonic::transport::Error,
    },
    /// The server could not be reached (down, refused, TLS failure, …).
    #[error("cannot connect to {addr}")]
    Transport {
        /// The address tried (with its scheme).
        addr: String,
        /// What went wrong, as a chain of causes.
        #[source]
        source: tonic::transport::Error,
    },
}

/// The [`Endpoint`] for `addr`, with `timeout` on connecting and on each
/// call. `host:port` means plaintext (`http://`), as grpcurl's `-plaintext`;
/// `https://` uses TLS with the webpki root certificates.
pub fn endpoint(addr: &str, timeout: Duration) -> Result<Endpoint, ConnectError> {
    let uri = if addr.contains("://") {
        addr.to_owned()
    } else {
        format!("http://{addr}")
    };
    let invalid = |source| ConnectError::InvalidAddress {
        addr: addr.to_owned(),
        source,
    };
    let mut endpoint = Endpoint::from_shared(uri.clone())
        .map_err(invalid)?
        .connect_timeout(timeout)
        .timeout(timeout);
    if uri.starts_with("https://") {
        endpoint = endpoint
            .tls_config(ClientTlsConfig::new().with_webpki_roots())
            .map_err(invalid)?;
    }
    Ok(endpoint)
}

/// A channel to `addr` (`host:port`, `http://host:port` or
/// `https://host:port`), with `timeout` on connecting and on each call: for
/// any service on the server (health, reflection, …).
pub async fn channel(addr: &str, timeout: Duration) -> Result<Channel, ConnectError> {
    let endpoint = endpoint(addr, timeout)?;
    endpoint
        .connect()
        .await
        .map_err(|source| ConnectError::Transport {
            addr: endpoint.uri().to_string(),
            source,
        })
}

/// A PasswordService client for `addr` (see [`channel`]).
pub async fn connect(
    addr: &str,
    timeout: Duration,
) -> Result<PasswordServiceClient<Channel>, ConnectError> {
    Ok(PasswordServiceClient::new(channel(addr, timeout).await?))
}

/// `error` and each of its causes, joined by `": "` — what a person needs
/// to see ("cannot connect to http://127.0.0.1:1/: transport error: tcp
/// connect error: Connection refused (os error 111)").
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(error) = cause {
        let next = error.to_string();
        // Some layers repeat their cause in their own message.
        if !text.ends_with(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        cause = error.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_port_means_plaintext() {
        let plain = endpoint("127.0.0.1:50051", Duration::from_secs(1)).unwrap();
        assert_eq!(plain.uri().to_string(), "http://127.0.0.1:50051/");
        let tls = endpoint("https://senhas.example.com", Duration::from_secs(1)).unwrap();
        assert_eq!(tls.uri().scheme_str(), Some("https"));
    }

    #[test]
    fn a_bad_address_says_what_is_expected() {
        let error = endpoint("http://[::1", Duration::from_secs(1)).unwrap_err();
        assert!(
            error_chain(&error).starts_with("invalid address \"http://[::1\": expected host:port"),
            "{}",
            error_chain(&error)
        );
    }

    #[tokio::test]
    async fn a_refused_connection_shows_its_cause() {
        // A port nothing listens on: bind, read the port, close.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let error = connect(&format!("127.0.0.1:{port}"), Duration::from_secs(2))
            .await
            .unwrap_err();
        let text = error_chain(&error);
        assert!(
            text.starts_with(&format!("cannot connect to http://127.0.0.1:{port}/")),
            "{text}"
        );
        assert!(text.to_lowercase().contains("refused"), "{text}");
    }
}
