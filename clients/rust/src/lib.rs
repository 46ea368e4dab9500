//! The `giropops.v1.PasswordService` contract for Rust: the generated prost
//! messages, the tonic client (and server trait, for the service itself),
//! the encoded descriptor set, and [`connect`].
//!
//! It depends on tonic and prost only: a Rust service that calls
//! giropops-senhas compiles none of the server (no Redis, no metrics, no
//! zxcvbn, no CLI).
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use giropops_senhas_client::{connect, GeneratePasswordRequest};
//! let mut client = connect("127.0.0.1:50051", std::time::Duration::from_secs(5)).await?;
//! let reply = client
//!     .generate_password(GeneratePasswordRequest { length: 24, ..Default::default() })
//!     .await?
//!     .into_inner();
//! println!("{} bits", reply.entropy_bits);
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]

mod code;
mod connect;
pub mod proto;
mod redact;

pub use code::code_name;
pub use connect::{
    BearerToken, ClientOptions, ConnectError, channel, channel_with, connect, connect_with,
    endpoint, error_chain,
};
pub use proto::v1::password_service_client::PasswordServiceClient;
pub use proto::v1::{
    CheckPasswordRequest, CheckPasswordResponse, CheckTokenRequest, CheckTokenResponse,
    GeneratePassphraseRequest, GeneratePassphraseResponse, GeneratePasswordRequest,
    GeneratePasswordResponse, GenerateTokenRequest, GenerateTokenResponse, ListPasswordsRequest,
    ListPasswordsResponse, PasswordRecord, StreamPasswordsRequest, StreamPasswordsResponse,
    TokenFormat,
};
