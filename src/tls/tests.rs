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
fn the_history_set_name_is_no_san() {
    let errors = ClientScopes::parse("Principals history\n").unwrap_err();
    assert_eq!(errors.len(), 1);
    assert!(errors[0].to_string().contains("is reserved"), "{errors:?}");
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
