//! The thread the client's calls run on: a current-thread Tokio runtime of the addon's own, started at the first
//! call and kept for the life of the process, as napi's runtime is.
//!
//! napi's runtime has a worker per core that steal work from each other. A call here is a few small steps (write a
//! request, read an answer, settle a promise), and on a multi-threaded runtime the wake-ups and hand-overs between
//! its workers cost more than the steps: with one thread a steady message costs about 10% less CPU (`npm run bench`'s
//! steady scenario, builds alternating). One thread also caps a process's sends at what it carries, some 55,000 to
//! 70,000 messages a second at its 14–18 µs each; many processes, not many threads, are how this client scales out.
//!
//! Calls reach the thread through an inbox: Tokio wakes its thread with a system call for every task spawned from
//! outside, and the event loop starts its calls in bursts (one per settled call, in the same turn), so a burst is
//! handed over with one wake-up.

use std::future::Future;
use std::pin::Pin;
use std::sync::OnceLock;

use tokio::runtime::{Builder, Handle};

use crate::batch::Batch;

/// The name the thread shows in `top -H`, `/proc` and profilers.
pub const THREAD_NAME: &str = "twilio-io";

type Task = Pin<Box<dyn Future<Output = ()> + Send>>;

struct Io {
  handle: Handle,
  inbox: Batch<Task>,
}

/// Runs `task` on the I/O thread; on napi's runtime should the thread not start (the system refusing a thread).
pub fn spawn<F>(task: F)
where
  F: Future<Output = ()> + Send + 'static,
{
  let Some(io) = io() else {
    drop(napi::bindgen_prelude::spawn(task));
    return;
  };
  if io.inbox.push(Box::pin(task)) {
    drop(io.handle.spawn(deliver(io)));
  }
}

/// On the thread: spawns what the inbox holds.
async fn deliver(io: &'static Io) {
  for task in io.inbox.take() {
    drop(tokio::spawn(task));
  }
}

fn io() -> Option<&'static Io> {
  static IO: OnceLock<Option<Io>> = OnceLock::new();
  IO.get_or_init(start).as_ref()
}

fn start() -> Option<Io> {
  let runtime = Builder::new_current_thread().enable_all().build().ok()?;
  let handle = runtime.handle().clone();
  std::thread::Builder::new()
    .name(THREAD_NAME.into())
    .spawn(move || runtime.block_on(std::future::pending::<()>()))
    .ok()?;
  Some(Io {
    handle,
    inbox: Batch::new(),
  })
}
