//! HTTPS: the page, the API and the WebSocket over TLS, and certificates
//! that cannot be served refused before the server starts.

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use common::{launch, quick, state_for, FACES};
use futures_util::SinkExt;
use melodora_music::Store;
use melodora_server::tls::self_signed;
use melodora_server::{TlsError, TlsIdentity};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;

/// A self-signed identity for the loopback names, and its certificate PEM
/// (what a client trusts).
fn loopback_identity(dir: &Path) -> (TlsIdentity, Vec<u8>) {
    let names = self_signed::names_for("127.0.0.1".parse().unwrap(), None);
    let made = self_signed::load_or_create(dir, &names).unwrap();
    let pem = std::fs::read(&made.cert_path).unwrap();
    (made.identity, pem)
}

/// A client that trusts `cert_pem` only.
fn https_agent(cert_pem: &[u8]) -> ureq::Agent {
    let cert = ureq::tls::Certificate::from_pem(cert_pem).unwrap();
    let tls = ureq::tls::TlsConfig::builder()
        .root_certs(ureq::tls::RootCerts::Specific(Arc::new(vec![cert])))
        .build();
    ureq::Agent::config_builder()
        .tls_config(tls)
        .http_status_as_error(false)
        .build()
        .new_agent()
}

fn https_get(agent: &ureq::Agent, url: &str) -> (u16, String) {
    let mut response = agent.get(url).call().unwrap();
    let status = response.status().as_u16();
    (status, response.body_mut().read_to_string().unwrap())
}

/// A TLS connection to `addr` that trusts `cert_pem` only, for `name`.
async fn tls_connect(
    addr: SocketAddr,
    cert_pem: &[u8],
    name: &str,
) -> std::io::Result<tokio_rustls::client::TlsStream<tokio::net::TcpStream>> {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(cert_pem).unwrap())
        .unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(addr).await?;
    let name = ServerName::try_from(name.to_string()).unwrap();
    connector.connect(name, tcp).await
}

#[test]
fn the_page_api_and_websocket_are_served_over_https() {
    let dir = tempfile::tempdir().unwrap();
    let (identity, cert_pem) = loopback_identity(dir.path());
    let state = state_for(quick(), Store::open_in_memory(true).unwrap(), None);
    let server = launch(state, Some(identity));
    let port = server.addr.port();
    let agent = https_agent(&cert_pem);

    // The page and the API, by name and by address, with the certificate
    // checked against both.
    let (status, page) = https_get(&agent, &format!("https://localhost:{port}/"));
    assert_eq!(status, 200);
    assert!(page.contains("<html"), "{page}");
    let (status, health) = https_get(&agent, &format!("https://127.0.0.1:{port}/api/health"));
    assert_eq!(status, 200, "{health}");

    // A frame over a WebSocket over TLS gets its faces.
    let runtime = common::runtime();
    runtime.block_on(async {
        let tls = tls_connect(server.addr, &cert_pem, "localhost")
            .await
            .unwrap();
        let (mut socket, _) =
            tokio_tungstenite::client_async(format!("wss://localhost:{port}/ws"), tls)
                .await
                .unwrap();
        let hello = next_json(&mut socket).await;
        assert_eq!(hello["type"], "hello", "{hello}");
        socket
            .send(Message::Binary(common::image(FACES).into()))
            .await
            .unwrap();
        let frame = loop {
            let message = next_json(&mut socket).await;
            if message["type"] == "frame" {
                break message;
            }
        };
        assert!(frame["faces"].as_array().unwrap().len() >= 2, "{frame}");
        assert_eq!(frame["songs"].as_array().unwrap().len(), 15, "{frame}");
    });
}

async fn next_json<S>(socket: &mut tokio_tungstenite::WebSocketStream<S>) -> Value
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    use futures_util::StreamExt;
    loop {
        let message = tokio::time::timeout(Duration::from_secs(20), socket.next())
            .await
            .expect("an answer in time")
            .expect("the socket is open")
            .unwrap();
        if let Message::Text(text) = message {
            return serde_json::from_str(text.as_str()).unwrap();
        }
    }
}

#[test]
fn stalled_and_plain_http_clients_do_not_stop_tls_clients() {
    use std::io::{Read, Write};
    let dir = tempfile::tempdir().unwrap();
    let (identity, cert_pem) = loopback_identity(dir.path());
    let state = state_for(quick(), Store::open_in_memory(true).unwrap(), None);
    let server = launch(state, Some(identity));
    // One client connects and says nothing; another speaks plain HTTP.
    let _stalled = std::net::TcpStream::connect(server.addr).unwrap();
    let mut plain = std::net::TcpStream::connect(server.addr).unwrap();
    plain
        .write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .unwrap();
    plain
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut answer = Vec::new();
    let _ = plain.read_to_end(&mut answer);
    assert!(
        !String::from_utf8_lossy(&answer).contains("<html"),
        "the page was served without TLS"
    );
    // Meanwhile a TLS client is served at once.
    let agent = https_agent(&cert_pem);
    let url = format!("https://localhost:{}/api/health/live", server.addr.port());
    let (status, body) = https_get(&agent, &url);
    assert_eq!(status, 200, "{body}");
}

/// Writes `cert` and `key` PEM files and loads them.
fn load(dir: &Path, cert: &str, key: &str) -> Result<TlsIdentity, TlsError> {
    let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert_path, cert).unwrap();
    std::fs::write(&key_path, key).unwrap();
    TlsIdentity::from_pem_files(&cert_path, &key_path)
}

/// A certificate for localhost valid from `from` to `until`, and its key.
fn certificate(from: time::OffsetDateTime, until: time::OffsetDateTime) -> (String, String) {
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    params.not_before = from;
    params.not_after = until;
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    (cert.pem(), key.serialize_pem())
}

#[test]
fn certificates_that_cannot_be_served_are_refused_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let now = time::OffsetDateTime::now_utc();
    let day = time::Duration::days(1);
    let (good_cert, good_key) = certificate(now - day, now + day);
    assert!(load(dir.path(), &good_cert, &good_key).is_ok());

    let (_, other_key) = certificate(now - day, now + day);
    let mismatch = load(dir.path(), &good_cert, &other_key).unwrap_err();
    assert!(matches!(mismatch, TlsError::KeyMismatch(_)), "{mismatch:?}");

    let (old_cert, old_key) = certificate(now - 30 * day, now - day);
    let expired = load(dir.path(), &old_cert, &old_key).unwrap_err();
    assert!(matches!(expired, TlsError::Expired(_)), "{expired:?}");
    assert!(expired.to_string().contains("expired on"), "{expired}");

    let (future_cert, future_key) = certificate(now + day, now + 30 * day);
    let early = load(dir.path(), &future_cert, &future_key).unwrap_err();
    assert!(matches!(early, TlsError::NotYetValid(_)), "{early:?}");

    let not_pem = load(dir.path(), "hello", &good_key).unwrap_err();
    assert!(
        matches!(not_pem, TlsError::NoCertificate { .. }),
        "{not_pem:?}"
    );
    let no_key = load(dir.path(), &good_cert, &good_cert).unwrap_err();
    assert!(matches!(no_key, TlsError::BadKeyPem { .. }), "{no_key:?}");
    let garbled = good_cert.replace("MII", "MIX");
    let garbled = load(dir.path(), &garbled, &good_key).unwrap_err();
    assert!(
        matches!(
            garbled,
            TlsError::BadCertificate(_) | TlsError::BadCertificatePem { .. }
        ),
        "{garbled:?}"
    );

    let missing =
        TlsIdentity::from_pem_files(&dir.path().join("absent.pem"), &dir.path().join("key.pem"))
            .unwrap_err();
    assert!(matches!(missing, TlsError::Read { .. }), "{missing:?}");
    assert!(missing.to_string().contains("absent.pem"), "{missing}");
}

#[test]
fn half_open_handshakes_and_heads_over_tls_are_closed_within_the_header_timeout() {
    use std::io::{Read, Write};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let dir = tempfile::tempdir().unwrap();
    let (identity, cert_pem) = loopback_identity(dir.path());
    let options = melodora_server::AppOptions {
        sockets: melodora_server::SocketLimits {
            header_timeout: Duration::from_secs(1),
            ..melodora_server::SocketLimits::default()
        },
        ..quick()
    };
    let state = state_for(options, Store::open_in_memory(true).unwrap(), None);
    let server = launch(state, Some(identity));
    let started = std::time::Instant::now();
    // The start of a ClientHello record that announces 512 bytes and
    // never sends them.
    let mut half_hello = std::net::TcpStream::connect(server.addr).unwrap();
    half_hello
        .write_all(&[0x16, 0x03, 0x01, 0x02, 0x00, 0x01])
        .unwrap();
    half_hello
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut rest = Vec::new();
    // An end or a reset: closed either way; a timeout leaves `took` at 5 s.
    let _ = half_hello.read_to_end(&mut rest);
    let took = started.elapsed();
    assert!(
        (Duration::from_millis(800)..Duration::from_millis(2500)).contains(&took),
        "closed after {took:?}"
    );
    // A whole handshake, then half a request head: closed too.
    let runtime = common::runtime();
    runtime.block_on(async {
        let mut tls = tls_connect(server.addr, &cert_pem, "localhost")
            .await
            .unwrap();
        tls.write_all(b"GET /api/health HTTP/1.1\r\nHost: localhost\r\nX-a: ")
            .await
            .unwrap();
        let started = std::time::Instant::now();
        let mut buffer = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(5), tls.read_to_end(&mut buffer)).await;
        assert!(read.is_ok(), "the half-open head was held for 5 s");
        assert!(
            started.elapsed() < Duration::from_millis(2500),
            "{:?}",
            started.elapsed()
        );
        assert!(
            buffer.is_empty(),
            "answered: {:?}",
            String::from_utf8_lossy(&buffer)
        );
    });
    // Meanwhile and after, a TLS client is served.
    let agent = https_agent(&cert_pem);
    let url = format!("https://localhost:{}/api/health/live", server.addr.port());
    assert_eq!(https_get(&agent, &url).0, 200);
}
