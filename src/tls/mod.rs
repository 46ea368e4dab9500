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
//! - ALPN offers `h2` only (gRPC clients such as grpc-go refuse a server
//!   that does not select it); TLS 1.3 and 1.2, the crypto of rustls' `ring`
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
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use arc_swap::ArcSwap;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::sign::{CertifiedKey, SingleCertAndKey};
use rustls::{InconsistentKeys, RootCertStore, ServerConfig};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

/// The only application protocol offered: HTTP/2.
const ALPN_H2: &[u8] = b"h2";
/// After a failed handshake, how long and how many bytes the client's
/// pending data is read before closing (see [`linger`]).
const LINGER: Duration = Duration::from_millis(500);
const LINGER_BYTES: usize = 64 * 1024;
/// Largest file read (a PEM bundle of many CAs is a few hundred KiB).
const MAX_FILE_BYTES: u64 = 8 * 1024 * 1024;

/// Where the TLS material is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// PEM certificate chain, the server's certificate first
    /// (`TLS_CERT_FILE`).
    pub cert: PathBuf,
    /// PEM private key of that certificate (`TLS_KEY_FILE`).
    pub key: PathBuf,
    /// PEM bundle of the CAs that sign client certificates
    /// (`TLS_CLIENT_CA_FILE`); `None`: no client certificates (no mutual
    /// TLS).
    pub client_ca: Option<PathBuf>,
}

/// Which of the [`TlsFiles`] a [`TlsError`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TlsFileKind {
    /// [`TlsFiles::cert`].
    Cert,
    /// [`TlsFiles::key`].
    Key,
    /// [`TlsFiles::client_ca`].
    ClientCa,
}

impl TlsFileKind {
    /// A stable, low-cardinality name for metrics labels (the `file` of
    /// `giropops_reload_failures_total`): `tls_cert`, `tls_key`,
    /// `tls_client_ca`.
    pub fn label(self) -> &'static str {
        match self {
            TlsFileKind::Cert => "tls_cert",
            TlsFileKind::Key => "tls_key",
            TlsFileKind::ClientCa => "tls_client_ca",
        }
    }

    /// The environment variable that names this file.
    pub fn env_var(self) -> &'static str {
        match self {
            TlsFileKind::Cert => "TLS_CERT_FILE",
            TlsFileKind::Key => "TLS_KEY_FILE",
            TlsFileKind::ClientCa => "TLS_CLIENT_CA_FILE",
        }
    }

    fn what(self) -> &'static str {
        match self {
            TlsFileKind::Cert => "certificate",
            TlsFileKind::Key => "private key",
            TlsFileKind::ClientCa => "client CA",
        }
    }
}

/// Why the TLS files could not be loaded: which file, and what is wrong
/// with it (never any key material).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsError {
    file: TlsFileKind,
    path: PathBuf,
    problem: String,
}

impl TlsError {
    fn new(file: TlsFileKind, path: &Path, problem: impl Into<String>) -> Self {
        TlsError {
            file,
            path: path.to_path_buf(),
            problem: problem.into(),
        }
    }

    /// The file at fault.
    pub fn file(&self) -> TlsFileKind {
        self.file
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What is wrong with it.
    pub fn problem(&self) -> &str {
        &self.problem
    }
}

impl fmt::Display for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "TLS {} file {} ({}): {}",
            self.file.what(),
            self.path.display(),
            self.file.env_var(),
            self.problem
        )
    }
}

impl std::error::Error for TlsError {}

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
        config.alpn_protocols = vec![ALPN_H2.to_vec()];
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

/// The whole file (read at once: a reload never sees half of two
/// versions), bounded.
fn read_file(kind: TlsFileKind, path: &Path) -> Result<Vec<u8>, TlsError> {
    let cannot_read = |error: io::Error| TlsError::new(kind, path, format!("cannot read: {error}"));
    let mut bytes = Vec::new();
    File::open(path)
        .and_then(|file| file.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes))
        .map_err(cannot_read)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(TlsError::new(
            kind,
            path,
            format!("larger than {} MiB", MAX_FILE_BYTES / (1024 * 1024)),
        ));
    }
    Ok(bytes)
}

/// Every `CERTIFICATE` section of the file (other sections are skipped);
/// at least one.
fn read_certs(kind: TlsFileKind, path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let bytes = read_file(kind, path)?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| TlsError::new(kind, path, pem_problem(&error)))?;
    if certs.is_empty() {
        return Err(TlsError::new(
            kind,
            path,
            "no PEM certificate (no \"-----BEGIN CERTIFICATE-----\" section)",
        ));
    }
    Ok(certs)
}

/// The first private key section of the file.
fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    let bytes = read_file(TlsFileKind::Key, path)?;
    PrivateKeyDer::from_pem_slice(&bytes).map_err(|error| match error {
        pem::Error::NoItemsFound => TlsError::new(
            TlsFileKind::Key,
            path,
            "no PEM private key (a PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY section; encrypted keys are not supported)",
        ),
        error => TlsError::new(TlsFileKind::Key, path, pem_problem(&error)),
    })
}

/// What is wrong with a PEM file, without quoting any of it.
fn pem_problem(error: &pem::Error) -> String {
    match error {
        pem::Error::MissingSectionEnd { .. } => "invalid PEM: a section has no END line".into(),
        pem::Error::IllegalSectionStart { .. } => "invalid PEM: a malformed BEGIN line".into(),
        pem::Error::Base64Decode(_) => "invalid PEM: a section is not valid base64".into(),
        pem::Error::Io(error) => format!("cannot read: {error}"),
        pem::Error::NoItemsFound => "no PEM section of the expected type".into(),
        pem::Error::SectionTooLarge => "invalid PEM: a section is too large".into(),
        _ => "invalid PEM".into(),
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

pub use clients::{
    ClientSan, ClientScopes, ClientScopesError, SCOPE_WORDS, SanError, ScopesLineError,
    certificate_sans, peer_sans,
};

#[cfg(test)]
mod tests;
