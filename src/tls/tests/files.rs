//! Loading and reloading the files: mismatched keys, errors that name the file, reloads that keep the old config.

use super::*;

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
