//! Media from a caller's URL, fetched under guard: http(s) only, at most `media_max_bytes`, and no private,
//! loopback, link-local or otherwise internal destination unless allowed, so that a caller-supplied URL cannot make
//! the service read its own network. Redirects are followed one hop at a time, each checked: its host must
//! resolve, here, to public addresses only. Straight to the host, the connection is also made only to the public
//! addresses resolved; through a proxy (which resolves the host again, on its side) the check before each hop is
//! what holds. What was fetched is judged by its bytes ([`crate::media`]).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use bytes::BytesMut;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::config::Config;
use crate::error::{Error, Result};
use crate::media::{judge, too_large, Kind, MediaFile};
use crate::transport::{client_builder, explain, proxied};

const MAX_REDIRECTS: usize = 5;

/// Addresses a media URL may point at by default: none internal to the machine or its network.
pub fn is_public(ip: IpAddr) -> bool {
  match ip {
    IpAddr::V4(v4) => is_public_v4(v4),
    IpAddr::V6(v6) => is_public_v6(v6),
  }
}

/// Outside every block of IANA's IPv4 special-purpose registry that is not globally reachable (and the AS112,
/// AMT and 6to4-relay blocks, which a media host has no business in).
fn is_public_v4(v4: std::net::Ipv4Addr) -> bool {
  let [a, b, c, _] = v4.octets();
  !(a == 0
    || a == 10
    || a == 127
    || (a == 100 && (64..128).contains(&b))
    || (a == 169 && b == 254)
    || (a == 172 && (16..32).contains(&b))
    || (a == 192 && b == 0 && (c == 0 || c == 2))
    || (a == 192 && b == 31 && c == 196)
    || (a == 192 && b == 52 && c == 193)
    || (a == 192 && b == 88 && c == 99)
    || (a == 192 && b == 168)
    || (a == 192 && b == 175 && c == 48)
    || (a == 198 && (18..20).contains(&b))
    || (a == 198 && b == 51 && c == 100)
    || (a == 203 && b == 0 && c == 113)
    || a >= 224)
}

/// Outside IANA's IPv6 special-purpose blocks, and for the forms that carry an IPv4 address (mapped, compatible,
/// NAT64, 6to4, Teredo) judged by that address too: behind a NAT64 gateway `64:ff9b::a9fe:a9fe` is
/// 169.254.169.254.
fn is_public_v6(v6: std::net::Ipv6Addr) -> bool {
  let segments = v6.segments();
  let bits = u128::from(v6);
  // The IPv4 address in the 32 bits that start `from` bits into the address.
  let v4 = |from: u32| std::net::Ipv4Addr::from(u32::try_from((bits >> (96 - from)) & 0xffff_ffff).unwrap_or(0));
  match segments {
    // ::/96 (unspecified, loopback, IPv4-compatible) and ::ffff:0:0/96 (IPv4-mapped).
    [0, 0, 0, 0, 0, 0, _, _] => false,
    [0, 0, 0, 0, 0, 0xffff, _, _] => is_public_v4(v4(96)),
    // NAT64, well-known prefix; its local-use prefix 64:ff9b:1::/48 is private by definition.
    [0x64, 0xff9b, 0, 0, 0, 0, _, _] => is_public_v4(v4(96)),
    [0x64, 0xff9b, 1, ..] => false,
    // 6to4: the IPv4 address follows the prefix.
    [0x2002, ..] => is_public_v4(v4(16)),
    // Teredo: the server's IPv4 address, and the client's with its bits inverted.
    [0x2001, 0, ..] => {
      let client = std::net::Ipv4Addr::from(!u32::from(v4(96)));
      is_public_v4(v4(32)) && is_public_v4(client)
    }
    [first, second, ..] => {
      !((first == 0x100 && segments.get(1..4) == Some(&[0, 0, 0][..]))
        || (first == 0x2001 && second < 0x200)
        || (first == 0x2001 && second == 0xdb8)
        || (first & 0xfff0) == 0x3ff0
        || first == 0x5f00
        || (first & 0xfe00) == 0xfc00
        || (first & 0xffc0) == 0xfe80
        || (first & 0xffc0) == 0xfec0
        || (first & 0xff00) == 0xff00)
    }
  }
}

fn refused(host: &str) -> Error {
  Error::invalid(
    "MEDIA_HOST_NOT_ALLOWED",
    format!(
      "Media URL host {host} is a private, loopback or link-local address (set mediaAllowPrivateHosts to allow it)"
    ),
  )
}

/// A host that has no address: what happened, with the resolver's words, and no advice to weaken the guard.
fn unresolved(host: &str, why: &str) -> Error {
  fetch_failed(format!(
    "its host {} has no address ({})",
    crate::error::bounded(host),
    crate::error::outside(why)
  ))
}

/// DNS that refuses names resolving to internal addresses.
struct PublicOnly;

impl Resolve for PublicOnly {
  fn resolve(&self, name: Name) -> Resolving {
    Box::pin(async move {
      let host = name.as_str().to_string();
      let addrs = addresses(&host, 0)
        .await
        .map_err(|why| Box::new(unresolved(&host, &why)) as Box<dyn std::error::Error + Send + Sync>)?;
      if addrs.iter().any(|a| !is_public(a.ip())) {
        return Err(Box::new(refused(&host)) as Box<dyn std::error::Error + Send + Sync>);
      }
      Ok(Box::new(addrs.into_iter()) as Addrs)
    })
  }
}

fn literal_ip(url: &url::Url) -> Option<IpAddr> {
  match url.host()? {
    url::Host::Ipv4(ip) => Some(IpAddr::V4(ip)),
    url::Host::Ipv6(ip) => Some(IpAddr::V6(ip)),
    url::Host::Domain(_) => None,
  }
}

/// Fetches media URLs within the guards; no credentials are ever sent with them.
pub struct MediaFetcher {
  client: reqwest::Client,
  allow_private: bool,
  /// The environment named a proxy when the client was made.
  through_proxy: bool,
  max_bytes: u64,
}

/// Where a host resolves, or the resolver's error.
async fn addresses(host: &str, port: u16) -> std::result::Result<Vec<SocketAddr>, String> {
  let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
    .await
    .map_err(|e| e.to_string())?
    .collect();
  if addrs.is_empty() {
    return Err("the resolver gave no address".to_string());
  }
  Ok(addrs)
}

fn fetch_failed(why: String) -> Error {
  Error::invalid("MEDIA_FETCH_FAILED", format!("Could not fetch media URL: {why}"))
}

impl MediaFetcher {
  pub fn new(config: &Config) -> Result<Self> {
    let allow_private = config.media_allow_private_hosts;
    let through_proxy = proxied();
    let mut builder = client_builder(config).timeout(config.timeout);
    // A proxy's own address is often private: the resolver that refuses private addresses would refuse it.
    if !allow_private && !through_proxy {
      builder = builder.dns_resolver(Arc::new(PublicOnly));
    }
    let client = builder.build().map_err(|e| Error::Config {
      message: format!("cannot build the media HTTP client: {e}"),
    })?;
    Ok(Self {
      client,
      allow_private,
      through_proxy,
      max_bytes: config.media_max_bytes,
    })
  }

  /// Refuses a URL whose host is, or resolves to, a private, loopback or link-local address (unless allowed),
  /// for a URL someone else fetches: Messages.json hands it to Twilio.
  pub async fn check_public(&self, url: &url::Url) -> Result<()> {
    self.check(url, false).await
  }

  /// `strict`: a host that does not resolve here is refused too (a URL this client fetches, perhaps through a
  /// proxy that would resolve it on an internal network); for a URL Twilio fetches, Twilio reports what it finds.
  async fn check(&self, url: &url::Url, strict: bool) -> Result<()> {
    if self.allow_private {
      return Ok(());
    }
    let host = url.host_str().unwrap_or("");
    if let Some(ip) = literal_ip(url) {
      return if is_public(ip) { Ok(()) } else { Err(refused(host)) };
    }
    let port = url.port_or_known_default().unwrap_or(443);
    match addresses(host, port).await {
      Ok(addrs) if addrs.iter().all(|a| is_public(a.ip())) => Ok(()),
      Ok(_) => Err(refused(host)),
      // Through a proxy, a name with no address here may name a host on the proxy's network.
      Err(why) if strict && self.through_proxy => Err(Error::invalid(
        "MEDIA_HOST_NOT_ALLOWED",
        format!(
          "Media URL host {} has no address here ({}), and the proxy media goes through could reach an internal \
           host by that name (set mediaAllowPrivateHosts to allow it)",
          crate::error::bounded(host),
          crate::error::outside(&why)
        ),
      )),
      Err(why) if strict => Err(unresolved(host, &why)),
      Err(_) => Ok(()),
    }
  }

  /// Downloads media of that kind, its type judged by its bytes.
  pub async fn fetch(&self, url: &url::Url, kind: Kind) -> Result<MediaFile> {
    let mut url = url.clone();
    let mut response = self.hop(&url).await?;
    let mut redirects = 0;
    while response.status().is_redirection() {
      let next = response
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|location| location.to_str().ok())
        .and_then(|location| url.join(location).ok());
      let Some(next) = next.filter(|next| matches!(next.scheme(), "http" | "https")) else {
        return Err(fetch_failed("a redirect without a usable http(s) location".to_string()));
      };
      redirects += 1;
      if redirects > MAX_REDIRECTS {
        return Err(fetch_failed("too many redirects".to_string()));
      }
      url = next;
      response = self.hop(&url).await?;
    }
    if !response.status().is_success() {
      return Err(fetch_failed(format!("HTTP {}", response.status().as_u16())));
    }
    if response.content_length().is_some_and(|n| n > self.max_bytes) {
      return Err(too_large(self.max_bytes));
    }
    let mut body = BytesMut::new();
    while let Some(chunk) = response
      .chunk()
      .await
      .map_err(|e| fetch_failed(explain(&e.without_url())))?
    {
      if body.len() as u64 + chunk.len() as u64 > self.max_bytes {
        return Err(too_large(self.max_bytes));
      }
      body.extend_from_slice(&chunk);
    }
    if body.is_empty() {
      return Err(fetch_failed("the response was empty".to_string()));
    }
    let content_type = judge(&body, kind)?;
    let segment = url.path_segments().and_then(|mut s| s.next_back()).unwrap_or("");
    let filename = percent_decode(segment);
    let filename = if filename.is_empty() {
      "media".to_string()
    } else {
      filename
    };
    Ok(MediaFile {
      content_type: content_type.to_string(),
      filename,
      bytes: body.freeze(),
    })
  }

  /// One request, to a host checked first.
  async fn hop(&self, url: &url::Url) -> Result<reqwest::Response> {
    self.check(url, true).await?;
    self.client.get(url.clone()).send().await.map_err(|e| {
      // The resolver's refusal travels inside reqwest's error; surface it as itself.
      let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
      while let Some(err) = source {
        if let Some(ours) = err.downcast_ref::<Error>() {
          return ours.clone();
        }
        source = err.source();
      }
      // Without the URL: it can hold pre-signed credentials and numbers.
      fetch_failed(explain(&e.without_url()))
    })
  }
}

fn percent_decode(text: &str) -> String {
  url::form_urlencoded::parse(format!("x={}", text.replace('+', "%2B")).as_bytes())
    .next()
    .map(|(_, v)| v.into_owned())
    .unwrap_or_default()
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn internal_addresses_are_not_public() {
    for ip in [
      "127.0.0.1",
      "10.1.2.3",
      "172.16.0.1",
      "192.168.1.1",
      "169.254.169.254",
      "0.0.0.0",
      "100.64.0.1",
      "::1",
      "fe80::1",
      "fd00::1",
      "::ffff:127.0.0.1",
    ] {
      assert!(!is_public(ip.parse().unwrap()), "{ip}");
    }
    for ip in ["8.8.8.8", "2606:4700::1111"] {
      assert!(is_public(ip.parse().unwrap()), "{ip}");
    }
  }

  #[test]
  fn special_purpose_blocks_and_embedded_internal_ipv4_addresses_are_not_public() {
    for ip in [
      "::7f00:1",
      "::a9fe:a9fe",
      "64:ff9b::a9fe:a9fe",
      "64:ff9b::a00:1",
      "64:ff9b:1::1",
      "fec0::1",
      "2002:7f00:1::",
      "2002:a9fe:a9fe::1",
      "2001:0:4136:e378:8000:63bf:80ff:fffe",
      "2001:db8::1",
      "2001:2::1",
      "100::1",
      "3fff::1",
      "ff02::1",
      "192.0.0.8",
      "192.0.0.170",
      "192.88.99.1",
      "255.255.255.255",
    ] {
      assert!(!is_public(ip.parse().unwrap()), "{ip}");
    }
    for ip in [
      "64:ff9b::808:808",
      "2002:808:808::1",
      "2001:0:808:808:0:0:f7f7:f7f7",
      "2a00:1450::1",
      "1.1.1.1",
    ] {
      assert!(is_public(ip.parse().unwrap()), "{ip}");
    }
  }

  /// A server on loopback where `/r/N` redirects to `/r/N-1` and `/r/0` is a PNG.
  async fn redirect_chain() -> std::net::SocketAddr {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
      while let Ok((mut socket, _)) = listener.accept().await {
        let mut request = vec![0u8; 1024];
        let read = socket.read(&mut request).await.unwrap_or(0);
        let line = String::from_utf8_lossy(&request[..read]).to_string();
        let hops: u32 = line
          .split_whitespace()
          .nth(1)
          .and_then(|path| path.strip_prefix("/r/"))
          .and_then(|n| n.parse().ok())
          .unwrap_or(0);
        let answer = if hops == 0 {
          let png = b"\x89PNG\r\n\x1a\n0000";
          let mut answer = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: image/png\r\ncontent-length: {}\r\n\r\n",
            png.len()
          )
          .into_bytes();
          answer.extend_from_slice(png);
          answer
        } else {
          format!(
            "HTTP/1.1 302 Found\r\nlocation: /r/{}\r\ncontent-length: 0\r\n\r\n",
            hops - 1
          )
          .into_bytes()
        };
        let _ = socket.write_all(&answer).await;
      }
    });
    address
  }

  #[tokio::test]
  async fn media_follows_five_redirects_and_refuses_a_sixth() {
    let address = redirect_chain().await;
    let config = Config::resolve(
      crate::Options {
        account_sid: Some("AC1".into()),
        auth_token: Some(crate::Secret::new("token")),
        media_allow_private_hosts: Some(true),
        ..Default::default()
      },
      |_| None,
    )
    .unwrap();
    let fetcher = MediaFetcher::new(&config).unwrap();
    let url = |hops: u32| url::Url::parse(&format!("http://{address}/r/{hops}")).unwrap();
    assert!(fetcher.fetch(&url(MAX_REDIRECTS as u32), Kind::Image).await.is_ok());
    let refused = fetcher
      .fetch(&url(MAX_REDIRECTS as u32 + 1), Kind::Image)
      .await
      .unwrap_err();
    assert_eq!(refused.code(), "MEDIA_FETCH_FAILED");
  }
}
