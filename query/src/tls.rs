//! TLS for the HTTP and Postgres endpoints when a certificate and its key are configured
//! (`[serve] tls_cert` and `tls_key`, PEM files: the certificate chain, then the private key in
//! PKCS#8, PKCS#1 or SEC1). rustls with its `ring` provider; TLS 1.2 and 1.3.

use std::path::Path;
use std::sync::Arc;

use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::crypto::ring;

use crate::error::{ErrorCode, QueryError, Result};

fn refused(path: &Path, why: impl std::fmt::Display) -> QueryError {
    QueryError::new(
        ErrorCode::BadRequest,
        format!(
            "the TLS file {} cannot be used ({why}); give tls_cert as the PEM certificate chain \
             and tls_key as its PEM private key",
            path.display()
        ),
    )
}

/// An acceptor of TLS connections with the certificate chain in `cert` and its key in `key`,
/// offering the application protocols `alpn` (`http/1.1`, `postgresql`).
pub fn acceptor(cert: &Path, key: &Path, alpn: &[&[u8]]) -> Result<TlsAcceptor> {
    let read = |path: &Path| std::fs::read(path).map_err(|e| refused(path, e));
    let chain = rustls_pemfile::certs(&mut read(cert)?.as_slice())
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| refused(cert, e))?;
    if chain.is_empty() {
        return Err(refused(cert, "no certificate in it"));
    }
    let private = rustls_pemfile::private_key(&mut read(key)?.as_slice())
        .map_err(|e| refused(key, e))?
        .ok_or_else(|| refused(key, "no private key in it"))?;
    let mut config = ServerConfig::builder_with_provider(Arc::new(ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| refused(cert, e))?
        .with_no_client_auth()
        .with_single_cert(chain, private)
        .map_err(|e| refused(key, e))?;
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Ok(TlsAcceptor::from(Arc::new(config)))
}
