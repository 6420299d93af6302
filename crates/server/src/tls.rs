//! Serving HTTPS: rustls (with ring), a certificate and key from PEM files, read again on
//! SIGHUP so that a renewed certificate is served without a restart.

use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::server::{ClientHello, ResolvesServerCert};
use tokio_rustls::rustls::sign::CertifiedKey;
use tokio_rustls::rustls::{self, ServerConfig};
use tokio_rustls::TlsAcceptor;

/// Where the certificate (its chain, leaf first) and its private key are, in PEM.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// The server's TLS: the acceptor, and the certificate it serves, which [`Tls::reload`]
/// replaces.
pub struct Tls {
    certificate: Arc<Current>,
    acceptor: TlsAcceptor,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tls")
            .field("files", &self.certificate.files)
            .finish_non_exhaustive()
    }
}

/// The certificate served now.
#[derive(Debug)]
struct Current {
    files: TlsFiles,
    key: RwLock<Arc<CertifiedKey>>,
}

impl ResolvesServerCert for Current {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(
            self.key
                .read()
                .map_or_else(|p| p.into_inner().clone(), |k| k.clone()),
        )
    }
}

impl Tls {
    /// Reads the files; a certificate or key that cannot be used is an error that says why.
    pub fn load(files: TlsFiles) -> Result<Self, String> {
        let key = read(&files)?;
        let certificate = Arc::new(Current {
            files,
            key: RwLock::new(Arc::new(key)),
        });
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS: {e}"))?
            .with_no_client_auth()
            .with_cert_resolver(certificate.clone());
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Self {
            certificate,
            acceptor: TlsAcceptor::from(Arc::new(config)),
        })
    }

    /// Reads the files again and serves what they hold from the next connection on; when
    /// they cannot be used, the certificate served so far stays.
    pub fn reload(&self) -> Result<(), String> {
        let key = read(&self.certificate.files)?;
        match self.certificate.key.write() {
            Ok(mut current) => *current = Arc::new(key),
            Err(poisoned) => *poisoned.into_inner() = Arc::new(key),
        }
        Ok(())
    }

    pub fn acceptor(&self) -> TlsAcceptor {
        self.acceptor.clone()
    }
}

fn read(files: &TlsFiles) -> Result<CertifiedKey, String> {
    let certs = CertificateDer::pem_file_iter(&files.cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("tls_cert {}: {e}", files.cert.display()))?;
    if certs.is_empty() {
        return Err(format!(
            "tls_cert {}: no certificate in it (a PEM file with BEGIN CERTIFICATE)",
            files.cert.display()
        ));
    }
    let key = PrivateKeyDer::from_pem_file(&files.key)
        .map_err(|e| format!("tls_key {}: {e}", files.key.display()))?;
    let signing = rustls::crypto::ring::sign::any_supported_type(&key)
        .map_err(|e| format!("tls_key {}: {e}", files.key.display()))?;
    let certified = CertifiedKey::new(certs, signing);
    certified.keys_match().map_err(|e| {
        format!(
            "tls_key {} is not the key of tls_cert: {e}",
            files.key.display()
        )
    })?;
    Ok(certified)
}
