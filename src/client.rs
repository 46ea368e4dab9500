//! A ready-made client for other Rust services and for the CLI: the
//! generated `PasswordServiceClient`, plus a `connect` that handles
//! `http://` (plaintext) and `https://` (TLS, webpki roots) addresses.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use giropops_senhas::client::{connect, GeneratePasswordRequest};
//! let mut client = connect("http://127.0.0.1:50051", std::time::Duration::from_secs(5)).await?;
//! let reply = client
//!     .generate_password(GeneratePasswordRequest { length: 24, ..Default::default() })
//!     .await?
//!     .into_inner();
//! println!("{} bits", reply.entropy_bits);
//! # Ok(()) }
//! ```

use std::time::Duration;

use tonic::transport::{Channel, ClientTlsConfig, Endpoint};

pub use crate::proto::v1::password_service_client::PasswordServiceClient;
pub use crate::proto::v1::{
    CheckPasswordRequest, CheckPasswordResponse, GeneratePassphraseRequest,
    GeneratePassphraseResponse, GeneratePasswordRequest, GeneratePasswordResponse,
    ListPasswordsRequest, ListPasswordsResponse, PasswordRecord, StreamPasswordsRequest,
    StreamPasswordsResponse,
};

/// Connects to `addr` (`http://host:port` or `https://host:port`), with
/// `timeout` on connecting and on each call.
pub async fn connect(
    addr: &str,
    timeout: Duration,
) -> Result<PasswordServiceClient<Channel>, tonic::transport::Error> {
    let mut endpoint = Endpoint::from_shared(addr.to_owned())?
        .connect_timeout(timeout)
        .timeout(timeout);
    if addr.starts_with("https://") {
        endpoint = endpoint.tls_config(ClientTlsConfig::new().with_webpki_roots())?;
    }
    Ok(PasswordServiceClient::new(endpoint.connect().await?))
}
