//! Tests of [`super`].

use std::net::SocketAddr;
use std::time::Instant;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};
use rustls::ClientConfig;
use rustls::pki_types::ServerName;
use tempfile::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsConnector;

use x509_cert::Certificate;
use x509_cert::der::Decode;

use std::path::PathBuf;

use rustls::pki_types::pem::PemObject;

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

async fn accept(listener: &TcpListener, tls: &ReloadableTls) -> io::Result<TlsStream<TcpStream>> {
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

mod files;
mod handshake;
mod scopes;
