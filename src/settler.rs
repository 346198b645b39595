//! How a call's promise is settled: one threadsafe function per client for all its calls. napi's own bridge
//! (`spawn_future_with_callback`) creates a threadsafe function, a uv handle and a second task for every call;
//! here a call is one task, and calls that finish together are settled in one wake-up of the event loop.
//!
//! Finished calls wait in a queue of the settler's own, and the threadsafe function is called once per batch, not
//! once per call: Node's function takes its lock for every item it hands to the event loop, and with the I/O
//! thread adding items while the event loop takes them, the two threads queued on that lock and put each other to
//! sleep about once per message (`perf stat`: a futex call and a context switch per message).
//!
//! The threadsafe function keeps the event loop alive only while calls are pending, as a pending promise of napi's
//! would. When Node finalizes it (the environment is going away), nothing is sent to it any more: a call that
//! finishes after that is dropped with its promise.

use std::ffi::c_void;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::ptr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard};

use futures::FutureExt;
use napi::bindgen_prelude::{JsValue, PromiseRaw, ToNapiValue};
use napi::{check_status, sys, Env, JsError, Status};
use tokio::runtime::Handle;
use twilio_core::Error;

use crate::batch::Batch;
use crate::io;
use crate::results::js_error;

type Settle = Box<dyn FnOnce(sys::napi_env) -> Result<sys::napi_value, sys::napi_value> + Send>;

/// A call's outcome on its way to the JS thread, where its value or error is made and its promise settled.
struct Completion {
  deferred: Deferred,
  settle: Settle,
}

/// A deferred on its way through the runtime: it is touched only on the JS thread, in `call_js`.
struct Deferred(sys::napi_deferred);

unsafe impl Send for Deferred {}

#[derive(Clone, Copy)]
struct Function(sys::napi_threadsafe_function);

// Node's threadsafe functions are made to be called from any thread.
unsafe impl Send for Function {}
unsafe impl Sync for Function {}

/// What the client's calls share with the threadsafe function's callbacks.
struct Shared {
  /// `None` once Node has finalized the function. Calls hold the read lock while they send, so the function is
  /// never deleted under one.
  function: RwLock<Option<Function>>,
  /// Calls not yet settled. Changed only on the JS thread: at a call, and when its promise is settled.
  pending: AtomicUsize,
  /// Finished calls, waiting for the JS thread.
  finished: Batch<Completion>,
}

impl Shared {
  /// The function, if Node has not finalized it; a poisoned lock still holds a valid handle.
  fn function(&self) -> RwLockReadGuard<'_, Option<Function>> {
    self.function.read().unwrap_or_else(|e| e.into_inner())
  }

  /// Calls the function for the finished calls.
  fn signal(&self) {
    let function = self.function();
    let status = match *function {
      Some(Function(raw)) => unsafe {
        sys::napi_call_threadsafe_function(raw, ptr::null_mut(), sys::ThreadsafeFunctionCallMode::nonblocking)
      },
      None => sys::Status::napi_closing,
    };
    if status != sys::Status::napi_ok {
      // Closing: the environment is going away, and the promises with it.
      self.finished.clear();
    }
  }
}

pub struct Settler {
  shared: Arc<Shared>,
}

impl Settler {
  pub fn new(env: &Env) -> napi::Result<Self> {
    let shared = Arc::new(Shared {
      function: RwLock::new(None),
      pending: AtomicUsize::new(0),
      finished: Batch::new(),
    });
    let name = env.create_string("twilio-api-client")?;
    let mut raw = ptr::null_mut();
    // The function's context is a reference of its own to `shared`, given back in `finalize`.
    let context = Arc::into_raw(shared.clone()) as *mut c_void;
    let status = unsafe {
      sys::napi_create_threadsafe_function(
        env.raw(),
        ptr::null_mut(),
        ptr::null_mut(),
        name.raw(),
        0,
        1,
        context,
        Some(finalize),
        context,
        Some(call_js),
        &mut raw,
      )
    };
    if status != sys::Status::napi_ok {
      drop(unsafe { Arc::from_raw(context as *const Shared) });
      check_status!(status, "cannot create the client's threadsafe function")?;
    }
    *shared.function.write().unwrap_or_else(|e| e.into_inner()) = Some(Function(raw));
    // From here on, dropping the settler releases the function.
    let settler = Self { shared };
    check_status!(unsafe { sys::napi_unref_threadsafe_function(env.raw(), raw) })?;
    Ok(settler)
  }

  /// Runs a core call on the I/O thread and settles its promise on the JS thread: the value, or the error as
  /// [`js_error`] builds it; a panic in the call rejects it too.
  pub fn settle<'env, T, F>(self: &Arc<Self>, env: &'env Env, call: F) -> napi::Result<PromiseRaw<'env, T>>
  where
    T: ToNapiValue + Send + 'static,
    F: Future<Output = Result<T, Error>> + Send + 'static,
  {
    let mut deferred = ptr::null_mut();
    let mut promise = ptr::null_mut();
    check_status!(unsafe { sys::napi_create_promise(env.raw(), &mut deferred, &mut promise) })?;
    self.started(env);
    let settler = self.clone();
    let deferred = Deferred(deferred);
    io::spawn(async move {
      let outcome = AssertUnwindSafe(call).catch_unwind().await;
      let settle: Settle = Box::new(move |env| unsafe {
        let error = |error: napi::Error| JsError::from(error).into_value(env);
        match outcome {
          Ok(Ok(value)) => T::to_napi_value(env, value).map_err(error),
          Ok(Err(failure)) => Err(error(js_error(&Env::from_raw(env), &failure))),
          Err(_) => Err(error(napi::Error::new(
            Status::GenericFailure,
            "a panic in the native client",
          ))),
        }
      });
      settler.send(Completion { deferred, settle });
    });
    Ok(PromiseRaw::new(env.raw(), promise))
  }

  /// A call begins: while any is pending, the function keeps the event loop alive.
  fn started(&self, env: &Env) {
    if self.shared.pending.fetch_add(1, Ordering::Relaxed) == 0 {
      if let Some(Function(raw)) = *self.shared.function() {
        unsafe { sys::napi_ref_threadsafe_function(env.raw(), raw) };
      }
    }
  }

  /// Queues a finished call. The first since the JS thread last took the queue has the function called, once the
  /// I/O thread has run the tasks already due: the calls that finish in the same turn go in one batch.
  fn send(&self, completion: Completion) {
    if self.shared.function().is_none() {
      return;
    }
    if !self.shared.finished.push(completion) {
      return;
    }
    let shared = self.shared.clone();
    match Handle::try_current() {
      Ok(runtime) => drop(runtime.spawn(async move { shared.signal() })),
      Err(_) => shared.signal(),
    }
  }
}

impl Drop for Settler {
  fn drop(&mut self) {
    let function = self.shared.function();
    if let Some(Function(raw)) = *function {
      unsafe { sys::napi_release_threadsafe_function(raw, sys::ThreadsafeFunctionReleaseMode::release) };
    }
  }
}

unsafe extern "C" fn call_js(env: sys::napi_env, _: sys::napi_value, context: *mut c_void, _: *mut c_void) {
  let shared = unsafe { &*(context as *const Shared) };
  // A call that finishes after the take calls the function again.
  let finished = shared.finished.take();
  // No environment: the function is being torn down with it, and these outcomes have no promise to settle.
  if env.is_null() {
    return;
  }
  let settled = finished.len();
  for Completion {
    deferred: Deferred(deferred),
    settle,
  } in finished
  {
    unsafe {
      let outcome = settle(env);
      // Settled together, the calls share one callback: an exception left pending by one (none is expected)
      // rejects that call instead of failing every napi call after it.
      let mut thrown = false;
      sys::napi_is_exception_pending(env, &mut thrown);
      let mut exception = ptr::null_mut();
      if thrown && sys::napi_get_and_clear_last_exception(env, &mut exception) == sys::Status::napi_ok {
        sys::napi_reject_deferred(env, deferred, exception);
        continue;
      }
      match outcome {
        Ok(value) => sys::napi_resolve_deferred(env, deferred, value),
        Err(error) => sys::napi_reject_deferred(env, deferred, error),
      };
    }
  }
  if settled > 0 && shared.pending.fetch_sub(settled, Ordering::Relaxed) == settled {
    if let Some(Function(raw)) = *shared.function() {
      unsafe { sys::napi_unref_threadsafe_function(env, raw) };
    }
  }
}

unsafe extern "C" fn finalize(_: sys::napi_env, data: *mut c_void, _: *mut c_void) {
  let shared = unsafe { Arc::from_raw(data as *const Shared) };
  *shared.function.write().unwrap_or_else(|e| e.into_inner()) = None;
}
