//! TLS on the gRPC port: the server configuration read from PEM files, its
//! reload, the per-connection handshake, and what mutual TLS tells about a
//! client (the SANs of its certificate, and the scopes a file grants them).
//!
//! The files (`TLS_CERT_FILE`, `TLS_KEY_FILE`, optionally
//! `TLS_CLIENT_CA_FILE`) are read by [`load`] into a rustls
//! [`ServerConfig`]:
//!
//! - the certificate chain, end-entity first, and its private key (PKCS#8,
//!   PKCS#1 or SEC1; unencrypted), which must match the certificate;
//! - with a client CA bundle, every client must present a certificate that
//!   chains to one of its CAs, or the handshake fails (rustls
//!   [`WebPkiClientVerifier`]); without one, no client certificate is asked
//!   for;
//! - ALPN offers `h2`, then `http/1.1` (gRPC clients such as grpc-go
//!   refuse a server that does not select `h2`; browsers and curl may ask
//!   for either); TLS 1.3 and 1.2, the crypto of rustls' `ring`
//!   provider, named explicitly: the process-wide default provider plays
//!   no part.
//!
//! A failed load names the file, the environment variable that sets it and
//! what is wrong; never any key material.
//!
//! [`ReloadableTls`] holds the current configuration: each new connection
//! takes [`ReloadableTls::current`] (or calls [`ReloadableTls::handshake`],
//! which does); [`ReloadableTls::reload`] re-reads the files and replaces the
//! configuration only if all of them load and the key matches. Established
//! connections keep the configuration they started with.
//!
//! With mutual TLS, [`peer_sans`] gives the DNS and URI SANs of the client's
//! certificate, and a [`ClientScopes`] file maps them to the scopes they are
//! granted.

use std::fmt;
use std::io;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use arc_swap::ArcSwap;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::sign::{CertifiedKey, SingleCertAndKey};
use rustls::{InconsistentKeys, RootCertStore, ServerConfig};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

/// ALPN for HTTP/2, preferred (gRPC needs it).
const ALPN_H2: &[u8] = b"h2";
/// ALPN for HTTP/1.1 (browsers, curl, the original API, gRPC-Web).
const ALPN_HTTP1: &[u8] = b"http/1.1";
/// After a failed handshake, how long and how many bytes the client's
/// pending data is read before closing (see [`linger`]).
const LINGER: Duration = Duration::from_millis(500);
const LINGER_BYTES: usize = 64 * 1024;

/// Reads `files` into a server configuration (see the [module](self)
/// docs): fails, naming the file, if any file is unreadable or invalid, or
/// if the key does not match the certificate.
pub fn load(files: &TlsFiles) -> Result<Arc<ServerConfig>, TlsError> {
    Loaded::read(files).map(|loaded| loaded.config)
}

/// A loaded configuration and the public material it was built from (to
/// tell whether a reload changed anything).
struct Loaded {
    config: Arc<ServerConfig>,
    identity: Identity,
}

/// Certificates only: equal identities mean the same key pair (the key
/// matches the certificate) and the same client CAs.
#[derive(PartialEq, Eq)]
struct Identity {
    chain: Vec<CertificateDer<'static>>,
    client_cas: Option<Vec<CertificateDer<'static>>>,
}

impl Loaded {
    fn read(files: &TlsFiles) -> Result<Self, TlsError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let chain = read_certs(TlsFileKind::Cert, &files.cert)?;
        let key = read_key(&files.key)?;
        let certified = certified_key(files, &provider, chain.clone(), key)?;
        let (verifier, client_cas) = match &files.client_ca {
            None => (WebPkiClientVerifier::no_client_auth(), None),
            Some(path) => {
                let cas = read_certs(TlsFileKind::ClientCa, path)?;
                let mut roots = RootCertStore::empty();
                for (index, ca) in cas.iter().enumerate() {
                    roots.add(ca.clone()).map_err(|error| {
                        TlsError::new(
                            TlsFileKind::ClientCa,
                            path,
                            format!("certificate {} is not a usable CA: {error}", index + 1),
                        )
                    })?;
                }
                let verifier =
                    WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                        .build()
                        .map_err(|error| {
                            TlsError::new(TlsFileKind::ClientCa, path, error.to_string())
                        })?;
                (verifier, Some(cas))
            }
        };
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .map_err(|error| {
                TlsError::new(
                    TlsFileKind::Cert,
                    &files.cert,
                    format!("rustls refused the configuration: {error}"),
                )
            })?
            .with_client_cert_verifier(verifier)
            .with_cert_resolver(Arc::new(SingleCertAndKey::from(certified)));
        config.alpn_protocols = vec![ALPN_H2.to_vec(), ALPN_HTTP1.to_vec()];
        Ok(Loaded {
            config: Arc::new(config),
            identity: Identity { chain, client_cas },
        })
    }
}

/// The chain and its key, checked to match.
fn certified_key(
    files: &TlsFiles,
    provider: &CryptoProvider,
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<CertifiedKey, TlsError> {
    let signing_key = provider
        .key_provider
        .load_private_key(key)
        .map_err(|error| {
            TlsError::new(
                TlsFileKind::Key,
                &files.key,
                format!("not a usable private key: {error}"),
            )
        })?;
    let certified = CertifiedKey::new(chain, signing_key);
    match certified.keys_match() {
        Ok(()) => Ok(certified),
        Err(rustls::Error::InconsistentKeys(InconsistentKeys::KeyMismatch)) => Err(TlsError::new(
            TlsFileKind::Key,
            &files.key,
            format!(
                "does not match the certificate in {} (TLS_CERT_FILE)",
                files.cert.display()
            ),
        )),
        Err(rustls::Error::InconsistentKeys(InconsistentKeys::Unknown)) => Err(TlsError::new(
            TlsFileKind::Key,
            &files.key,
            "cannot tell whether it matches the certificate",
        )),
        Err(error) => Err(TlsError::new(
            TlsFileKind::Cert,
            &files.cert,
            format!("the first certificate is invalid: {error}"),
        )),
    }
}

/// The server's TLS configuration, replaceable while serving.
///
/// Shared (in an `Arc`) between the accept loop, which hands each new
/// connection [`current`](Self::current) (or calls
/// [`handshake`](Self::handshake)), and whatever triggers
/// [`reload`](Self::reload).
pub struct ReloadableTls {
    files: TlsFiles,
    config: ArcSwap<ServerConfig>,
    /// What `config` was built from; the lock also serializes reloads.
    identity: Mutex<Identity>,
}

impl fmt::Debug for ReloadableTls {
    /// The files only: no configuration, no key.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReloadableTls")
            .field("files", &self.files)
            .finish_non_exhaustive()
    }
}

impl ReloadableTls {
    /// Loads `files` (see [`load`]).
    pub fn new(files: TlsFiles) -> Result<Self, TlsError> {
        let Loaded { config, identity } = Loaded::read(&files)?;
        Ok(ReloadableTls {
            files,
            config: ArcSwap::new(config),
            identity: Mutex::new(identity),
        })
    }

    /// The files it reads.
    pub fn files(&self) -> &TlsFiles {
        &self.files
    }

    /// Whether clients must present a certificate (a client CA is set).
    pub fn is_mutual(&self) -> bool {
        self.files.client_ca.is_some()
    }

    /// The configuration for a new connection.
    pub fn current(&self) -> Arc<ServerConfig> {
        self.config.load_full()
    }

    /// Re-reads the files. If they all load and the key matches, the new
    /// configuration serves every connection from now on and the answer is
    /// whether any certificate changed (`Ok(false)`: same certificates, the
    /// configuration is kept). Otherwise the current configuration stays
    /// and the error names the file at fault ([`TlsError::file`]).
    /// Established connections are never affected.
    ///
    /// Reads files (small, local) on the calling thread; reloads do not
    /// overlap.
    pub fn reload(&self) -> Result<bool, TlsError> {
        let mut identity = self.identity.lock().unwrap_or_else(PoisonError::into_inner);
        let loaded = Loaded::read(&self.files)?;
        if loaded.identity == *identity {
            return Ok(false);
        }
        self.config.store(loaded.config);
        *identity = loaded.identity;
        Ok(true)
    }

    /// The server side of the TLS handshake on `io` (an accepted TCP
    /// connection), with the configuration current when it starts, within
    /// `timeout` (else an error of kind [`io::ErrorKind::TimedOut`]; the
    /// connection is dropped, which closes it). Meant to run in a task of
    /// its own per connection, so that a slow client holds up no other.
    ///
    /// A refused handshake (no client certificate, an unknown CA…) is
    /// closed gracefully (lingering: see `linger`), so that the client reads the TLS
    /// alert that says why instead of a connection reset.
    pub async fn handshake<IO>(&self, io: IO, timeout: Duration) -> io::Result<TlsStream<IO>>
    where
        IO: AsyncRead + AsyncWrite + Unpin,
    {
        let accept = TlsAcceptor::from(self.current()).accept(io).into_fallible();
        match tokio::time::timeout(timeout, accept).await {
            Ok(Ok(stream)) => Ok(stream),
            Ok(Err((error, io))) => {
                linger(io).await;
                Err(error)
            }
            Err(_) => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("no TLS handshake within {timeout:?}"),
            )),
        }
    }
}

/// Closes a connection whose handshake failed without resetting it: the
/// alert rustls wrote is followed by our FIN, then what the client already
/// sent (with TLS 1.3 a client sends its first request before the server
/// has judged its certificate) is read and discarded, within [`LINGER`]
/// and [`LINGER_BYTES`]. Closing with unread data would send a TCP reset,
/// which can overtake the alert: the client would see "connection reset"
/// instead of "certificate required".
async fn linger<IO>(mut io: IO)
where
    IO: AsyncRead + AsyncWrite + Unpin,
{
    if io.shutdown().await.is_err() {
        return;
    }
    let drain = async {
        let mut buffer = [0u8; 4096];
        let mut read = 0;
        while read < LINGER_BYTES {
            match io.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(n) => read += n,
            }
        }
    };
    let _ = tokio::time::timeout(LINGER, drain).await;
}

mod clients;
mod files;

pub use files::{TlsError, TlsFileKind, TlsFiles};
use files::{read_certs, read_key};

pub use clients::{
    ClientSan, ClientScopes, ClientScopesError, SCOPE_WORDS, SanError, ScopesLineError,
    certificate_sans, peer_sans,
};

#[cfg(test)]
mod tests;
