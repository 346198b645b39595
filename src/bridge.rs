//! The bridge between Node's JS thread and the core: where a call runs, and how its outcome gets back.
//!
//! Threads and hand-overs:
//! - The JS thread calls a `NativeClient` method with a call number (the JS entry keeps the promise under it) and
//!   the arguments, converted by napi. The call's future goes to the **I/O thread**'s inbox.
//! - The **I/O thread** runs a current-thread tokio runtime of the addon's own, started at the first call and kept
//!   for the life of the process. A call is a few small steps (write a request, read an answer), and on a
//!   multi-threaded runtime the hand-overs between workers cost more than the steps. The event loop starts its
//!   calls in bursts, so a burst reaches the thread with one wake-up ([`Batch`]). Many processes, not many threads,
//!   are how this client scales out.
//! - A finished call leaves its outcome in the client's finished batch; the first one since the JS thread last
//!   took the batch calls the client's **threadsafe function** (napi's, made from the JS entry's `settle`), once
//!   the I/O thread has run what else was due, so calls that finish in the same turn settle in one wake-up.
//! - On the JS thread, the function's callback turns every outcome into a JS value (or error, built by
//!   [`js_error`]) and hands them, with the log lines the core raised and the requests it recorded meanwhile, to
//!   `settle`.
//!
//! The threadsafe function never keeps the event loop alive (the JS entry does, while promises are pending).
//! When the environment goes away napi closes it, and outcomes that arrive later are dropped with their promises.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};

use futures::FutureExt;
use napi::bindgen_prelude::{Array, FnArgs, Function, JsValue, ToNapiValue, Unknown};
use napi::threadsafe_function::{ThreadsafeCallContext, ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::{sys, Env, Status};
use tokio::runtime::{Builder, Handle};
use twilio_core::{numbered, Class, Error, Log, Observer};

use crate::results::{js_error, LogEvent, RequestEvent};

/// The name the I/O thread shows in `top -H`, `/proc` and profilers.
pub const THREAD_NAME: &str = "twilio-io";

/// What the JS entry's `settle` receives: call numbers, their outcomes (an array), which outcomes are errors, the
/// log lines raised since the last batch, and the requests recorded (while watched).
type SettleArgs = FnArgs<(
  Vec<u32>,
  sys::napi_value,
  Vec<bool>,
  Option<Vec<LogEvent>>,
  Option<Vec<RequestEvent>>,
)>;
pub type SettleFunction<'env> = Function<'env, SettleArgs, ()>;
type Wake = ThreadsafeFunction<(), (), SettleArgs, Status, false, true>;

/// A call's outcome, made into a JS value on the JS thread: the value, or an error (`true`).
type Outcome = Box<dyn for<'env> FnOnce(&'env Env) -> napi::Result<(Unknown<'env>, bool)> + Send>;

struct Finished {
  call: u32,
  outcome: Outcome,
}

/// Items handed from one thread to another in batches: the first item since the last take asks the receiving side
/// to take them, the ones after it ride along.
struct Batch<T> {
  items: Mutex<Vec<T>>,
  /// A take has been asked for and has not yet happened.
  asked: AtomicBool,
}

impl<T> Batch<T> {
  const fn new() -> Self {
    Self {
      items: Mutex::new(Vec::new()),
      asked: AtomicBool::new(false),
    }
  }

  /// Adds an item; true when it is the first since the last take, and the caller is to have the batch taken.
  fn push(&self, item: T) -> bool {
    self.items().push(item);
    !self.asked.swap(true, Ordering::AcqRel)
  }

  /// Takes every item. The flag is lowered before the take, so an item added after it asks for another take
  /// rather than waiting for one.
  fn take(&self) -> Vec<T> {
    self.asked.store(false, Ordering::Release);
    std::mem::take(&mut *self.items())
  }

  /// A panic while the items were held (none can: a push or a take) leaves them whole.
  fn items(&self) -> MutexGuard<'_, Vec<T>> {
    self.items.lock().unwrap_or_else(PoisonError::into_inner)
  }
}

/// One per client: its finished calls, and the function that wakes the JS thread for them.
/// What a call asked for beyond its arguments.
#[derive(Default)]
struct Asked {
  limit: Option<std::time::Duration>,
  class: Class,
}

pub struct Bridge {
  finished: Arc<Batch<Finished>>,
  wake: Arc<Wake>,
  /// What calls asked for beyond their arguments (`{ deadlineMs, bulk }`), taken when the call starts.
  asked: Mutex<std::collections::HashMap<u32, Asked>>,
}

impl Bridge {
  pub fn new(settle: SettleFunction<'_>, log: Arc<Log>, observer: Arc<Observer>) -> napi::Result<Self> {
    let finished = Arc::new(Batch::new());
    let batch = finished.clone();
    let wake = settle
      .build_threadsafe_function::<()>()
      .callee_handled::<false>()
      .weak::<true>()
      .build_callback(move |context: ThreadsafeCallContext<()>| {
        settle_args(&context.env, batch.take(), &log, &observer)
      })?;
    Ok(Self {
      finished,
      wake: Arc::new(wake),
      asked: Mutex::default(),
    })
  }

  /// The call numbered `call`, about to start, has a deadline of its own.
  pub fn limit(&self, call: u32, limit: std::time::Duration) {
    self.ask(call, |asked| asked.limit = Some(limit));
  }

  /// The call numbered `call`, about to start, is a campaign's send: it waits behind interactive ones.
  pub fn bulk(&self, call: u32) {
    self.ask(call, |asked| asked.class = Class::Bulk);
  }

  fn ask(&self, call: u32, change: impl FnOnce(&mut Asked)) {
    change(
      self
        .asked
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .entry(call)
        .or_default(),
    );
  }

  /// Runs a core call on the I/O thread; its outcome reaches `settle` under its number. A panic in the call is
  /// an error too.
  pub fn run<T, F>(&self, call: u32, work: F)
  where
    T: ToNapiValue + Send + 'static,
    F: Future<Output = Result<T, Error>> + Send + 'static,
  {
    let finished = self.finished.clone();
    let wake = self.wake.clone();
    let asked = self
      .asked
      .lock()
      .unwrap_or_else(PoisonError::into_inner)
      .remove(&call)
      .unwrap_or_default();
    let work = twilio_core::with_class(
      asked.class,
      twilio_core::with_deadline(asked.limit, numbered(call, work)),
    );
    // Combinators, not an `async` block: a block would hold the call's future twice (captured, and awaited), and
    // a send waiting its turn in the pacer is this future, a hundred thousand of them in a deep queue.
    spawn(AssertUnwindSafe(work).catch_unwind().map(move |result| {
      let outcome: Outcome = Box::new(move |env| match result {
        Ok(Ok(value)) => Ok((value.into_unknown(env)?, false)),
        Ok(Err(failure)) => Ok((js_error(env, &failure)?.to_unknown(), true)),
        Err(_) => Ok((
          env
            .create_error(napi::Error::from_reason("a panic in the native client"))?
            .to_unknown(),
          true,
        )),
      });
      if finished.push(Finished { call, outcome }) {
        // After the tasks already due, so that the calls finishing in this turn ride along.
        drop(tokio::spawn(async move {
          // A closed function: the environment is going away, and the promises with it.
          wake.call((), ThreadsafeFunctionCallMode::NonBlocking);
        }));
      }
    }));
  }
}

/// On the JS thread: the finished calls' outcomes as `settle`'s arguments.
fn settle_args(env: &Env, finished: Vec<Finished>, log: &Log, observer: &Observer) -> napi::Result<SettleArgs> {
  let mut calls = Vec::with_capacity(finished.len());
  let mut outcomes = Vec::with_capacity(finished.len());
  let mut failed = Vec::with_capacity(finished.len());
  for Finished { call, outcome } in finished {
    let (value, error) = match outcome(env) {
      Ok(made) => made,
      // A value napi could not make (the environment shutting down): the call fails with napi's reason.
      Err(reason) => (env.create_error(reason)?.to_unknown(), true),
    };
    calls.push(call);
    outcomes.push(value);
    failed.push(error);
  }
  let outcomes = Array::from_vec(env, outcomes)?;
  let lines: Vec<LogEvent> = log.take().into_iter().map(LogEvent::from).collect();
  let lines = Some(lines).filter(|lines| !lines.is_empty());
  let requests: Vec<RequestEvent> = observer.take_records().into_iter().map(RequestEvent::from).collect();
  let requests = Some(requests).filter(|requests| !requests.is_empty());
  Ok(FnArgs::from((calls, outcomes.raw(), failed, lines, requests)))
}

type Task = Pin<Box<dyn Future<Output = ()> + Send>>;

struct Io {
  handle: Handle,
  inbox: Batch<Task>,
}

/// Runs `task` on the I/O thread; on napi's runtime should the thread not start (the system refusing a thread).
fn spawn<F>(task: F)
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

/// On the I/O thread: spawns what the inbox holds.
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
