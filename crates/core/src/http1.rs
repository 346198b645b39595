//! The HTTP/1.1 transport: keep-alive connections to each origin, pooled, one request at a time on each; TLS by
//! rustls on ring with the webpki roots, as reqwest had it.
//!
//! It does per request only what the request needs: the origin is looked up by its text, never parsed again;
//! the request goes to hyper's connection as it is, with no redirect, retry or timeout layers (`Http::execute`
//! owns retries and deadlines, and Twilio does not redirect API calls). A request that a pooled connection
//! refused before writing a byte of it (the server had closed it) is sent again on a new connection at once:
//! it carried nothing. An HTTP(S) proxy in the environment is reqwest's to serve (see `http::transport`).

use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::header::{HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE, DATE, HOST, USER_AGENT};
use hyper::{Method as HttpMethod, Uri};
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_rustls::TlsConnector;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::http::{
  basic_authorization, explain, retry_after, Body, Method, Request, Response, Transport, TransportError,
  MAX_ANSWER_BYTES, USER_AGENT as AGENT,
};
use crate::sync::Unpoisoned;

/// How long an unused connection is kept (reqwest's pool kept them as long).
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// The most origins pooled: the configured hosts and a few more; any other is served on a connection of its own.
const MAX_ORIGINS: usize = 16;

type Sender = SendRequest<Full<Bytes>>;

struct Idle {
  sender: Sender,
  since: Instant,
}

enum Host {
  Name(String),
  Ip(std::net::IpAddr),
}

/// One scheme, host and port, and its idle connections.
struct Origin {
  /// `https://host[:port]`, as request URLs begin.
  prefix: String,
  tls: Option<ServerName<'static>>,
  host: Host,
  port: u16,
  /// The `Host` header.
  authority: HeaderValue,
  idle: Mutex<Vec<Idle>>,
}

impl Origin {
  fn parse(prefix: &str) -> std::result::Result<Self, String> {
    let url = url::Url::parse(prefix).map_err(|e| format!("invalid request URL: {e}"))?;
    let https = match url.scheme() {
      "https" => true,
      "http" => false,
      other => return Err(format!("unsupported URL scheme {other}")),
    };
    if !url.username().is_empty() || url.password().is_some() {
      return Err("a request URL may not carry credentials".to_string());
    }
    let port = url.port_or_known_default().ok_or("a request URL needs a port")?;
    let (host, name) = match url.host() {
      Some(url::Host::Domain(domain)) => (
        Host::Name(domain.to_string()),
        ServerName::try_from(domain.to_string()).map_err(|e| format!("invalid host name: {e}"))?,
      ),
      Some(url::Host::Ipv4(ip)) => (
        Host::Ip(ip.into()),
        ServerName::IpAddress(std::net::IpAddr::from(ip).into()),
      ),
      Some(url::Host::Ipv6(ip)) => (
        Host::Ip(ip.into()),
        ServerName::IpAddress(std::net::IpAddr::from(ip).into()),
      ),
      None => return Err("a request URL needs a host".to_string()),
    };
    let authority = url[url::Position::BeforeHost..url::Position::AfterPort].to_string();
    Ok(Self {
      prefix: prefix.to_string(),
      tls: https.then_some(name),
      host,
      port,
      authority: HeaderValue::try_from(authority).map_err(|_| "invalid host".to_string())?,
      idle: Mutex::new(Vec::new()),
    })
  }

  /// An idle connection that is still open, most recently used first.
  async fn checkout(&self) -> Option<Sender> {
    loop {
      let Idle { mut sender, since } = self.idle.locked().pop()?;
      if since.elapsed() < IDLE_TIMEOUT && sender.ready().await.is_ok() {
        return Some(sender);
      }
    }
  }

  fn checkin(&self, sender: Sender) {
    if sender.is_closed() {
      return;
    }
    let now = Instant::now();
    let mut idle = self.idle.locked();
    // The oldest are at the bottom: drop those past their time, which checkouts from the top never reach.
    if idle.first().is_some_and(|oldest| now - oldest.since >= IDLE_TIMEOUT) {
      idle.retain(|entry| now - entry.since < IDLE_TIMEOUT);
    }
    idle.push(Idle { sender, since: now });
  }
}

/// Where a request goes: its origin, and the path and query hyper sends.
fn split(url: &str) -> std::result::Result<(&str, Uri), String> {
  let after_scheme = url.find("://").map(|i| i + 3).ok_or("invalid request URL")?;
  let end = url[after_scheme..]
    .find(['/', '?'])
    .map_or(url.len(), |i| after_scheme + i);
  let (prefix, rest) = url.split_at(end);
  let rest = if rest.is_empty() { "/" } else { rest };
  let target = Uri::try_from(rest).or_else(|_| {
    // Not already encoded as HTTP needs it: the URL parser encodes it the way reqwest did.
    let parsed = url::Url::parse(url).map_err(|e| format!("invalid request URL: {e}"))?;
    Uri::try_from(&parsed[url::Position::BeforePath..]).map_err(|e| format!("invalid request URL: {e}"))
  })?;
  Ok((prefix, target))
}

pub struct Http1Transport {
  origins: RwLock<Vec<Arc<Origin>>>,
  tls: TlsConnector,
  /// `Basic …`, encoded once and marked sensitive.
  authorization: HeaderValue,
  webhook_enabled: bool,
  connect_timeout: Duration,
}

fn tls_config() -> Result<rustls::ClientConfig> {
  let roots = rustls::RootCertStore {
    roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
  };
  let builder = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
    .with_safe_default_protocol_versions()
    .map_err(|e| Error::Config {
      message: format!("cannot set up TLS: {e}"),
    })?;
  Ok(builder.with_root_certificates(roots).with_no_client_auth())
}

impl Http1Transport {
  pub fn new(config: &Config) -> Result<Self> {
    Self::with_tls(config, tls_config()?)
  }

  /// With a TLS configuration of the caller's (a test's own root). Only HTTP/1.1 is offered.
  pub fn with_tls(config: &Config, mut tls: rustls::ClientConfig) -> Result<Self> {
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    let origins = [&config.hosts.api, &config.hosts.conversations, &config.hosts.media]
      .into_iter()
      .filter_map(|host| Origin::parse(host.trim_end_matches('/')).ok())
      .map(Arc::new)
      .collect();
    Ok(Self {
      origins: RwLock::new(origins),
      tls: TlsConnector::from(Arc::new(tls)),
      authorization: basic_authorization(&config.username, &config.password)?,
      webhook_enabled: config.webhook_enabled,
      connect_timeout: config.timeout.min(Duration::from_secs(10)),
    })
  }

  fn origin(&self, prefix: &str) -> std::result::Result<Arc<Origin>, String> {
    let known = self.origins.read().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(origin) = known.iter().find(|origin| origin.prefix == prefix) {
      return Ok(origin.clone());
    }
    drop(known);
    let origin = Arc::new(Origin::parse(prefix)?);
    let mut known = self.origins.write().unwrap_or_else(|poisoned| poisoned.into_inner());
    if known.len() < MAX_ORIGINS {
      known.push(origin.clone());
    }
    Ok(origin)
  }

  async fn connect(&self, origin: &Origin) -> std::result::Result<Sender, TransportError> {
    let open = async {
      let tcp = match &origin.host {
        Host::Ip(ip) => TcpStream::connect((*ip, origin.port))
          .await
          .map_err(|e| not_sent("cannot connect", &e))?,
        Host::Name(name) => self.connect_by_name(name, origin.port).await?,
      };
      tcp.set_nodelay(true).map_err(|e| not_sent("cannot connect", &e))?;
      match &origin.tls {
        None => handshake(tcp).await,
        Some(name) => {
          let stream = self
            .tls
            .connect(name.clone(), tcp)
            .await
            .map_err(|e| not_sent("TLS handshake failed", &e))?;
          handshake(stream).await
        }
      }
    };
    tokio::time::timeout(self.connect_timeout, open)
      .await
      .unwrap_or_else(|_| Err(TransportError::NotSent("connecting timed out".to_string())))
  }

  /// The name's addresses, tried in turn: each gets an equal share of the connect timeout, so that one address
  /// that never answers (IPv6 on a host without a route) does not use up the time the next one needs.
  async fn connect_by_name(&self, name: &str, port: u16) -> std::result::Result<TcpStream, TransportError> {
    let addresses: Vec<std::net::SocketAddr> = tokio::net::lookup_host((name, port))
      .await
      .map_err(|e| not_sent("cannot resolve the host", &e))?
      .collect();
    let share = self.connect_timeout / u32::try_from(addresses.len().max(1)).unwrap_or(u32::MAX);
    let mut last = TransportError::NotSent("cannot resolve the host: no address".to_string());
    for address in addresses {
      match tokio::time::timeout(share, TcpStream::connect(address)).await {
        Ok(Ok(tcp)) => return Ok(tcp),
        Ok(Err(e)) => last = not_sent("cannot connect", &e),
        Err(_) => last = TransportError::NotSent("connecting timed out".to_string()),
      }
    }
    Err(last)
  }

  fn request(
    &self,
    request: &Request,
    target: Uri,
    origin: &Origin,
  ) -> std::result::Result<hyper::Request<Full<Bytes>>, TransportError> {
    let (body, content_type) = match &request.body {
      Body::Empty => (Bytes::new(), None),
      Body::Form(form) => (
        Bytes::from(
          form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish(),
        ),
        Some(HeaderValue::from_static("application/x-www-form-urlencoded")),
      ),
      Body::Bytes { content_type, bytes } => (
        bytes.clone(),
        Some(
          HeaderValue::try_from(content_type.as_str())
            .map_err(|_| TransportError::NotSent("invalid content type".to_string()))?,
        ),
      ),
    };
    let mut outgoing = hyper::Request::new(Full::new(body));
    *outgoing.method_mut() = match request.method {
      Method::Get => HttpMethod::GET,
      Method::Post => HttpMethod::POST,
      Method::Delete => HttpMethod::DELETE,
    };
    *outgoing.uri_mut() = target;
    let headers = outgoing.headers_mut();
    headers.insert(HOST, origin.authority.clone());
    headers.insert(AUTHORIZATION, self.authorization.clone());
    headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
    headers.insert(USER_AGENT, HeaderValue::from_static(AGENT));
    if let Some(content_type) = content_type {
      headers.insert(CONTENT_TYPE, content_type);
    }
    if request.method != Method::Get && self.webhook_enabled {
      headers.insert("x-twilio-webhook-enabled", HeaderValue::from_static("true"));
    }
    Ok(outgoing)
  }

  async fn exchange(&self, request: &Request) -> std::result::Result<Response, TransportError> {
    let (prefix, target) = split(&request.url).map_err(TransportError::NotSent)?;
    let origin = self.origin(prefix).map_err(TransportError::NotSent)?;
    let mut outgoing = self.request(request, target, &origin)?;
    let (sender, mut response) = match origin.checkout().await {
      Some(mut sender) => match sender.try_send_request(outgoing).await {
        Ok(response) => (sender, response),
        Err(mut refused) => {
          // The pooled connection closed before this request was written: it carried nothing.
          outgoing = refused.take_message().ok_or_else(|| lost(refused.error()))?;
          let mut sender = self.connect(&origin).await?;
          let response = send_fresh(&mut sender, outgoing).await?;
          (sender, response)
        }
      },
      None => {
        let mut sender = self.connect(&origin).await?;
        let response = send_fresh(&mut sender, outgoing).await?;
        (sender, response)
      }
    };
    let status = response.status().as_u16();
    let headers = response.headers();
    let retry_after = retry_after(headers);
    let date = headers.get(DATE).and_then(|v| v.to_str().ok()).map(str::to_string);
    let declared = headers
      .get(hyper::header::CONTENT_LENGTH)
      .and_then(|v| v.to_str().ok())
      .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_ANSWER_BYTES as u64) {
      return Err(TransportError::Oversized(status));
    }
    let mut body = BytesMut::with_capacity(declared.map_or(0, |n| n as usize));
    while let Some(frame) = response.body_mut().frame().await {
      let frame = frame.map_err(|e| lost(&e))?;
      if let Ok(chunk) = frame.into_data() {
        if body.len() + chunk.len() > MAX_ANSWER_BYTES {
          return Err(TransportError::Oversized(status));
        }
        body.extend_from_slice(&chunk);
      }
    }
    // Read to its end, the connection can take the next request.
    origin.checkin(sender);
    Ok(Response {
      status,
      retry_after,
      date,
      body: body.freeze(),
    })
  }
}

async fn handshake<I>(io: I) -> std::result::Result<Sender, TransportError>
where
  I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
  let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(io))
    .await
    .map_err(|e| not_sent("cannot start HTTP/1.1", &e))?;
  // The connection drives itself until either side closes it; its end is seen through the sender.
  tokio::spawn(async move {
    let _ = connection.await;
  });
  Ok(sender)
}

/// On a new connection, a request hyper refused before writing it was not sent either.
async fn send_fresh(
  sender: &mut Sender,
  outgoing: hyper::Request<Full<Bytes>>,
) -> std::result::Result<hyper::Response<hyper::body::Incoming>, TransportError> {
  sender.try_send_request(outgoing).await.map_err(|mut refused| {
    if refused.take_message().is_some() {
      not_sent("the new connection closed", refused.error())
    } else {
      lost(refused.error())
    }
  })
}

/// hyper's and the socket's errors never carry the URL, whose path names the customer.
fn not_sent(what: &str, error: &(dyn std::error::Error + 'static)) -> TransportError {
  TransportError::NotSent(format!("{what}: {}", explain(error)))
}

fn lost(error: &(dyn std::error::Error + 'static)) -> TransportError {
  TransportError::Lost(explain(error))
}

impl Transport for Http1Transport {
  fn send<'a>(
    &'a self,
    request: &'a Request,
  ) -> futures::future::BoxFuture<'a, std::result::Result<Response, TransportError>> {
    Box::pin(self.exchange(request))
  }
}

#[cfg(test)]
mod tests {
  use std::net::SocketAddr;
  use std::sync::atomic::{AtomicUsize, Ordering};

  use tokio::io::{AsyncReadExt, AsyncWriteExt};
  use tokio::net::TcpListener;
  use tokio_rustls::TlsAcceptor;

  use super::*;
  use crate::config::{Options, Secret};

  /// What a test server saw: each request's head and body, and the connections it accepted.
  #[derive(Default)]
  struct Seen {
    requests: Mutex<Vec<String>>,
    connections: AtomicUsize,
  }

  fn answer(status: &str, headers: &str, body: &str) -> String {
    format!(
      "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ndate: Mon, 30 Nov 2026 15:00:00 GMT\r\n{headers}content-length: {}\r\n\r\n{body}",
      body.len()
    )
  }

  /// Answers up to `per_connection` requests on one connection, then closes it; `None` closes without answering.
  async fn serve<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    seen: &Seen,
    answer: Option<&str>,
    per_connection: usize,
  ) {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    for _ in 0..per_connection {
      let head_end = loop {
        if let Some(i) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
          break i + 4;
        }
        match stream.read(&mut chunk).await {
          Ok(0) | Err(_) => return,
          Ok(n) => buffer.extend_from_slice(&chunk[..n]),
        }
      };
      let head = String::from_utf8_lossy(&buffer[..head_end]).to_string();
      let length = head
        .to_lowercase()
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .and_then(|value| value.trim().parse::<usize>().ok())
        .unwrap_or(0);
      while buffer.len() < head_end + length {
        match stream.read(&mut chunk).await {
          Ok(0) | Err(_) => return,
          Ok(n) => buffer.extend_from_slice(&chunk[..n]),
        }
      }
      let body = String::from_utf8_lossy(&buffer[head_end..head_end + length]).to_string();
      buffer.drain(..head_end + length);
      seen.requests.lock().unwrap().push(format!("{head}{body}"));
      let Some(answer) = answer else { return };
      if stream.write_all(answer.as_bytes()).await.is_err() || stream.flush().await.is_err() {
        return;
      }
    }
    // A moment after its last answer, as a server's idle timeout would: the client has pooled the connection.
    tokio::time::sleep(Duration::from_millis(20)).await;
    let _ = stream.shutdown().await;
  }

  async fn server(tls: Option<TlsAcceptor>, answer: Option<String>, per_connection: usize) -> (SocketAddr, Arc<Seen>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let seen = Arc::new(Seen::default());
    let counted = seen.clone();
    tokio::spawn(async move {
      while let Ok((tcp, _)) = listener.accept().await {
        counted.connections.fetch_add(1, Ordering::SeqCst);
        let (seen, answer, tls) = (counted.clone(), answer.clone(), tls.clone());
        tokio::spawn(async move {
          match tls {
            Some(acceptor) => {
              if let Ok(stream) = acceptor.accept(tcp).await {
                serve(stream, &seen, answer.as_deref(), per_connection).await;
              }
            }
            None => serve(tcp, &seen, answer.as_deref(), per_connection).await,
          }
        });
      }
    });
    (address, seen)
  }

  fn config(base_url: &str) -> Config {
    Config::resolve(
      Options {
        account_sid: Some("AC1".into()),
        auth_token: Some(Secret::new("token")),
        base_url: Some(base_url.into()),
        ..Default::default()
      },
      |_| None,
    )
    .unwrap()
  }

  /// A certificate authority of the test's own: the server's TLS set-up, and a client configuration trusting it.
  fn authority() -> (TlsAcceptor, rustls::ClientConfig) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["localhost".to_string()])
      .unwrap()
      .signed_by(&leaf_key, &ca, &ca_key)
      .unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into());
    let server = rustls::ServerConfig::builder_with_provider(provider.clone())
      .with_safe_default_protocol_versions()
      .unwrap()
      .with_no_client_auth()
      .with_single_cert(vec![leaf.der().clone()], key)
      .unwrap();
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca.der().clone()).unwrap();
    let client = rustls::ClientConfig::builder_with_provider(provider)
      .with_safe_default_protocol_versions()
      .unwrap()
      .with_root_certificates(roots)
      .with_no_client_auth();
    (TlsAcceptor::from(Arc::new(server)), client)
  }

  fn send_text(url: String) -> Request {
    Request::post_form(
      url,
      vec![("Body".into(), "hi there!".into()), ("Author".into(), "system".into())],
      false,
    )
  }

  #[tokio::test]
  async fn https_goes_over_tls_to_a_host_the_roots_vouch_for_and_no_other() {
    let (acceptor, trusting) = authority();
    let (address, seen) = server(Some(acceptor), Some(answer("201 Created", "", r#"{"sid":"IM1"}"#)), 10).await;
    let base = format!("https://localhost:{}", address.port());
    let transport = Http1Transport::with_tls(&config(&base), trusting).unwrap();
    let response = transport
      .send(&send_text(format!("{base}/v1/Conversations/CH1/Messages")))
      .await
      .unwrap();
    assert_eq!((response.status, &response.body[..]), (201, &br#"{"sid":"IM1"}"#[..]));
    assert_eq!(response.date.as_deref(), Some("Mon, 30 Nov 2026 15:00:00 GMT"));
    assert_eq!(seen.requests.lock().unwrap().len(), 1);

    // The webpki roots do not vouch for the test's authority: nothing is sent.
    let text = refusal(&Http1Transport::new(&config(&base)).unwrap(), &base).await;
    assert!(
      text.starts_with("TLS handshake failed") && text.contains("certificate"),
      "{text}"
    );
    assert_eq!(seen.requests.lock().unwrap().len(), 1);
  }

  /// The error of a send to a customer's conversation that must not leave: not sent, and naming no number.
  async fn refusal(transport: &Http1Transport, base: &str) -> String {
    let outcome = transport
      .send(&send_text(format!(
        "{base}/v1/Conversations/whatsapp_15551234567/Messages"
      )))
      .await;
    let Err(TransportError::NotSent(text)) = outcome else {
      panic!("the request was not refused before it left: {outcome:?}")
    };
    assert!(!text.contains("15551234567"), "{text}");
    text
  }

  #[tokio::test]
  async fn requests_to_one_origin_share_a_kept_alive_connection_and_carry_what_twilio_needs() {
    let (address, seen) = server(None, Some(answer("201 Created", "", "{}")), 100).await;
    let base = format!("http://127.0.0.1:{}", address.port());
    let transport = Http1Transport::new(&config(&base)).unwrap();
    for _ in 0..3 {
      let response = transport
        .send(&send_text(format!("{base}/v1/Conversations/CH1/Messages")))
        .await
        .unwrap();
      assert_eq!(response.status, 201);
    }
    let read = transport
      .send(&Request::get(format!(
        "{base}/v1/Conversations/CH1/Participants?PageSize=50"
      )))
      .await
      .unwrap();
    assert_eq!(read.status, 201);
    assert_eq!(seen.connections.load(Ordering::SeqCst), 1);
    let requests = seen.requests.lock().unwrap();
    let post = &requests[0];
    assert!(
      post.starts_with("POST /v1/Conversations/CH1/Messages HTTP/1.1\r\n"),
      "{post}"
    );
    for header in [
      format!("host: 127.0.0.1:{}\r\n", address.port()),
      // base64("AC1:token")
      "authorization: Basic QUMxOnRva2Vu\r\n".to_string(),
      "content-type: application/x-www-form-urlencoded\r\n".to_string(),
      "accept: application/json\r\n".to_string(),
      format!("user-agent: {AGENT}\r\n"),
    ] {
      assert!(post.contains(&header), "{header} in {post}");
    }
    assert!(post.ends_with("\r\n\r\nBody=hi+there%21&Author=system"), "{post}");
    assert!(
      requests[3].starts_with("GET /v1/Conversations/CH1/Participants?PageSize=50 HTTP/1.1\r\n"),
      "{}",
      requests[3]
    );
  }

  #[tokio::test]
  async fn a_connection_the_server_closed_is_replaced_without_an_error() {
    let (address, seen) = server(None, Some(answer("200 OK", "", "{}")), 1).await;
    let base = format!("http://127.0.0.1:{}", address.port());
    let transport = Http1Transport::new(&config(&base)).unwrap();
    for _ in 0..5 {
      let response = transport.send(&Request::get(format!("{base}/v1/Services"))).await;
      assert_eq!(response.map(|r| r.status).ok(), Some(200));
      tokio::time::sleep(Duration::from_millis(60)).await;
    }
    assert_eq!(seen.connections.load(Ordering::SeqCst), 5);
    assert_eq!(seen.requests.lock().unwrap().len(), 5, "each request was sent once");
  }

  #[tokio::test]
  async fn a_refused_connection_is_not_sent_and_its_error_names_no_number() {
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap();
    let base = format!("http://127.0.0.1:{}", closed.port());
    let text = refusal(&Http1Transport::new(&config(&base)).unwrap(), &base).await;
    assert!(text.starts_with("cannot connect"), "{text}");
  }

  #[tokio::test]
  async fn a_connection_closed_without_an_answer_is_a_lost_answer() {
    let (address, seen) = server(None, None, 1).await;
    let base = format!("http://127.0.0.1:{}", address.port());
    let transport = Http1Transport::new(&config(&base)).unwrap();
    let outcome = transport
      .send(&send_text(format!("{base}/v1/Conversations/CH1/Messages")))
      .await;
    assert!(matches!(outcome, Err(TransportError::Lost(_))), "{outcome:?}");
    assert_eq!(seen.requests.lock().unwrap().len(), 1);
  }

  #[tokio::test]
  async fn an_answer_over_the_limit_is_not_read() {
    let oversized = format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n", MAX_ANSWER_BYTES + 1);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
      let (mut tcp, _) = listener.accept().await.unwrap();
      let mut request = [0u8; 4096];
      let _ = tcp.read(&mut request).await;
      let _ = tcp.write_all(oversized.as_bytes()).await;
      tokio::time::sleep(Duration::from_secs(5)).await;
    });
    let base = format!("http://127.0.0.1:{}", address.port());
    let transport = Http1Transport::new(&config(&base)).unwrap();
    let outcome = transport.send(&Request::get(format!("{base}/v1/Services"))).await;
    assert!(matches!(outcome, Err(TransportError::Oversized(200))), "{outcome:?}");
  }

  #[test]
  fn a_request_url_splits_into_its_origin_and_the_target_hyper_sends() {
    for (url, origin, target) in [
      (
        "https://conversations.twilio.com/v1/Conversations/CH1/Messages",
        "https://conversations.twilio.com",
        "/v1/Conversations/CH1/Messages",
      ),
      (
        "http://127.0.0.1:4010/v1/Conversations?PageSize=50",
        "http://127.0.0.1:4010",
        "/v1/Conversations?PageSize=50",
      ),
      ("https://mcs.us1.twilio.com", "https://mcs.us1.twilio.com", "/"),
      // Not encoded as HTTP needs: encoded the way a URL parser does.
      (
        "https://media.twilio.com/v1/Services/IS1/Media?Filename=a b.png",
        "https://media.twilio.com",
        "/v1/Services/IS1/Media?Filename=a%20b.png",
      ),
    ] {
      let (prefix, uri) = split(url).unwrap();
      assert_eq!((prefix, uri.to_string().as_str()), (origin, target), "{url}");
    }
    assert!(split("not a url").is_err());
  }
}
