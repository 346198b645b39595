//! `twilio-sandbox-load URL ACCOUNT_SID AUTH_TOKEN REQUESTS CONNECTIONS CONVERSATION_SID…`
//!
//! The benchmark's reference: a minimal keep-alive HTTP/1.1 load loop that posts messages to the sandbox as
//! fast as it answers. Its rate is the sandbox's ceiling for that endpoint, and its CPU per request the floor
//! for any client. Prints one JSON line.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn cpu_micros() -> f64 {
  // utime + stime of this process, in clock ticks (100 per second on Linux).
  std::fs::read_to_string("/proc/self/stat")
    .ok()
    .and_then(|stat| {
      let fields: Vec<&str> = stat.rsplit(')').next()?.split_whitespace().collect();
      let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
      Some(ticks * 10_000.0)
    })
    .unwrap_or(f64::NAN)
}

fn basic(user: &str, password: &str) -> String {
  const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  let input = format!("{user}:{password}").into_bytes();
  let mut out = String::new();
  for chunk in input.chunks(3) {
    let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
    let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
    for i in 0..4 {
      if i <= chunk.len() {
        out.push(TABLE[((n >> (18 - 6 * i)) & 63) as usize] as char);
      } else {
        out.push('=');
      }
    }
  }
  out
}

/// Reads one response: headers, then Content-Length bytes of body.
async fn read_response(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> std::io::Result<u16> {
  buffer.clear();
  let mut chunk = [0u8; 16 * 1024];
  loop {
    if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
      let head = String::from_utf8_lossy(&buffer[..end]).to_ascii_lowercase();
      let status: u16 = head.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
      let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
      while buffer.len() < end + 4 + length {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
          return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buffer.extend_from_slice(&chunk[..n]);
      }
      return Ok(status);
    }
    let n = stream.read(&mut chunk).await?;
    if n == 0 {
      return Err(std::io::ErrorKind::UnexpectedEof.into());
    }
    buffer.extend_from_slice(&chunk[..n]);
  }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
  let args: Vec<String> = std::env::args().skip(1).collect();
  if args.len() < 6 {
    eprintln!("usage: twilio-sandbox-load URL ACCOUNT_SID AUTH_TOKEN REQUESTS CONNECTIONS CONVERSATION_SID…");
    std::process::exit(2);
  }
  let host = args[0].trim_start_matches("http://").trim_end_matches('/').to_string();
  let auth = basic(&args[1], &args[2]);
  let total: usize = args[3].parse().unwrap_or(10_000);
  let connections: usize = args[4].parse().unwrap_or(64);
  let conversations = Arc::new(args[5..].to_vec());
  let next = Arc::new(AtomicUsize::new(0));
  let failures = Arc::new(AtomicUsize::new(0));
  let cpu_before = cpu_micros();
  let started = Instant::now();
  let tasks: Vec<_> = (0..connections)
    .map(|_| {
      let (host, auth, conversations, next, failures) =
        (host.clone(), auth.clone(), conversations.clone(), next.clone(), failures.clone());
      tokio::spawn(async move {
        let Ok(mut stream) = TcpStream::connect(&host).await else { return };
        let _ = stream.set_nodelay(true);
        let mut buffer = Vec::with_capacity(8192);
        loop {
          let i = next.fetch_add(1, Ordering::Relaxed);
          if i >= total {
            return;
          }
          let sid = &conversations[i % conversations.len()];
          let body = format!("Author=system&Body=load+{i}");
          let request = format!(
            "POST /v1/Conversations/{sid}/Messages HTTP/1.1\r\nHost: {host}\r\nAuthorization: Basic {auth}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
          );
          if stream.write_all(request.as_bytes()).await.is_err() {
            return;
          }
          match read_response(&mut stream, &mut buffer).await {
            Ok(201) => {}
            Ok(_) => {
              failures.fetch_add(1, Ordering::Relaxed);
            }
            Err(_) => return,
          }
        }
      })
    })
    .collect();
  for task in tasks {
    let _ = task.await;
  }
  let seconds = started.elapsed().as_secs_f64();
  let cpu = cpu_micros() - cpu_before;
  println!(
    "{{\"requests\":{total},\"failures\":{},\"seconds\":{seconds},\"perSecond\":{},\"cpuMicrosPerRequest\":{}}}",
    failures.load(Ordering::Relaxed),
    total as f64 / seconds,
    cpu / total as f64
  );
}
