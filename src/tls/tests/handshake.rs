//! Handshakes: ALPN, mutual TLS refusals and acceptance, the handshake timeout.

use super::*;

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
