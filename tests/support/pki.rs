//! A private CA and the certificates it signs, as PEM files in a temporary
//! directory (rcgen): server certificates for `localhost`, client
//! certificates for a SAN.

use std::path::PathBuf;

use giropops_senhas::tls::TlsFiles;
use giropops_senhas_client::ClientOptions;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    SanType,
};

/// A CA, and certificates it signs, as PEM files in a temporary directory.
pub struct Pki {
    dir: tempfile::TempDir,
    ca: Issuer<'static, KeyPair>,
    pub ca_pem: String,
}

/// A client certificate: its PEM files, and the options a client uses.
pub struct ClientCert {
    pub cert: PathBuf,
    pub key: PathBuf,
    pub options: ClientOptions,
}

impl Pki {
    pub fn new() -> Pki {
        let mut params = CertificateParams::default();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, "giropops-senhas test CA");
        let key = KeyPair::generate().unwrap();
        let ca_pem = params.self_signed(&key).unwrap().pem();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ca.pem"), &ca_pem).unwrap();
        Pki {
            dir,
            ca: Issuer::new(params, key),
            ca_pem,
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes `NAME.pem` and `NAME.key`: a certificate for `sans`.
    pub fn leaf(&self, name: &str, sans: Vec<SanType>, usage: ExtendedKeyUsagePurpose) {
        let mut params = CertificateParams::default();
        // A subject of its own: with rcgen's default (the CA's too),
        // OpenSSL clients (curl) take the leaf for self-signed.
        params.distinguished_name.push(DnType::CommonName, name);
        params.subject_alt_names = sans;
        params.extended_key_usages = vec![usage];
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.ca).unwrap();
        std::fs::write(self.path(&format!("{name}.pem")), cert.pem()).unwrap();
        std::fs::write(self.path(&format!("{name}.key")), key.serialize_pem()).unwrap();
    }

    /// The server's files (a certificate for `localhost`); `mutual`: client
    /// certificates signed by the CA required.
    pub fn server_files(&self, mutual: bool) -> TlsFiles {
        self.leaf(
            "server",
            vec![SanType::DnsName("localhost".try_into().unwrap())],
            ExtendedKeyUsagePurpose::ServerAuth,
        );
        TlsFiles {
            cert: self.path("server.pem"),
            key: self.path("server.key"),
            client_ca: mutual.then(|| self.path("ca.pem")),
        }
    }

    /// Options trusting the CA, without a client certificate.
    pub fn trusting(&self) -> ClientOptions {
        ClientOptions {
            ca_pem: Some(self.ca_pem.clone().into_bytes()),
            ..ClientOptions::default()
        }
    }

    /// A client certificate named `name` for `san`.
    pub fn client(&self, name: &str, san: SanType) -> ClientCert {
        self.leaf(name, vec![san], ExtendedKeyUsagePurpose::ClientAuth);
        let cert = self.path(&format!("{name}.pem"));
        let key = self.path(&format!("{name}.key"));
        let options = ClientOptions {
            identity_pem: Some((std::fs::read(&cert).unwrap(), std::fs::read(&key).unwrap())),
            ..self.trusting()
        };
        ClientCert { cert, key, options }
    }
}
