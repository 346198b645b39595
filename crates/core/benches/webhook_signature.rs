//! What checking a webhook's signature costs as its form grows: a forged signature over `n` distinct short
//! parameters (every candidate URL is signed and compared, the most work a request can ask for). The work should
//! grow with the parameters (a sort's logarithm beside), not with their square.
//! Run by `npm run bench` (`cargo bench -p twilio-core --bench webhook_signature`); prints one JSON line a size.

use std::time::{Duration, Instant};

use twilio_core::signature::is_valid;

/// As the addon allocates (src/lib.rs).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// 8,000 parameters are a 64 KiB form, the webhook handler's default bound.
const SIZES: [usize; 3] = [1_000, 2_000, 8_000];
const REPEATS: usize = 21;

/// The fastest of the repeats: the least disturbed by other work.
fn fastest(n: usize) -> Duration {
  let params: Vec<(String, String)> = (0..n).map(|i| (format!("p{i}"), "v".to_string())).collect();
  (0..REPEATS)
    .map(|_| {
      let started = Instant::now();
      std::hint::black_box(is_valid("token", "forged", "https://example.com/hook", &params));
      started.elapsed()
    })
    .min()
    .unwrap_or_default()
}

fn main() {
  let base = fastest(SIZES[0]).as_secs_f64().max(1e-9);
  for n in SIZES {
    let took = fastest(n).as_secs_f64();
    println!(
      "{{\"parameters\":{n},\"microsPerCheck\":{:.1},\"timesTheFirst\":{:.2}}}",
      took * 1e6,
      took / base
    );
  }
}
