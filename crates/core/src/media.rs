//! Media from a local file, for upload to the Media Content Service, and what any media is judged by.
//!
//! Whatever is sent is judged by its bytes, not its name: an image must be JPEG, PNG or WebP (what WhatsApp
//! takes), an upload an image, PDF, audio or video. A local path is read only under `mediaRoot` when it is set
//! (its real path, symlinks followed), so a path taken from a request cannot send the service's own files. Media
//! from a URL is [`crate::fetch`]'s.

use std::path::{Path, PathBuf};

use bytes::Bytes;

use crate::error::{Error, Result};

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

pub(crate) fn too_large(max: u64) -> Error {
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
