//! Media from a URL or a local file, for upload to the Media Content Service.
//!
//! Fetching a URL is guarded: http(s) only, at most `media_max_bytes`, and no private, loopback, link-local or
//! otherwise internal destination unless allowed, so that a caller-supplied URL cannot make the service read its
//! own network. Redirects are followed one hop at a time, each checked: its host must resolve, here, to public
//! addresses only. Straight to the host, the connection is also made only to the public addresses resolved;
//! through a proxy (which resolves the host again, on its side) the check before each hop is what holds.
//!
//! Whatever is sent is judged by its bytes, not its name: an image must be JPEG, PNG or WebP (what WhatsApp
//! takes), an upload an image, PDF, audio or video. A local path is read only under `mediaRoot` when it is set
//! (its real path, symlinks followed), so a path taken from a request cannot send the service's own files.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::config::Config;
use crate::error::{Error, Result};
use crate::http::{client_builder, proxied};

const MAX_REDIRECTS: usize = 5;

#[derive(Debug, Clone)]
pub struct MediaFile {
  pub bytes: Bytes,
  pub content_type: String,
  pub filename: String,
}

/// The content type the old module gave a file name: by extension, case-insensitive.
pub fn content_type_for(path: &str) -> &'static str {
  let extension = Path::new(path)
    .extension()
    .and_then(|e| e.to_str())
    .map(str::to_ascii_lowercase);
  match extension.as_deref() {
    Some("jpg" | "jpeg") => "image/jpeg",
    Some("png") => "image/png",
    Some("gif") => "image/gif",
    Some("pdf") => "application/pdf",
    _ => "application/octet-stream",
  }
}

/// What a piece of media may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
  /// An image WhatsApp takes: JPEG, PNG or WebP.
  Image,
  /// Anything `uploadMedia` takes: images (GIF too), PDF, audio, video.
  Upload,
}

/// The content type of media, judged by its first bytes; `None` for anything not recognised.
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
  let at = |offset: usize, magic: &[u8]| bytes.get(offset..offset + magic.len()) == Some(magic);
  Some(if at(0, &[0xFF, 0xD8, 0xFF]) {
    "image/jpeg"
  } else if at(0, b"\x89PNG\r\n\x1a\n") {
    "image/png"
  } else if at(0, b"RIFF") && at(8, b"WEBP") {
    "image/webp"
  } else if at(0, b"GIF87a") || at(0, b"GIF89a") {
    "image/gif"
  } else if at(0, b"%PDF-") {
    "application/pdf"
  } else if at(0, b"ID3") || at(0, &[0xFF, 0xFB]) || at(0, &[0xFF, 0xF3]) || at(0, &[0xFF, 0xF2]) {
    "audio/mpeg"
  } else if at(0, &[0xFF, 0xF1]) || at(0, &[0xFF, 0xF9]) {
    "audio/aac"
  } else if at(0, b"OggS") {
    "audio/ogg"
  } else if at(0, b"#!AMR") {
    "audio/amr"
  } else if at(4, b"ftyp") {
    if at(8, b"M4A ") {
      "audio/mp4"
    } else if at(8, b"3gp") {
      "video/3gpp"
    } else {
      "video/mp4"
    }
  } else {
    return None;
  })
}

/// The content type of media of this kind, or `UNSUPPORTED_MEDIA_TYPE`.
pub fn judge(bytes: &[u8], kind: Kind) -> Result<&'static str> {
  let allowed = |content_type: &&str| match kind {
    Kind::Image => matches!(*content_type, "image/jpeg" | "image/png" | "image/webp"),
    Kind::Upload => true,
  };
  sniff(bytes).filter(allowed).ok_or_else(|| {
    Error::invalid(
      "UNSUPPORTED_MEDIA_TYPE",
      match kind {
        Kind::Image => "The media is not an image WhatsApp accepts (JPEG, PNG or WebP, judged by its content)",
        Kind::Upload => "The media is not a type Twilio accepts (an image, PDF, audio or video, judged by its content)",
      },
    )
  })
}

/// A local path's real location, when it lies under `root` (symlinks followed, no `..` escape); else
/// `MEDIA_PATH_NOT_ALLOWED`. Without a root the path is used as given.
async fn confined(path: &str, root: Option<&Path>, missing: impl Fn() -> Error) -> Result<PathBuf> {
  let Some(root) = root else {
    return Ok(PathBuf::from(path));
  };
  let real = tokio::fs::canonicalize(path).await.map_err(|_| missing())?;
  if real.starts_with(root) {
    Ok(real)
  } else {
    Err(Error::invalid(
      "MEDIA_PATH_NOT_ALLOWED",
      "The file is outside mediaRoot, the only directory local media may be read from",
    ))
  }
}

fn too_large(max: u64) -> Error {
  Error::invalid(
    "MEDIA_TOO_LARGE",
    format!("Media is larger than the {max} bytes allowed"),
  )
}

/// Opens a local file once, for reading: a regular file (never a FIFO or a device, which could block), under
/// `root` when set, not empty and not too large, each judged on the opened handle. A path swapped between the
/// check and the open (a directory for a symlink out of the root) is caught: the opened handle's own path must lie
/// under the root. A missing one fails with the old module's message.
async fn open_file(path: &str, max_bytes: u64, root: Option<&Path>) -> Result<(tokio::fs::File, u64)> {
  let not_found = || Error::invalid("FILE_NOT_FOUND", format!("Image file not found: {path}"));
  if path.is_empty() || path.contains('\0') {
    return Err(not_found());
  }
  let target = confined(path, root, not_found).await?;
  // Checked before the open too: opening a FIFO would wait for a writer.
  if !tokio::fs::metadata(&target).await.is_ok_and(|m| m.is_file()) {
    return Err(not_found());
  }
  let file = tokio::fs::File::open(&target).await.map_err(|_| not_found())?;
  let opened = file.metadata().await.map_err(|_| not_found())?;
  if !opened.is_file() {
    return Err(not_found());
  }
  if let Some(root) = root {
    let inside = match opened_path(&file) {
      // Where the kernel says the handle is: no later swap of the path can change it.
      Some(real) => real.starts_with(root),
      None => {
        let again = confined(path, Some(root), not_found).await?;
        let named = tokio::fs::metadata(&again).await.map_err(|_| not_found())?;
        same_file(&opened, &named)
      }
    };
    if !inside {
      return Err(Error::invalid(
        "MEDIA_PATH_NOT_ALLOWED",
        "The file opened is outside mediaRoot, the only directory local media may be read from",
      ));
    }
  }
  if opened.len() > max_bytes {
    return Err(too_large(max_bytes));
  }
  if opened.len() == 0 {
    return Err(Error::invalid("EMPTY_FILE", format!("Image file is empty: {path}")));
  }
  Ok((file, opened.len()))
}

/// The path of an opened file, as the kernel resolved it.
#[cfg(target_os = "linux")]
fn opened_path(file: &tokio::fs::File) -> Option<PathBuf> {
  use std::os::fd::AsRawFd;
  std::fs::read_link(format!("/proc/self/fd/{}", file.as_raw_fd())).ok()
}

/// Elsewhere the path is resolved again after the open and must name the file opened (a narrower check: a swap
/// between that resolution and its look-up goes unseen).
#[cfg(not(target_os = "linux"))]
fn opened_path(_: &tokio::fs::File) -> Option<PathBuf> {
  None
}

#[cfg(unix)]
fn same_file(a: &std::fs::Metadata, b: &std::fs::Metadata) -> bool {
  use std::os::unix::fs::MetadataExt;
  a.dev() == b.dev() && a.ino() == b.ino()
}

/// Without inode numbers, the size and modification time stand in for the file's identity.
#[cfg(not(unix))]
fn same_file(a: &std::fs::Metadata, b: &std::fs::Metadata) -> bool {
  a.len() == b.len() && a.modified().ok() == b.modified().ok()
}

/// Checks that a local file exists (under `root`, when set), is a file, and is not empty or too large.
pub async fn check_file(path: &str, max_bytes: u64, root: Option<&Path>) -> Result<()> {
  open_file(path, max_bytes, root).await.map(drop)
}

/// Reads a local file of that kind from the handle checked, at most `max_bytes` of it whatever it grew to since,
/// its type judged by its bytes.
pub async fn read_file(path: &str, max_bytes: u64, root: Option<&Path>, kind: Kind) -> Result<MediaFile> {
  use tokio::io::AsyncReadExt;
  let (file, size) = open_file(path, max_bytes, root).await?;
  let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
  file
    .take(max_bytes.saturating_add(1))
    .read_to_end(&mut bytes)
    .await
    .map_err(|e| Error::invalid("FILE_UNREADABLE", format!("Cannot read image file {path}: {e}")))?;
  if bytes.len() as u64 > max_bytes {
    return Err(too_large(max_bytes));
  }
  let content_type = judge(&bytes, kind)?;
  Ok(MediaFile {
    bytes: Bytes::from(bytes),
    content_type: content_type.to_string(),
    filename: basename(path).to_string(),
  })
}

pub fn basename(path: &str) -> &str {
  Path::new(path).file_name().and_then(|n| n.to_str()).unwrap_or("media")
}

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
      .map_err(|e| fetch_failed(crate::http::explain(&e.without_url())))?
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
      fetch_failed(crate::http::explain(&e.without_url()))
    })
  }
}

fn percent_decode(text: &str) -> String {
  url::form_urlencoded::parse(format!("x={}", text.replace('+', "%2B")).as_bytes())
    .next()
    .map(|(_, v)| v.into_owned())
    .unwrap_or_default()
}

/// `encodeURIComponent`: everything but `A-Z a-z 0-9 - _ . ! ~ * ' ( )` is percent-encoded.
pub fn encode_uri_component(text: &str) -> String {
  let mut out = String::with_capacity(text.len());
  for byte in text.bytes() {
    if byte.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&byte) {
      out.push(byte as char);
    } else {
      out.push_str(&format!("%{byte:02X}"));
    }
  }
  out
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn content_types_follow_the_extension_in_any_case() {
    assert_eq!(content_type_for("a.JPG"), "image/jpeg");
    assert_eq!(content_type_for("a.jpeg"), "image/jpeg");
    assert_eq!(content_type_for("/x/y.Png"), "image/png");
    assert_eq!(content_type_for("b.gif"), "image/gif");
    assert_eq!(content_type_for("c.pdf"), "application/pdf");
    assert_eq!(content_type_for("d.webp"), "application/octet-stream");
    assert_eq!(content_type_for("noext"), "application/octet-stream");
  }

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

  #[test]
  fn file_names_are_encoded_like_encode_uri_component() {
    assert_eq!(encode_uri_component("my photo (1).png"), "my%20photo%20(1).png");
    assert_eq!(encode_uri_component("é#?&.jpg"), "%C3%A9%23%3F%26.jpg");
  }

  #[test]
  fn media_is_judged_by_its_bytes_not_its_name() {
    assert_eq!(judge(b"\x89PNG\r\n\x1a\n0000", Kind::Image).unwrap(), "image/png");
    assert_eq!(judge(b"\xFF\xD8\xFF\xE0", Kind::Image).unwrap(), "image/jpeg");
    assert_eq!(judge(b"RIFF0000WEBPVP8 ", Kind::Image).unwrap(), "image/webp");
    assert_eq!(judge(b"%PDF-1.7", Kind::Upload).unwrap(), "application/pdf");
    assert_eq!(judge(b"OggS0000", Kind::Upload).unwrap(), "audio/ogg");
    assert_eq!(judge(b"0000ftypisom", Kind::Upload).unwrap(), "video/mp4");
    for refused in [&b"%PDF-1.7"[..], b"GIF89a", b"root:x:0:0:root:/root:/bin/bash", b""] {
      assert_eq!(
        judge(refused, Kind::Image).unwrap_err().code(),
        "UNSUPPORTED_MEDIA_TYPE"
      );
    }
    assert_eq!(
      judge(b"SECRET=1\n", Kind::Upload).unwrap_err().code(),
      "UNSUPPORTED_MEDIA_TYPE"
    );
  }

  #[tokio::test]
  async fn a_missing_file_fails_with_the_old_message() {
    let error = read_file("/nonexistent/x.png", 10, None, Kind::Image)
      .await
      .unwrap_err();

    assert_eq!(error.to_string(), "Image file not found: /nonexistent/x.png");
    assert_eq!(error.code(), "FILE_NOT_FOUND");
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

  /// Reads, over and over, a file under the root while another thread swaps its directory for a symlink to a
  /// larger file outside: not one read may return the outside file's bytes.
  #[cfg(unix)]
  #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
  async fn a_directory_swapped_for_a_symlink_while_reading_never_yields_a_file_outside_the_root() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let base = std::env::temp_dir().join(format!("twilio-media-race-{}", std::process::id()));
    let (root, outside) = (base.join("root"), base.join("outside"));
    let _ = std::fs::remove_dir_all(&base);
    std::fs::create_dir_all(root.join("dir")).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    let png = |fill: u8, len: usize| {
      let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
      bytes.resize(len, fill);
      bytes
    };
    std::fs::write(root.join("dir/in.png"), png(b'i', 100)).unwrap();
    std::fs::write(outside.join("in.png"), png(b'o', 5_000)).unwrap();
    std::os::unix::fs::symlink(&outside, base.join("link")).unwrap();
    let root = std::fs::canonicalize(&root).unwrap();
    let stop = std::sync::Arc::new(AtomicBool::new(false));
    let swapper = {
      let (root, base, stop) = (root.clone(), base.clone(), stop.clone());
      std::thread::spawn(move || {
        while !stop.load(Ordering::Relaxed) {
          let _ = std::fs::rename(root.join("dir"), base.join("parked"));
          let _ = std::fs::rename(base.join("link"), root.join("dir"));
          let _ = std::fs::rename(root.join("dir"), base.join("link"));
          let _ = std::fs::rename(base.join("parked"), root.join("dir"));
        }
      })
    };
    let path = root.join("dir/in.png").display().to_string();
    let mut outside_read = 0;
    for _ in 0..3000 {
      if let Ok(file) = read_file(&path, 10_000, Some(&root), Kind::Image).await {
        outside_read += usize::from(file.bytes.contains(&b'o'));
      }
    }
    stop.store(true, Ordering::Relaxed);
    swapper.join().unwrap();
    let _ = std::fs::remove_dir_all(&base);
    assert_eq!(outside_read, 0);
  }
}
