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

use std::collections::HashMap;
use std::collections::hash_map::Entry;
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
use rustls::{InconsistentKeys, RootCertStore, ServerConfig, ServerConnection};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;
use x509_cert::Certificate;
use x509_cert::der::Decode;
use x509_cert::ext::pkix::SubjectAltName;
use x509_cert::ext::pkix::name::GeneralName;

/// The only application protocol offered: HTTP/2.
const ALPN_H2: &[u8] = b"h2";
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
    pub async fn handshake<IO>(&self, io: IO, timeout: Duration) -> io::Result<TlsStream<IO>>
    where
        IO: AsyncRead + AsyncWrite + Unpin,
    {
        let accept = TlsAcceptor::from(self.current()).accept(io);
        match tokio::time::timeout(timeout, accept).await {
            Ok(result) => result,
            Err(_) => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("no TLS handshake within {timeout:?}"),
            )),
        }
    }
}

/// A subject alternative name of a client certificate, as mutual TLS
/// principals are named.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ClientSan {
    /// A DNS name, lowercased.
    Dns(String),
    /// A URI (such as a SPIFFE ID), as written in the certificate.
    Uri(String),
}

impl ClientSan {
    /// The name.
    pub fn as_str(&self) -> &str {
        match self {
            ClientSan::Dns(name) | ClientSan::Uri(name) => name,
        }
    }
}

impl fmt::Display for ClientSan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A client certificate whose SANs could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("client certificate: cannot read its subject alternative names: {0}")]
pub struct SanError(String);

/// The DNS and URI SANs of the client certificate of an established
/// connection (`tls_stream.get_ref().1`), in the certificate's order;
/// empty when the client presented no certificate or it has no such SAN.
pub fn peer_sans(connection: &ServerConnection) -> Result<Vec<ClientSan>, SanError> {
    match connection.peer_certificates().and_then(<[_]>::first) {
        Some(certificate) => certificate_sans(certificate),
        None => Ok(Vec::new()),
    }
}

/// The DNS and URI SANs of a DER certificate, in its order (other kinds of
/// names are left out).
pub fn certificate_sans(certificate: &CertificateDer<'_>) -> Result<Vec<ClientSan>, SanError> {
    let certificate =
        Certificate::from_der(certificate).map_err(|error| SanError(error.to_string()))?;
    let Some((_critical, SubjectAltName(names))) = certificate
        .tbs_certificate()
        .get_extension::<SubjectAltName>()
        .map_err(|error| SanError(error.to_string()))?
    else {
        return Ok(Vec::new());
    };
    Ok(names
        .iter()
        .filter_map(|name| match name {
            GeneralName::DnsName(dns) => Some(ClientSan::Dns(dns.as_str().to_ascii_lowercase())),
            GeneralName::UniformResourceIdentifier(uri) => {
                Some(ClientSan::Uri(uri.as_str().to_owned()))
            }
            _ => None,
        })
        .collect())
}

/// The scope words a [`ClientScopes`] file may grant.
pub const SCOPE_WORDS: [&str; 4] = ["generate", "check", "history", "history:all"];

/// Which scopes each client certificate SAN is granted: the client scopes
/// file.
///
/// One client per line, `SAN SCOPES`: the SAN is a DNS name
/// (`client.example.com`, matched case-insensitively) or a URI
/// (`spiffe://example.org/ns/app`; anything with a `:` is a URI, matched
/// exactly); the scopes are words of [`SCOPE_WORDS`] separated by commas
/// (or spaces). `#` starts a comment (at the start of a line or after a
/// space); blank lines are ignored. A SAN may appear on one line only.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientScopes {
    entries: HashMap<ClientSan, Vec<String>>,
}

/// A bad line of a client scopes file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {problem}")]
pub struct ScopesLineError {
    /// Its number, from 1.
    pub line: usize,
    /// What is wrong with it.
    pub problem: String,
}

/// Why a client scopes file could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ClientScopesError {
    /// It could not be read.
    #[error("client scopes file {}: cannot read: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// Lines are invalid: every one of them is listed.
    #[error("client scopes file {}: {}", path.display(), join_lines(lines))]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The bad lines, in order.
        lines: Vec<ScopesLineError>,
    },
}

impl ClientScopesError {
    /// The file at fault.
    pub fn path(&self) -> &Path {
        match self {
            ClientScopesError::Read { path, .. } | ClientScopesError::Invalid { path, .. } => path,
        }
    }
}

fn join_lines(lines: &[ScopesLineError]) -> String {
    lines
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

impl ClientScopes {
    /// Reads and parses the file at `path` (see [`ClientScopes::parse`]).
    pub fn load(path: &Path) -> Result<Self, ClientScopesError> {
        let text = std::fs::read_to_string(path).map_err(|source| ClientScopesError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        ClientScopes::parse(&text).map_err(|lines| ClientScopesError::Invalid {
            path: path.to_path_buf(),
            lines,
        })
    }

    /// Parses the text of a client scopes file; on error, every bad line
    /// with its number.
    pub fn parse(text: &str) -> Result<Self, Vec<ScopesLineError>> {
        let mut entries = HashMap::new();
        let mut first_line = HashMap::new();
        let mut errors = Vec::new();
        for (index, line) in text.lines().enumerate() {
            let number = index + 1;
            let mut fields = line
                .split_whitespace()
                .take_while(|field| !field.starts_with('#'));
            let Some(san) = fields.next() else {
                continue;
            };
            let parsed = parse_san(san).and_then(|san| {
                let scopes = parse_scopes(fields)?;
                Ok((san, scopes))
            });
            let (san, scopes) = match parsed {
                Ok(parsed) => parsed,
                Err(problem) => {
                    errors.push(ScopesLineError {
                        line: number,
                        problem,
                    });
                    continue;
                }
            };
            match entries.entry(san) {
                Entry::Occupied(entry) => errors.push(ScopesLineError {
                    line: number,
                    problem: format!(
                        "{} is already on line {}",
                        entry.key(),
                        first_line.get(entry.key()).copied().unwrap_or(0)
                    ),
                }),
                Entry::Vacant(entry) => {
                    first_line.insert(entry.key().clone(), number);
                    entry.insert(scopes);
                }
            }
        }
        if errors.is_empty() {
            Ok(ClientScopes { entries })
        } else {
            Err(errors)
        }
    }

    /// The scopes granted to `san`.
    pub fn get(&self, san: &ClientSan) -> Option<&[String]> {
        self.entries.get(san).map(Vec::as_slice)
    }

    /// The first of `sans` (a client certificate's, in its order) that the
    /// file lists, and its scopes.
    pub fn for_peer<'a>(&'a self, sans: &'a [ClientSan]) -> Option<(&'a ClientSan, &'a [String])> {
        sans.iter()
            .find_map(|san| self.get(san).map(|scopes| (san, scopes)))
    }

    /// How many SANs are listed.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// A SAN as written in the scopes file.
fn parse_san(san: &str) -> Result<ClientSan, String> {
    if let Some((scheme, rest)) = san.split_once(':') {
        let valid_scheme = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
        if !valid_scheme || rest.is_empty() || !san.is_ascii() {
            return Err(format!("{san:?} is not a URI (scheme:rest) nor a DNS name"));
        }
        Ok(ClientSan::Uri(san.to_owned()))
    } else {
        let valid = san
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '*' | '_'))
            && !san.starts_with('.');
        if !valid {
            return Err(format!("{san:?} is not a DNS name nor a URI"));
        }
        Ok(ClientSan::Dns(san.to_ascii_lowercase()))
    }
}

/// The scope words of a line, after its SAN.
fn parse_scopes<'a>(fields: impl Iterator<Item = &'a str>) -> Result<Vec<String>, String> {
    let mut scopes: Vec<String> = Vec::new();
    let mut unknown = Vec::new();
    for word in fields
        .flat_map(|field| field.split(','))
        .filter(|w| !w.is_empty())
    {
        if !SCOPE_WORDS.contains(&word) {
            unknown.push(format!("{word:?}"));
        } else if scopes.iter().any(|scope| scope == word) {
            return Err(format!("scope {word:?} is listed twice"));
        } else {
            scopes.push(word.to_owned());
        }
    }
    if !unknown.is_empty() {
        return Err(format!(
            "unknown scope {} (known: {})",
            unknown.join(", "),
            SCOPE_WORDS.join(", ")
        ));
    }
    if scopes.is_empty() {
        return Err(format!(
            "no scopes after the SAN (expected \"SAN SCOPES\", scopes among {})",
            SCOPE_WORDS.join(", ")
        ));
    }
    Ok(scopes)
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;
    use std::time::Instant;

    use rcgen::{
        BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer,
        KeyPair, KeyUsagePurpose, SanType,
    };
    use rustls::ClientConfig;
    use rustls::pki_types::ServerName;
    use tempfile::TempDir;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};
    use tokio_rustls::TlsConnector;

    use super::*;

    const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
    const CLIENT_DNS: &str = "client.giropops.test";
    const CLIENT_URI: &str = "spiffe://giropops.test/client";

    struct Ca {
        issuer: Issuer<'static, KeyPair>,
        pem: String,
    }

    fn ca(name: &str) -> Ca {
        let mut params = CertificateParams::default();
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let key = KeyPair::generate().unwrap();
        let pem = params.self_signed(&key).unwrap().pem();
        Ca {
            issuer: Issuer::new(params, key),
            pem,
        }
    }

    /// A certificate and its key, as PEM.
    struct Leaf {
        cert: String,
        key: String,
    }

    fn leaf(ca: &Ca, sans: Vec<SanType>, serial: u64, usage: ExtendedKeyUsagePurpose) -> Leaf {
        let mut params = CertificateParams::default();
        params.subject_alt_names = sans;
        params.serial_number = Some(serial.into());
        params.extended_key_usages = vec![usage];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &ca.issuer).unwrap();
        Leaf {
            cert: cert.pem(),
            key: key.serialize_pem(),
        }
    }

    fn server_leaf(ca: &Ca, serial: u64) -> Leaf {
        leaf(
            ca,
            vec![
                SanType::DnsName("localhost".try_into().unwrap()),
                SanType::IpAddress([127, 0, 0, 1].into()),
            ],
            serial,
            ExtendedKeyUsagePurpose::ServerAuth,
        )
    }

    fn client_leaf(ca: &Ca) -> Leaf {
        leaf(
            ca,
            vec![
                SanType::DnsName(CLIENT_DNS.try_into().unwrap()),
                SanType::URI(CLIENT_URI.try_into().unwrap()),
            ],
            7,
            ExtendedKeyUsagePurpose::ClientAuth,
        )
    }

    /// A CA, a server certificate it signed, and their files.
    struct Pki {
        dir: TempDir,
        ca: Ca,
        server: Leaf,
        files: TlsFiles,
    }

    fn pki(mutual: bool) -> Pki {
        let dir = tempfile::tempdir().unwrap();
        let ca = ca("giropops test CA");
        let server = server_leaf(&ca, 1);
        let files = TlsFiles {
            cert: write(&dir, "cert.pem", &server.cert),
            key: write(&dir, "key.pem", &server.key),
            client_ca: mutual.then(|| write(&dir, "client-ca.pem", &ca.pem)),
        };
        Pki {
            dir,
            ca,
            server,
            files,
        }
    }

    fn write(dir: &TempDir, name: &str, contents: &str) -> PathBuf {
        let path = dir.path().join(name);
        std::fs::write(&path, contents).unwrap();
        path
    }

    fn der(pem: &str) -> CertificateDer<'static> {
        CertificateDer::from_pem_slice(pem.as_bytes()).unwrap()
    }

    fn client_config(ca_pem: &str, identity: Option<&Leaf>) -> Arc<ClientConfig> {
        let mut roots = RootCertStore::empty();
        roots.add(der(ca_pem)).unwrap();
        let builder =
            ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_root_certificates(roots);
        let mut config = match identity {
            None => builder.with_no_client_auth(),
            Some(leaf) => builder
                .with_client_auth_cert(
                    vec![der(&leaf.cert)],
                    PrivateKeyDer::from_pem_slice(leaf.key.as_bytes()).unwrap(),
                )
                .unwrap(),
        };
        config.alpn_protocols = vec![b"h2".to_vec()];
        Arc::new(config)
    }

    async fn listen() -> (TcpListener, SocketAddr) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        (listener, addr)
    }

    async fn accept(
        listener: &TcpListener,
        tls: &ReloadableTls,
    ) -> io::Result<TlsStream<TcpStream>> {
        let (tcp, _) = listener.accept().await?;
        tls.handshake(tcp, HANDSHAKE_TIMEOUT).await
    }

    async fn connect(
        addr: SocketAddr,
        config: Arc<ClientConfig>,
    ) -> io::Result<tokio_rustls::client::TlsStream<TcpStream>> {
        let tcp = TcpStream::connect(addr).await?;
        TlsConnector::from(config)
            .connect(ServerName::try_from("localhost").unwrap(), tcp)
            .await
    }

    /// Connects, then reads: with TLS 1.3 a client learns that the server
    /// refused its certificate only from the alert that follows.
    async fn connect_and_read(addr: SocketAddr, config: Arc<ClientConfig>) -> io::Result<usize> {
        let mut stream = connect(addr, config).await?;
        stream.write_all(b"ping").await?;
        let mut buf = [0; 4];
        stream.read(&mut buf).await
    }

    /// Echoes until the client closes.
    async fn echo(mut stream: TlsStream<TcpStream>) {
        let mut buf = [0; 64];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    if stream.write_all(&buf[..n]).await.is_err() {
                        return;
                    }
                }
            }
        }
    }

    async fn ping(stream: &mut tokio_rustls::client::TlsStream<TcpStream>, message: &[u8]) {
        stream.write_all(message).await.unwrap();
        let mut buf = vec![0; message.len()];
        stream.read_exact(&mut buf).await.unwrap();
        assert_eq!(buf, message);
    }

    #[tokio::test]
    async fn handshake_negotiates_h2() {
        let pki = pki(false);
        let tls = ReloadableTls::new(pki.files.clone()).unwrap();
        assert!(!tls.is_mutual());
        let (listener, addr) = listen().await;
        let (server, client) = tokio::join!(
            accept(&listener, &tls),
            connect(addr, client_config(&pki.ca.pem, None))
        );
        let (server, client) = (server.unwrap(), client.unwrap());
        assert_eq!(server.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
        assert_eq!(client.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
        assert_eq!(peer_sans(server.get_ref().1).unwrap(), Vec::new());
        assert_eq!(
            client.get_ref().1.peer_certificates().unwrap()[0],
            der(&pki.server.cert)
        );
    }

    #[tokio::test]
    async fn mutual_tls_refuses_a_client_without_a_certificate() {
        let pki = pki(true);
        let tls = ReloadableTls::new(pki.files.clone()).unwrap();
        assert!(tls.is_mutual());
        let (listener, addr) = listen().await;
        let (server, client) = tokio::join!(
            accept(&listener, &tls),
            connect_and_read(addr, client_config(&pki.ca.pem, None))
        );
        let error = server.expect_err("handshake accepted a client without a certificate");
        assert!(error.to_string().contains("no certificates"), "{error}");
        assert!(
            !matches!(client, Ok(n) if n > 0),
            "client got data: {client:?}"
        );
    }

    #[tokio::test]
    async fn mutual_tls_refuses_a_certificate_from_another_ca() {
        let pki = pki(true);
        let other = client_leaf(&ca("another CA"));
        let tls = ReloadableTls::new(pki.files.clone()).unwrap();
        let (listener, addr) = listen().await;
        let (server, client) = tokio::join!(
            accept(&listener, &tls),
            connect_and_read(addr, client_config(&pki.ca.pem, Some(&other)))
        );
        let error = server.expect_err("handshake accepted a certificate of another CA");
        assert_eq!(error.kind(), io::ErrorKind::InvalidData, "{error}");
        assert!(error.to_string().contains("UnknownIssuer"), "{error}");
        assert!(
            !matches!(client, Ok(n) if n > 0),
            "client got data: {client:?}"
        );
    }

    #[tokio::test]
    async fn mutual_tls_accepts_a_good_certificate_and_reads_its_sans() {
        let pki = pki(true);
        let client_identity = client_leaf(&pki.ca);
        let tls = ReloadableTls::new(pki.files.clone()).unwrap();
        let (listener, addr) = listen().await;
        let (server, client) = tokio::join!(
            accept(&listener, &tls),
            connect(addr, client_config(&pki.ca.pem, Some(&client_identity)))
        );
        let (server, mut client) = (server.unwrap(), client.unwrap());
        assert_eq!(server.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
        let sans = peer_sans(server.get_ref().1).unwrap();
        assert_eq!(
            sans,
            vec![
                ClientSan::Dns(CLIENT_DNS.into()),
                ClientSan::Uri(CLIENT_URI.into())
            ]
        );
        let scopes = ClientScopes::parse(&format!(
            "# principals\n{CLIENT_URI} generate,check\nother.test history\n"
        ))
        .unwrap();
        let (san, granted) = scopes.for_peer(&sans).unwrap();
        assert_eq!(san, &ClientSan::Uri(CLIENT_URI.into()));
        assert_eq!(granted, ["generate", "check"]);
        tokio::spawn(echo(server));
        ping(&mut client, b"hello").await;
    }

    #[test]
    fn a_key_that_does_not_match_the_certificate_is_refused() {
        let pki = pki(false);
        let stranger = server_leaf(&pki.ca, 2);
        let files = TlsFiles {
            key: write(&pki.dir, "other-key.pem", &stranger.key),
            ..pki.files.clone()
        };
        let error = load(&files).unwrap_err();
        assert_eq!(error.file(), TlsFileKind::Key);
        assert_eq!(error.path(), files.key);
        let message = error.to_string();
        assert!(
            message.contains(&files.key.display().to_string()),
            "{message}"
        );
        assert!(message.contains("does not match"), "{message}");
        // No key material, in Display or Debug.
        let body = stranger.key.lines().nth(1).unwrap();
        for shown in [message, format!("{error:?}")] {
            assert!(!shown.contains(body) && !shown.contains("BEGIN"), "{shown}");
        }
    }

    #[test]
    fn load_errors_name_the_file() {
        let pki = pki(true);
        let missing = TlsFiles {
            cert: pki.dir.path().join("missing.pem"),
            ..pki.files.clone()
        };
        let error = load(&missing).unwrap_err();
        assert_eq!(
            (error.file(), error.path()),
            (TlsFileKind::Cert, missing.cert.as_path())
        );
        // A certificate where the key should be.
        let swapped = TlsFiles {
            key: pki.files.cert.clone(),
            ..pki.files.clone()
        };
        let error = load(&swapped).unwrap_err();
        assert_eq!(error.file(), TlsFileKind::Key);
        assert!(error.problem().contains("no PEM private key"), "{error}");
        // A key where the client CAs should be.
        let bad_ca = TlsFiles {
            client_ca: Some(pki.files.key.clone()),
            ..pki.files.clone()
        };
        let error = load(&bad_ca).unwrap_err();
        assert_eq!(error.file(), TlsFileKind::ClientCa);
        assert!(error.to_string().contains("TLS_CLIENT_CA_FILE"), "{error}");
        // Truncated PEM.
        let truncated = &pki.server.cert[..pki.server.cert.len() / 2];
        let broken = TlsFiles {
            cert: write(&pki.dir, "truncated.pem", truncated),
            ..pki.files.clone()
        };
        let error = load(&broken).unwrap_err();
        assert_eq!(error.file(), TlsFileKind::Cert);
        assert!(error.problem().contains("invalid PEM"), "{error}");
        assert_eq!(
            format!("{:?}", ReloadableTls::new(pki.files.clone()).unwrap()),
            format!("ReloadableTls {{ files: {:?}, .. }}", pki.files)
        );
    }

    #[tokio::test]
    async fn reload_keeps_the_old_config_on_a_broken_file_and_swaps_on_a_good_one() {
        let pki = pki(false);
        let tls = ReloadableTls::new(pki.files.clone()).unwrap();
        let client = client_config(&pki.ca.pem, None);
        let (listener, addr) = listen().await;
        assert!(!tls.reload().unwrap(), "nothing changed");

        // A connection established before the reloads.
        let (server, old) = tokio::join!(accept(&listener, &tls), connect(addr, client.clone()));
        tokio::spawn(echo(server.unwrap()));
        let mut old = old.unwrap();
        ping(&mut old, b"before").await;

        let before = tls.current();
        std::fs::write(
            &pki.files.cert,
            "-----BEGIN CERTIFICATE-----\nnot base64!\n",
        )
        .unwrap();
        let error = tls.reload().unwrap_err();
        assert_eq!(error.file(), TlsFileKind::Cert);
        assert_eq!(error.path(), pki.files.cert);
        assert!(
            Arc::ptr_eq(&before, &tls.current()),
            "a broken file replaced the config"
        );
        // New connections still get the old certificate.
        let (server, client_stream) =
            tokio::join!(accept(&listener, &tls), connect(addr, client.clone()));
        server.unwrap();
        assert_eq!(
            client_stream
                .unwrap()
                .get_ref()
                .1
                .peer_certificates()
                .unwrap()[0],
            der(&pki.server.cert)
        );

        // A new certificate, then its key: in between, the key mismatch
        // keeps the old config.
        let renewed = server_leaf(&pki.ca, 2);
        std::fs::write(&pki.files.cert, &renewed.cert).unwrap();
        assert_eq!(tls.reload().unwrap_err().file(), TlsFileKind::Key);
        assert!(Arc::ptr_eq(&before, &tls.current()));
        std::fs::write(&pki.files.key, &renewed.key).unwrap();
        assert!(tls.reload().unwrap());
        assert!(!Arc::ptr_eq(&before, &tls.current()));
        assert!(!tls.reload().unwrap(), "same files again");

        let (server, new) = tokio::join!(accept(&listener, &tls), connect(addr, client.clone()));
        tokio::spawn(echo(server.unwrap()));
        let mut new = new.unwrap();
        let presented = new.get_ref().1.peer_certificates().unwrap()[0].clone();
        assert_eq!(presented, der(&renewed.cert));
        let serial = Certificate::from_der(&presented)
            .unwrap()
            .tbs_certificate()
            .serial_number()
            .as_bytes()
            .to_vec();
        assert_eq!(serial, [2]);
        ping(&mut new, b"after").await;
        // The connection from before the reloads still works.
        ping(&mut old, b"still there").await;
    }

    #[tokio::test]
    async fn a_silent_client_is_dropped_after_the_handshake_timeout() {
        let pki = pki(false);
        let tls = ReloadableTls::new(pki.files.clone()).unwrap();
        let (listener, addr) = listen().await;
        let timeout = Duration::from_millis(300);
        let start = Instant::now();
        let server = async {
            let (tcp, _) = listener.accept().await.unwrap();
            tls.handshake(tcp, timeout).await
        };
        let client = async {
            let mut tcp = TcpStream::connect(addr).await.unwrap();
            let mut buf = Vec::new();
            // Sends nothing; waits for the server to close.
            let read = tokio::time::timeout(Duration::from_secs(10), tcp.read_to_end(&mut buf))
                .await
                .expect("the server never closed the connection");
            (read, start.elapsed())
        };
        let (server, (read, elapsed)) = tokio::join!(server, client);
        let error = server.unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::TimedOut);
        assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
        assert!(elapsed >= timeout, "closed after {elapsed:?}");
    }

    /// The accept loop shares it between tasks and spawns handshakes.
    #[allow(dead_code)]
    fn shareable_and_spawnable(tls: Arc<ReloadableTls>, tcp: TcpStream) {
        fn send_sync<T: Send + Sync>(_: &T) {}
        fn send<T: Send + 'static>(_: T) {}
        send_sync(&tls);
        send(async move { tls.handshake(tcp, HANDSHAKE_TIMEOUT).await });
    }

    #[test]
    fn scopes_file_parses_sans_and_scopes() {
        let scopes = ClientScopes::parse(
            "# SAN                            SCOPES\n\
             \n\
             Client.Example.COM               generate,check   # a comment\n\
             spiffe://example.org/ns/admin    generate, check, history, history:all\n\
             \t  batch.example.com history\n",
        )
        .unwrap();
        assert_eq!(scopes.len(), 3);
        assert_eq!(
            scopes.get(&ClientSan::Dns("client.example.com".into())),
            Some(&["generate".to_owned(), "check".to_owned()][..])
        );
        assert_eq!(
            scopes
                .get(&ClientSan::Uri("spiffe://example.org/ns/admin".into()))
                .unwrap(),
            ["generate", "check", "history", "history:all"]
        );
        // A DNS name never matches a URI line, nor the other way round.
        assert_eq!(
            scopes.get(&ClientSan::Dns("spiffe://example.org/ns/admin".into())),
            None
        );
        assert_eq!(
            scopes.get(&ClientSan::Uri("batch.example.com".into())),
            None
        );
        assert!(ClientScopes::parse("# nothing\n\n").unwrap().is_empty());
    }

    #[test]
    fn scopes_file_reports_every_bad_line() {
        let errors = ClientScopes::parse(
            "good.example.com generate\n\
             no-scopes.example.com\n\
             # fine\n\
             bad.example.com generate,delete\n\
             GOOD.example.com check\n\
             ://x generate\n\
             twice.example.com check,check\n\
             under_score.example.com history:all\n",
        )
        .unwrap_err();
        let lines: Vec<usize> = errors.iter().map(|error| error.line).collect();
        assert_eq!(lines, [2, 4, 5, 6, 7], "{errors:?}");
        assert!(errors[0].problem.contains("no scopes"), "{errors:?}");
        assert!(errors[1].problem.contains("\"delete\""), "{errors:?}");
        assert!(errors[2].problem.contains("line 1"), "{errors:?}");
        assert!(errors[4].problem.contains("twice"), "{errors:?}");

        let dir = tempfile::tempdir().unwrap();
        let path = write(
            &dir,
            "scopes",
            "a.example.com generate\nb.example.com nope\n",
        );
        let error = ClientScopes::load(&path).unwrap_err();
        assert_eq!(error.path(), path);
        let message = error.to_string();
        assert!(
            message.contains("line 2: unknown scope \"nope\""),
            "{message}"
        );
        assert!(matches!(
            ClientScopes::load(&dir.path().join("missing")),
            Err(ClientScopesError::Read { .. })
        ));
    }
}
