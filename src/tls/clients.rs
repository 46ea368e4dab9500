//! Client certificates as principals: their SANs, and the file that grants
//! each SAN its scopes.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use rustls::ServerConnection;
use rustls::pki_types::CertificateDer;
use x509_cert::Certificate;
use x509_cert::der::Decode;
use x509_cert::ext::pkix::SubjectAltName;
use x509_cert::ext::pkix::name::GeneralName;

use crate::auth::Principal;

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
/// exactly); the scopes are words of [`SCOPE_WORDS`] or `policy:NAME`, separated by commas
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

    /// Whether a listed SAN is `name` (a [`ClientSan::as_str`]; a DNS name
    /// in lowercase, as certificates' are read).
    pub fn lists(&self, name: &str) -> bool {
        // The file's rule: anything with a `:` is a URI.
        let san = if name.contains(':') {
            ClientSan::Uri(name.to_owned())
        } else {
            ClientSan::Dns(name.to_owned())
        };
        self.entries.contains_key(&san)
    }

    /// Whether any listed SAN is granted the scope `word`.
    pub fn grants_any(&self, word: &str) -> bool {
        self.entries
            .values()
            .any(|scopes| scopes.iter().any(|scope| scope == word))
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
        if let Some(why) = Principal::reserved(san) {
            return Err(format!("{san:?}: {why}"));
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
        let policy = word
            .strip_prefix(crate::auth::POLICY_PREFIX)
            .is_some_and(crate::auth::is_policy_name);
        if !SCOPE_WORDS.contains(&word) && !policy {
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
