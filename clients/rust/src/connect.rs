//! Connecting to a server from an address a person typed.

use std::time::Duration;

use tonic::Status;
use tonic::metadata::errors::InvalidMetadataValue;
use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};

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
    /// The token cannot be sent as a header (not printable ASCII).
    #[error("the token is not a valid header value: expected gps_ and 43 base64url characters")]
    BadToken,
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

/// How to reach a server that wants TLS, a client certificate or a token.
#[derive(Clone, Default)]
pub struct ClientOptions {
    /// Bound on connecting and on each call (default 5 s).
    pub timeout: Option<Duration>,
    /// PEM CA bundle to verify the server with, instead of the webpki
    /// roots (a private CA).
    pub ca_pem: Option<Vec<u8>>,
    /// PEM client certificate and key, for mutual TLS.
    pub identity_pem: Option<(Vec<u8>, Vec<u8>)>,
    /// A bearer token (`gps_…`), sent as `authorization: Bearer` on every
    /// call.
    pub token: Option<String>,
}

impl std::fmt::Debug for ClientOptions {
    /// No token, no key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientOptions")
            .field("timeout", &self.timeout)
            .field("ca_pem", &self.ca_pem.is_some())
            .field("identity_pem", &self.identity_pem.is_some())
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// A channel to `addr` (`host:port`, `http://host:port` or
/// `https://host:port`), with `timeout` on connecting and on each call: for
/// any service on the server (health, reflection, …).
pub async fn channel(addr: &str, timeout: Duration) -> Result<Channel, ConnectError> {
    channel_with(
        addr,
        &ClientOptions {
            timeout: Some(timeout),
            ..ClientOptions::default()
        },
    )
    .await
}

/// A channel to `addr` with `options` (a CA, a client certificate or an
/// explicit `https://` turn TLS on).
pub async fn channel_with(addr: &str, options: &ClientOptions) -> Result<Channel, ConnectError> {
    let timeout = options.timeout.unwrap_or(Duration::from_secs(5));
    let wants_tls = options.ca_pem.is_some() || options.identity_pem.is_some();
    let addr = if wants_tls && !addr.contains("://") {
        format!("https://{addr}")
    } else {
        addr.to_owned()
    };
    let mut endpoint = endpoint(&addr, timeout)?;
    if addr.starts_with("https://") {
        let mut tls = ClientTlsConfig::new();
        tls = match &options.ca_pem {
            Some(ca) => tls.ca_certificate(Certificate::from_pem(ca)),
            None => tls.with_webpki_roots(),
        };
        if let Some((cert, key)) = &options.identity_pem {
            tls = tls.identity(Identity::from_pem(cert, key));
        }
        endpoint = endpoint
            .tls_config(tls)
            .map_err(|source| ConnectError::InvalidAddress {
                addr: addr.clone(),
                source,
            })?;
    }
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

/// A PasswordService client for `addr` with `options`: TLS, a client
/// certificate, a bearer token.
pub async fn connect_with(
    addr: &str,
    options: &ClientOptions,
) -> Result<PasswordServiceClient<InterceptedService<Channel, BearerToken>>, ConnectError> {
    let channel = channel_with(addr, options).await?;
    let token = BearerToken::new(options.token.as_deref()).map_err(|_| ConnectError::BadToken)?;
    Ok(PasswordServiceClient::with_interceptor(channel, token))
}

/// Adds `authorization: Bearer <token>` to every call (nothing without a
/// token).
#[derive(Clone)]
pub struct BearerToken(Option<MetadataValue<Ascii>>);

impl std::fmt::Debug for BearerToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BearerToken(<redacted>)")
    }
}

impl BearerToken {
    /// The interceptor for `token`; an error if it cannot be a header.
    pub fn new(token: Option<&str>) -> Result<Self, InvalidMetadataValue> {
        token
            .map(|token| format!("Bearer {}", token.trim()).parse())
            .transpose()
            .map(BearerToken)
    }
}

impl Interceptor for BearerToken {
    fn call(&mut self, mut request: tonic::Request<()>) -> Result<tonic::Request<()>, Status> {
        if let Some(value) = &self.0 {
            request
                .metadata_mut()
                .insert("authorization", value.clone());
        }
        Ok(request)
    }
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
