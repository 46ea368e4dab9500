//! The content of each set: certificates, a token, history keys, the Redis
//! password and its ACL. Pure generation: nothing here touches the disk.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::Rng as _;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType, date_time_ymd,
};
use sha2::{Digest as _, Sha256};

use crate::auth::{Scopes, format_line, new_token};

use super::{File, InitSecretsError, REDIS_COMMANDS, REDIS_USER};

pub(super) fn key_id() -> String {
    let (year, month, day) = today();
    format!("compose-{year:04}{month:02}{day:02}")
}

/// Today's UTC date (proleptic Gregorian), from the system clock.
fn today() -> (i32, u8, u8) {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    civil_from_days(i64::try_from(secs / 86_400).unwrap_or(0))
}

/// Days since 1970-01-01 → (year, month, day) (H. Hinnant's algorithm).
pub(super) fn civil_from_days(days: i64) -> (i32, u8, u8) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (
        i32::try_from(year).unwrap_or(i32::MAX),
        u8::try_from(month).unwrap_or(1),
        u8::try_from(day).unwrap_or(1),
    )
}

/// Valid from today for `years` (the day kept at most 28: no 29 February).
fn validity(params: &mut CertificateParams, years: i32) {
    let (year, month, day) = today();
    params.not_before = date_time_ymd(year, month, day);
    params.not_after = date_time_ymd(year + years, month, day.min(28));
}

fn cert_error(error: rcgen::Error) -> InitSecretsError {
    InitSecretsError::Invalid(format!("cannot make the certificates: {error}"))
}

/// A CA (10 years) and a server certificate signed by it (2 years) for
/// localhost, 127.0.0.1, ::1, app, giropops-senhas and `extra_sans`.
pub(super) fn tls_files(extra_sans: &[String]) -> Result<Vec<File>, InitSecretsError> {
    let mut ca = CertificateParams::default();
    ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, "giropops-senhas init-secrets CA");
    ca.distinguished_name = name;
    validity(&mut ca, 10);
    let ca_key = KeyPair::generate().map_err(cert_error)?;
    let ca_pem = ca.self_signed(&ca_key).map_err(cert_error)?.pem();
    let issuer = Issuer::new(ca, ca_key);

    let mut server = CertificateParams::default();
    let mut sans = vec![
        SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)),
        SanType::IpAddress(IpAddr::V6(Ipv6Addr::LOCALHOST)),
    ];
    for name in ["localhost", "app", "giropops-senhas"]
        .into_iter()
        .chain(extra_sans.iter().map(String::as_str))
    {
        sans.push(match name.parse::<IpAddr>() {
            Ok(ip) => SanType::IpAddress(ip),
            Err(_) => SanType::DnsName(name.try_into().map_err(|_| {
                InitSecretsError::Invalid(format!("--san {name:?} is not a DNS name"))
            })?),
        });
    }
    server.subject_alt_names = sans;
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, "giropops-senhas");
    server.distinguished_name = name;
    server.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    validity(&mut server, 2);
    let server_key = KeyPair::generate().map_err(cert_error)?;
    let server_pem = server.signed_by(&server_key, &issuer).map_err(cert_error)?;
    Ok(vec![
        File {
            name: "ca.pem",
            mode: 0o640,
            content: ca_pem,
        },
        File {
            name: "server.pem",
            mode: 0o640,
            content: server_pem.pem(),
        },
        File {
            name: "server-key.pem",
            mode: 0o600,
            content: server_key.serialize_pem(),
        },
    ])
}

/// A fresh token and its tokens-file line (as `token new`).
pub(super) fn token_files(name: &str, scopes: Scopes) -> Result<Vec<File>, InitSecretsError> {
    let (token, digest) = new_token();
    let line = format_line(name, scopes, &digest)
        .map_err(|e| InitSecretsError::Invalid(format!("--token-name: {e}")))?;
    Ok(vec![
        File {
            name: "token",
            mode: 0o600,
            content: format!("{token}\n"),
        },
        File {
            name: "tokens",
            mode: 0o640,
            content: format!("# AUTH_TOKENS_FILE: NAME SCOPES SHA256_HEX\n{line}\n"),
        },
    ])
}

/// A random Redis password and the ACL file that admits it.
pub(super) fn redis_files(history_key: &str) -> Result<Vec<File>, InitSecretsError> {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let password = URL_SAFE_NO_PAD.encode(bytes);
    Ok(vec![
        File {
            name: "redis-password",
            mode: 0o600,
            content: format!("{password}\n"),
        },
        File {
            name: "redis-users.acl",
            mode: 0o640,
            content: redis_acl(&password, history_key)?,
        },
    ])
}

/// The Redis ACL file: `default` off; [`REDIS_USER`] with `password`
/// (stored as its SHA-256), limited to the keys under `{history_key}:` and
/// to [`REDIS_COMMANDS`], no Pub/Sub channels.
pub fn redis_acl(password: &str, history_key: &str) -> Result<String, InitSecretsError> {
    if history_key.is_empty()
        || history_key
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(InitSecretsError::Invalid(format!(
            "--history-key/HISTORY_KEY {history_key:?} cannot be an ACL key pattern (empty or with spaces)"
        )));
    }
    // The key pattern is a glob: its special characters are escaped.
    let mut pattern = String::from("{");
    for c in history_key.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push_str("}:*");
    let digest: String = Sha256::digest(password.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let commands: String = REDIS_COMMANDS.iter().map(|c| format!(" +{c}")).collect();
    Ok(format!(
        "user default off resetpass resetkeys resetchannels -@all\n\
         user {REDIS_USER} on #{digest} resetkeys ~{pattern} resetchannels -@all{commands}\n"
    ))
}
