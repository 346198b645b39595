//! libuv's async handle, the cheapest way for another thread to wake the event loop: a flag and a write, no lock.
//!
//! Node exports libuv to addons. Its functions are looked up in the host at run time rather than linked, so the
//! addon still loads in a host that has napi but not libuv (Windows too, where the lookup is not made): there,
//! [`Async::new`] answers `None` and the caller keeps a threadsafe function.

use std::alloc::{alloc_zeroed, dealloc, Layout};
use std::ffi::{c_int, c_void, CStr};
use std::sync::OnceLock;

/// `uv_async_cb` and `uv_close_cb`: both receive the handle.
pub type Callback = unsafe extern "C" fn(*mut c_void);

type HandleSize = unsafe extern "C" fn(c_int) -> usize;
type AsyncInit = unsafe extern "C" fn(*mut c_void, *mut c_void, Callback) -> c_int;
type OnHandle = unsafe extern "C" fn(*mut c_void) -> c_int;
type Close = unsafe extern "C" fn(*mut c_void, Callback);
type Toggle = unsafe extern "C" fn(*mut c_void);
type SetData = unsafe extern "C" fn(*mut c_void, *mut c_void);
type GetData = unsafe extern "C" fn(*const c_void) -> *mut c_void;

/// libuv's functions the handle needs, as the host exports them.
struct Uv {
  handle_size: HandleSize,
  async_init: AsyncInit,
  async_send: OnHandle,
  close: Close,
  keep_alive: Toggle,
  let_go: Toggle,
  set_data: SetData,
  get_data: GetData,
}

/// `UV_ASYNC` in libuv's `uv_handle_type`, the same in every libuv 1.x.
const UV_ASYNC: c_int = 1;

fn uv() -> Option<&'static Uv> {
  static UV: OnceLock<Option<Uv>> = OnceLock::new();
  UV.get_or_init(|| unsafe { lookup() }).as_ref()
}

/// # Safety
/// Each name is given the signature libuv 1.x declares for it.
unsafe fn lookup() -> Option<Uv> {
  macro_rules! function {
    ($name:literal as $type:ty) => {
      unsafe { std::mem::transmute::<*mut c_void, $type>(symbol($name)?) }
    };
  }
  Some(Uv {
    handle_size: function!(c"uv_handle_size" as HandleSize),
    async_init: function!(c"uv_async_init" as AsyncInit),
    async_send: function!(c"uv_async_send" as OnHandle),
    close: function!(c"uv_close" as Close),
    keep_alive: function!(c"uv_ref" as Toggle),
    let_go: function!(c"uv_unref" as Toggle),
    set_data: function!(c"uv_handle_set_data" as SetData),
    get_data: function!(c"uv_handle_get_data" as GetData),
  })
}

#[cfg(unix)]
unsafe fn symbol(name: &CStr) -> Option<*mut c_void> {
  let found = unsafe { libc::dlsym(libc::RTLD_DEFAULT, name.as_ptr()) };
  (!found.is_null()).then_some(found)
}

#[cfg(not(unix))]
unsafe fn symbol(_: &CStr) -> Option<*mut c_void> {
  None
}

fn layout(uv: &Uv) -> Option<Layout> {
  Layout::from_size_align(unsafe { (uv.handle_size)(UV_ASYNC) }, 16).ok()
}

/// An async handle on the event loop it was made on. `send` may be called from any thread; everything else only
/// on the event loop's thread.
pub struct Async {
  raw: *mut c_void,
  uv: &'static Uv,
}

// libuv makes `uv_async_send` for other threads; the rest is called on the loop's thread, as documented above.
unsafe impl Send for Async {}
unsafe impl Sync for Async {}

impl Async {
  /// A handle calling `callback` on the loop's thread after one or more sends, with `data` readable through
  /// [`Async::data`]. It does not keep the loop alive until [`Async::keep_alive`].
  ///
  /// # Safety
  /// On the thread of `event_loop`, a live `uv_loop_t`.
  pub unsafe fn new(event_loop: *mut c_void, callback: Callback, data: *mut c_void) -> Option<Self> {
    let uv = uv()?;
    let layout = layout(uv)?;
    let raw = unsafe { alloc_zeroed(layout) } as *mut c_void;
    if raw.is_null() {
      return None;
    }
    if unsafe { (uv.async_init)(event_loop, raw, callback) } != 0 {
      unsafe { dealloc(raw as *mut u8, layout) };
      return None;
    }
    unsafe {
      (uv.set_data)(raw, data);
      (uv.let_go)(raw);
    }
    Some(Self { raw, uv })
  }

  /// The `data` given at [`Async::new`], read in the callback.
  ///
  /// # Safety
  /// `handle` is the one the callback received.
  pub unsafe fn data(handle: *mut c_void) -> *mut c_void {
    match uv() {
      Some(uv) => unsafe { (uv.get_data)(handle) },
      None => std::ptr::null_mut(),
    }
  }

  /// Has the callback called on the loop's thread soon; sends before it runs are answered by one call.
  pub fn send(&self) -> bool {
    unsafe { (self.uv.async_send)(self.raw) == 0 }
  }

  /// Whether the handle keeps the loop alive.
  ///
  /// # Safety
  /// On the loop's thread.
  pub unsafe fn keep_alive(&self, alive: bool) {
    unsafe {
      if alive {
        (self.uv.keep_alive)(self.raw)
      } else {
        (self.uv.let_go)(self.raw)
      }
    }
  }

  /// Closes the handle: its callback is not called again, and its memory is freed once libuv is done with it.
  ///
  /// # Safety
  /// On the loop's thread, with no other thread about to send.
  pub unsafe fn close(self) {
    unsafe { (self.uv.close)(self.raw, closed) };
  }
}

unsafe extern "C" fn closed(handle: *mut c_void) {
  if let Some(layout) = uv().and_then(layout) {
    unsafe { dealloc(handle as *mut u8, layout) };
  }
}
