//! The TLS files: where they are, reading them (bounded, at once), and
//! what is wrong with one (naming the file and its variable, never any key
//! material).

use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

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
    pub(super) fn new(file: TlsFileKind, path: &Path, problem: impl Into<String>) -> Self {
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

/// The whole file (read at once: a reload never sees half of two
/// versions), bounded.
pub(super) fn read_file(kind: TlsFileKind, path: &Path) -> Result<Vec<u8>, TlsError> {
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
pub(super) fn read_certs(
    kind: TlsFileKind,
    path: &Path,
) -> Result<Vec<CertificateDer<'static>>, TlsError> {
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
pub(super) fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
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
