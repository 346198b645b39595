//! Listening and serving. A hand-written accept loop (rather than `axum::serve`) gives each connection a
//! handle by which a fault can close it without an answer.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;

use crate::app::{AppState, ConnectionKill};
use crate::dispatch::dispatch;
use crate::sid::new_sid;
use crate::state::{Account, Limits, LogEntry, State};

#[derive(Debug, Clone, Default)]
pub struct SandboxConfig {
  /// 0 picks a free port.
  pub port: u16,
  /// Loopback when absent.
  pub host: Option<IpAddr>,
  pub account_sid: Option<String>,
  pub auth_token: Option<String>,
  /// Twilio's documented limits by default; see [`Limits`].
  pub limits: Limits,
  /// Required on every control API call (`X-Sandbox-Token`) when given. Bound beyond loopback, the sandbox makes
  /// one up when none is given: its control API can reset, dump and break everything.
  pub control_token: Option<String>,
}

/// A running sandbox. Dropping it stops the server and closes its connections.
pub struct Sandbox {
  url: String,
  shared: Arc<AppState>,
  shutdown: watch::Sender<bool>,
  task: JoinHandle<()>,
  delivery: JoinHandle<()>,
}

impl Sandbox {
  pub async fn start(config: SandboxConfig) -> std::io::Result<Self> {
    let host = config.host.unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
    let listener = TcpListener::bind(SocketAddr::new(host, config.port)).await?;
    let addr = listener.local_addr()?;
    let url = format!("http://{addr}");
    let account = Account {
      account_sid: config.account_sid.unwrap_or_else(|| new_sid("AC")),
      auth_token: config
        .auth_token
        .unwrap_or_else(|| new_sid("").chars().take(32).collect()),
      chat_service_sid: new_sid("IS"),
      messaging_service_sid: new_sid("MG"),
    };
    let control_token = config
      .control_token
      .or_else(|| (!host.is_loopback()).then(|| new_sid("").chars().take(32).collect()));
    let shared = Arc::new(AppState {
      state: Mutex::new(State::new(account, config.limits)),
      base: url.clone(),
      control_token,
      webhook_http: reqwest::Client::builder().build().map_err(std::io::Error::other)?,
      webhooks_wake: Notify::new(),
      releases: watch::Sender::new(0),
      attempted: watch::Sender::new(0),
    });
    let router = Router::new().fallback(dispatch).with_state(shared.clone());
    let (shutdown, watcher) = watch::channel(false);
    let task = tokio::spawn(accept_loop(listener, router, watcher));
    let delivery = tokio::spawn(crate::delivery::run(shared.clone()));
    Ok(Self {
      url,
      shared,
      shutdown,
      task,
      delivery,
    })
  }

  /// The token the control API demands, when it demands one.
  pub fn control_token(&self) -> Option<&str> {
    self.shared.control_token.as_deref()
  }

  pub fn url(&self) -> &str {
    &self.url
  }

  pub fn account_sid(&self) -> String {
    self.shared.lock().account.account_sid.clone()
  }

  pub fn auth_token(&self) -> String {
    self.shared.lock().account.auth_token.clone()
  }

  pub fn chat_service_sid(&self) -> String {
    self.shared.lock().account.chat_service_sid.clone()
  }

  /// Direct access to the state, for tests in the same process.
  pub fn state(&self) -> MutexGuard<'_, State> {
    self.shared.lock()
  }

  pub fn reset(&self) {
    self.shared.lock().reset();
  }

  pub fn received_requests(&self) -> Vec<LogEntry> {
    self.shared.lock().log.clone()
  }

  /// Stops, and returns once the listener is closed and its port free.
  pub async fn shutdown(mut self) {
    let _ = self.shutdown.send(true);
    let _ = (&mut self.task).await;
    self.delivery.abort();
  }

  pub fn stop(&self) {
    let _ = self.shutdown.send(true);
    self.task.abort();
    self.delivery.abort();
  }
}

impl Drop for Sandbox {
  fn drop(&mut self) {
    self.stop();
  }
}

async fn accept_loop(listener: TcpListener, router: Router, mut shutdown: watch::Receiver<bool>) {
  loop {
    tokio::select! {
      _ = shutdown.changed() => return,
      accepted = listener.accept() => {
        if let Ok((stream, _)) = accepted {
          tokio::spawn(serve_connection(stream, router.clone(), shutdown.clone()));
        }
      }
    }
  }
}

async fn serve_connection(stream: TcpStream, router: Router, mut shutdown: watch::Receiver<bool>) {
  let _ = stream.set_nodelay(true);
  let kill = Arc::new(Notify::new());
  let handle = ConnectionKill(kill.clone());
  let service = hyper::service::service_fn(move |mut request: hyper::Request<hyper::body::Incoming>| {
    request.extensions_mut().insert(handle.clone());
    let mut router = router.clone();
    async move { tower_service::Service::call(&mut router, request.map(axum::body::Body::new)).await }
  });
  let connection = hyper::server::conn::http1::Builder::new()
    .keep_alive(true)
    .serve_connection(TokioIo::new(stream), service);
  tokio::select! {
    _ = connection => {}
    _ = kill.notified() => {}
    _ = shutdown.changed() => {}
  }
}
