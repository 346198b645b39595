//! How a call's promise is settled: one wake-up of the event loop per client for all its calls. napi's own bridge
//! (`spawn_future_with_callback`) creates a threadsafe function, a uv handle and a second task for every call;
//! here a call is one task, and calls that finish together are settled in one wake-up of the event loop.
//!
//! Finished calls wait in a queue of the settler's own, and the event loop is woken once per batch, through a
//! libuv async handle of the settler's own (`uv`). Not through a threadsafe function, though it is made for this:
//! Node wakes the event loop while holding the function's lock, and the woken event loop takes that lock first
//! thing, so the two threads put each other to sleep about once per batch (`perf record -e
//! syscalls:sys_enter_futex`: half the process's futex calls were that pair). A host without libuv's functions
//! (or Windows, where they are not looked up) gets the threadsafe function.
//!
//! The wake-up keeps the event loop alive only while calls are pending, as a pending promise of napi's would.
//! When the environment goes away, nothing is sent to it any more: a call that finishes after that is dropped
//! with its promise.

use std::ffi::c_void;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use futures::FutureExt;
use napi::bindgen_prelude::{JsValue, PromiseRaw, ToNapiValue};
use napi::{check_status, sys, Env, JsError, Status};
use tokio::runtime::Handle;
use twilio_core::Error;

use crate::batch::Batch;
use crate::io;
use crate::results::js_error;
use crate::uv::Async;

type Settle = Box<dyn FnOnce(sys::napi_env) -> Result<sys::napi_value, sys::napi_value> + Send>;

/// A call's outcome on its way to the JS thread, where its value or error is made and its promise settled.
struct Completion {
  deferred: Deferred,
  settle: Settle,
}

/// A deferred on its way through the runtime: it is touched only on the JS thread, in `settle_finished`.
struct Deferred(sys::napi_deferred);

unsafe impl Send for Deferred {}

/// How the event loop is woken for finished calls.
enum Wake {
  Handle(Async),
  Function(sys::napi_threadsafe_function),
}

// Both are made to be woken from any thread; what else is done with them is done on the JS thread.
unsafe impl Send for Wake {}
unsafe impl Sync for Wake {}

/// What the async handle's callback needs on the JS thread, where alone it is used.
struct JsThread {
  env: sys::napi_env,
  context: sys::napi_async_context,
}

unsafe impl Send for JsThread {}
unsafe impl Sync for JsThread {}

/// What the client's calls share with the callbacks on the JS thread.
struct Shared {
  /// `None` once the environment is going away, or the handle is closed. Calls hold the read lock while they
  /// wake the event loop, so the handle or function is never closed under one.
  wake: RwLock<Option<Wake>>,
  js: JsThread,
  /// Calls not yet settled. Changed only on the JS thread: at a call, and when its promise is settled.
  pending: AtomicUsize,
  /// Finished calls, waiting for the JS thread.
  finished: Batch<Completion>,
  /// The settler is gone: the handle is to be closed on the JS thread.
  dropped: AtomicBool,
}

impl Shared {
  /// How to wake the event loop; a poisoned lock still holds a valid one.
  fn wake(&self) -> RwLockReadGuard<'_, Option<Wake>> {
    self.wake.read().unwrap_or_else(|e| e.into_inner())
  }

  fn wake_mut(&self) -> RwLockWriteGuard<'_, Option<Wake>> {
    self.wake.write().unwrap_or_else(|e| e.into_inner())
  }

  /// Wakes the event loop for the finished calls.
  fn signal(&self) {
    let sent = match &*self.wake() {
      Some(Wake::Handle(handle)) => handle.send(),
      Some(Wake::Function(raw)) => unsafe {
        sys::napi_call_threadsafe_function(*raw, ptr::null_mut(), sys::ThreadsafeFunctionCallMode::nonblocking)
          == sys::Status::napi_ok
      },
      None => false,
    };
    if !sent {
      // Closing: the environment is going away, and the promises with it.
      self.finished.clear();
    }
  }

  /// On the JS thread: whether the event loop is kept alive for pending calls.
  fn keep_alive(&self, alive: bool) {
    match &*self.wake() {
      Some(Wake::Handle(handle)) => unsafe { handle.keep_alive(alive) },
      Some(Wake::Function(raw)) => unsafe {
        if alive {
          sys::napi_ref_threadsafe_function(self.js.env, *raw);
        } else {
          sys::napi_unref_threadsafe_function(self.js.env, *raw);
        }
      },
      None => {}
    }
  }
}

pub struct Settler {
  shared: Arc<Shared>,
}

impl Settler {
  pub fn new(env: &Env) -> napi::Result<Self> {
    let name = env.create_string("twilio-api-client")?;
    let mut context = ptr::null_mut();
    check_status!(unsafe { sys::napi_async_init(env.raw(), ptr::null_mut(), name.raw(), &mut context) })?;
    let shared = Arc::new(Shared {
      wake: RwLock::new(None),
      js: JsThread {
        env: env.raw(),
        context,
      },
      pending: AtomicUsize::new(0),
      finished: Batch::new(),
      dropped: AtomicBool::new(false),
    });
    // The handle's data (or the function's context) is a reference of its own to `shared`, given back when the
    // handle is closed (or the function finalized).
    let data = Arc::into_raw(shared.clone()) as *mut c_void;
    let wake = match unsafe { handle(env, data) } {
      Some(handle) => Ok(handle),
      None => unsafe { function(env, name.raw(), data) },
    };
    match wake {
      Ok(wake) => *shared.wake_mut() = Some(wake),
      Err(error) => {
        unsafe { sys::napi_async_destroy(env.raw(), context) };
        drop(unsafe { Arc::from_raw(data as *const Shared) });
        return Err(error);
      }
    }
    Ok(Self { shared })
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
    if self.shared.pending.fetch_add(1, Ordering::Relaxed) == 0 {
      self.shared.keep_alive(true);
    }
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

  /// Queues a finished call. The first since the JS thread last took the queue wakes the event loop, once the
  /// I/O thread has run the tasks already due: the calls that finish in the same turn go in one batch.
  fn send(&self, completion: Completion) {
    if self.shared.wake().is_none() {
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
    match &*self.shared.wake() {
      // The last call may end on the I/O thread: the handle is closed on the JS thread, at the wake-up.
      Some(Wake::Handle(handle)) => {
        self.shared.dropped.store(true, Ordering::Release);
        handle.send();
      }
      Some(Wake::Function(raw)) => unsafe {
        sys::napi_release_threadsafe_function(*raw, sys::ThreadsafeFunctionReleaseMode::release);
      },
      None => {}
    }
  }
}

/// The async handle, and the hook that closes it with the environment.
unsafe fn handle(env: &Env, data: *mut c_void) -> Option<Wake> {
  let mut event_loop = ptr::null_mut();
  if unsafe { sys::napi_get_uv_event_loop(env.raw(), &mut event_loop) } != sys::Status::napi_ok {
    return None;
  }
  let handle = unsafe { Async::new(event_loop as *mut c_void, woken, data)? };
  if unsafe { sys::napi_add_env_cleanup_hook(env.raw(), Some(environment_ends), data) } != sys::Status::napi_ok {
    unsafe { handle.close() };
    return None;
  }
  Some(Wake::Handle(handle))
}

/// The threadsafe function, for a host without libuv's functions.
unsafe fn function(env: &Env, name: sys::napi_value, data: *mut c_void) -> napi::Result<Wake> {
  let mut raw = ptr::null_mut();
  check_status!(
    unsafe {
      sys::napi_create_threadsafe_function(
        env.raw(),
        ptr::null_mut(),
        ptr::null_mut(),
        name,
        0,
        1,
        data,
        Some(finalize),
        data,
        Some(call_js),
        &mut raw,
      )
    },
    "cannot create the client's threadsafe function"
  )?;
  check_status!(unsafe { sys::napi_unref_threadsafe_function(env.raw(), raw) })?;
  Ok(Wake::Function(raw))
}

/// The async handle's callback: settles the finished calls in a callback scope of their own (microtasks and
/// `process.nextTick` run when it closes, as after any callback into JS); closes the handle once the settler is
/// gone.
unsafe extern "C" fn woken(handle: *mut c_void) {
  let data = unsafe { Async::data(handle) };
  let shared = unsafe { &*(data as *const Shared) };
  let env = shared.js.env;
  unsafe {
    let mut handles = ptr::null_mut();
    if sys::napi_open_handle_scope(env, &mut handles) != sys::Status::napi_ok {
      return;
    }
    let mut resource = ptr::null_mut();
    let mut scope = ptr::null_mut();
    let opened = sys::napi_create_object(env, &mut resource) == sys::Status::napi_ok
      && sys::napi_open_callback_scope(env, resource, shared.js.context, &mut scope) == sys::Status::napi_ok;
    settle_finished(env, shared);
    if opened {
      sys::napi_close_callback_scope(env, scope);
    }
    sys::napi_close_handle_scope(env, handles);
  }
  if shared.dropped.load(Ordering::Acquire) {
    unsafe {
      sys::napi_remove_env_cleanup_hook(env, Some(environment_ends), data);
      close(data);
    }
  }
}

/// The environment is going away: the handle is closed before its loop is.
unsafe extern "C" fn environment_ends(data: *mut c_void) {
  unsafe { close(data) };
}

/// Closes the handle and gives back its reference to `shared`.
unsafe fn close(data: *mut c_void) {
  let shared = unsafe { Arc::from_raw(data as *const Shared) };
  let wake = shared.wake_mut().take();
  if let Some(Wake::Handle(handle)) = wake {
    unsafe {
      handle.close();
      sys::napi_async_destroy(shared.js.env, shared.js.context);
    }
  }
  shared.finished.clear();
}

unsafe extern "C" fn call_js(env: sys::napi_env, _: sys::napi_value, context: *mut c_void, _: *mut c_void) {
  let shared = unsafe { &*(context as *const Shared) };
  // No environment: the function is being torn down with it, and these outcomes have no promise to settle.
  if env.is_null() {
    shared.finished.clear();
    return;
  }
  unsafe { settle_finished(env, shared) };
}

/// Settles every finished call; lets the event loop go when none is pending.
unsafe fn settle_finished(env: sys::napi_env, shared: &Shared) {
  // A call that finishes after the take wakes the event loop again.
  let finished = shared.finished.take();
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
    shared.keep_alive(false);
  }
}

unsafe extern "C" fn finalize(env: sys::napi_env, data: *mut c_void, _: *mut c_void) {
  let shared = unsafe { Arc::from_raw(data as *const Shared) };
  *shared.wake_mut() = None;
  unsafe { sys::napi_async_destroy(env, shared.js.context) };
}
