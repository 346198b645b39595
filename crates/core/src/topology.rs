//! Which Redis the fleet talks to, as `redisUrl` names it: one server (`redis://`, `rediss://`, `redis+unix://`), a
//! Redis Cluster (its seed nodes, comma-separated `redis://` or `rediss://` URLs), or the master a set of Sentinels
//! names (`redis+sentinel://[:password@]host:port[,host:port…]/<master>`, `rediss+sentinel://` for TLS). Every
//! script the fleet runs touches one key, so each runs whole on one Cluster slot. `redisCaFile` names the PEM of a
//! private CA that signed the servers' TLS certificates.

use std::time::Duration;

use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster::ClusterClient;
use redis::cluster_async::ClusterConnection;
use redis::sentinel::{SentinelClient, SentinelClientBuilder, SentinelServerType};
use redis::{Cmd, ConnectionAddr, Pipeline, RedisFuture, TlsCertificates, TlsMode, Value};

use crate::error::{Error, Result};

pub enum Topology {
  Single(redis::Client),
  Cluster(ClusterClient),
  /// Asked for the master at each (re)connection: after a failover, the new one.
  Sentinel(tokio::sync::Mutex<SentinelClient>),
}

/// A connection to whichever Redis the topology names; cheap to clone.
#[derive(Clone)]
pub enum Connection {
  Single(ConnectionManager),
  Cluster(ClusterConnection),
}

fn config_error() -> Error {
  Error::Config {
    message: "redisUrl must be a redis://, rediss:// or redis+unix:// URL, comma-separated redis:// or rediss:// URLs \
              of a Redis Cluster's nodes, or redis+sentinel://host:port[,host:port]/<master>"
      .to_string(),
  }
}

fn certificates(ca: Option<&[u8]>) -> TlsCertificates {
  TlsCertificates {
    client_tls: None,
    root_cert: ca.map(<[u8]>::to_vec),
  }
}

impl Topology {
  /// The topology `url` names, and what a log line may say of it (`host:port`: the URL may hold a password).
  pub fn parse(url: &str, ca: Option<&[u8]>, timeout: Duration) -> Result<(Self, String)> {
    let url = url.trim();
    if let Some((tls, rest)) = url
      .strip_prefix("redis+sentinel://")
      .map(|rest| (false, rest))
      .or_else(|| url.strip_prefix("rediss+sentinel://").map(|rest| (true, rest)))
    {
      return sentinel(rest, tls, ca);
    }
    let nodes: Vec<&str> = url.split(',').map(str::trim).collect();
    if nodes.len() > 1 {
      if !nodes
        .iter()
        .all(|n| n.starts_with("redis://") || n.starts_with("rediss://"))
      {
        return Err(config_error());
      }
      let mut builder = ClusterClient::builder(nodes.clone())
        .connection_timeout(timeout)
        .response_timeout(timeout)
        .retries(1);
      if nodes.iter().any(|n| n.starts_with("rediss://")) {
        builder = builder.tls(TlsMode::Secure).certs(certificates(ca));
      }
      let client = builder.build().map_err(|_| config_error())?;
      let address = nodes
        .first()
        .and_then(|n| address_of(n))
        .unwrap_or_else(|| "redis".to_string());
      return Ok((Self::Cluster(client), format!("{address} (cluster)")));
    }
    let client = if url.starts_with("rediss://") && ca.is_some() {
      redis::Client::build_with_tls(url, certificates(ca))
    } else {
      redis::Client::open(url)
    }
    .map_err(|_| config_error())?;
    let address = match client.get_connection_info().addr() {
      ConnectionAddr::Tcp(host, port) | ConnectionAddr::TcpTls { host, port, .. } => format!("{host}:{port}"),
      ConnectionAddr::Unix(path) => path.display().to_string(),
      _ => "redis".to_string(),
    };
    Ok((Self::Single(client), address))
  }

  /// A Sentinel's master is asked again at the next connection; the other connections reconnect by themselves.
  pub fn reconnects_itself(&self) -> bool {
    !matches!(self, Self::Sentinel(_))
  }

  /// Boxed: the connection's future is deep, and every send that paces through Redis would carry its type.
  pub fn connect(&self, timeout: Duration) -> futures::future::BoxFuture<'_, redis::RedisResult<Connection>> {
    Box::pin(self.connect_now(timeout))
  }

  async fn connect_now(&self, timeout: Duration) -> redis::RedisResult<Connection> {
    let manager = |client: redis::Client| async move {
      let config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(timeout))
        .set_response_timeout(Some(timeout))
        .set_number_of_retries(1);
      ConnectionManager::new_with_config(client, config)
        .await
        .map(Connection::Single)
    };
    match self {
      Self::Single(client) => manager(client.clone()).await,
      Self::Cluster(client) => client.get_async_connection().await.map(Connection::Cluster),
      Self::Sentinel(sentinel) => {
        let master = sentinel.lock().await.async_get_client().await?;
        manager(master).await
      }
    }
  }
}

fn address_of(url: &str) -> Option<String> {
  let parsed = url::Url::parse(url).ok()?;
  Some(format!("{}:{}", parsed.host_str()?, parsed.port().unwrap_or(6379)))
}

/// `[:password@]host:port[,host:port…]/<master>`: the Sentinels, and the master's name; the password is the
/// master's and the Sentinels'.
fn sentinel(rest: &str, tls: bool, ca: Option<&[u8]>) -> Result<(Topology, String)> {
  let (authority, master) = rest.split_once('/').ok_or_else(config_error)?;
  let master = master.trim_end_matches('/');
  let (password, hosts) = match authority.rsplit_once('@') {
    Some((userinfo, hosts)) => {
      let password = userinfo.split_once(':').map_or(userinfo, |(_, password)| password);
      let password = percent_encoding::percent_decode_str(password)
        .decode_utf8()
        .map_err(|_| config_error())?;
      (Some(password.into_owned()), hosts)
    }
    None => (None, authority),
  };
  let mut addresses = Vec::new();
  for host in hosts.split(',') {
    let (name, port) = host.trim().rsplit_once(':').ok_or_else(config_error)?;
    let port: u16 = port.parse().map_err(|_| config_error())?;
    addresses.push(if tls {
      ConnectionAddr::TcpTls {
        host: name.to_string(),
        port,
        insecure: false,
        tls_params: None,
      }
    } else {
      ConnectionAddr::Tcp(name.to_string(), port)
    });
  }
  if master.is_empty() || addresses.is_empty() {
    return Err(config_error());
  }
  let address = format!("{hosts} (sentinel, master {master})");
  let mut builder =
    SentinelClientBuilder::new(addresses, master, SentinelServerType::Master).map_err(|_| config_error())?;
  if let Some(password) = password {
    builder = builder
      .set_client_to_redis_password(&password)
      .set_client_to_sentinel_password(&password);
  }
  if tls {
    builder = builder
      .set_client_to_redis_tls_mode(TlsMode::Secure)
      .set_client_to_sentinel_tls_mode(TlsMode::Secure);
    if ca.is_some() {
      builder = builder.set_client_to_redis_certificates(certificates(ca));
    }
  }
  let client = builder.build().map_err(|_| config_error())?;
  Ok((Topology::Sentinel(tokio::sync::Mutex::new(client)), address))
}

impl ConnectionLike for Connection {
  fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
    match self {
      Self::Single(connection) => connection.req_packed_command(cmd),
      Self::Cluster(connection) => connection.req_packed_command(cmd),
    }
  }

  fn req_packed_commands<'a>(
    &'a mut self,
    pipeline: &'a Pipeline,
    offset: usize,
    count: usize,
  ) -> RedisFuture<'a, Vec<Value>> {
    match self {
      Self::Single(connection) => connection.req_packed_commands(pipeline, offset, count),
      Self::Cluster(connection) => connection.req_packed_commands(pipeline, offset, count),
    }
  }

  fn get_db(&self) -> i64 {
    match self {
      Self::Single(connection) => connection.get_db(),
      Self::Cluster(connection) => connection.get_db(),
    }
  }
}
