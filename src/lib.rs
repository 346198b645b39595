//! The napi binding: converts JS arguments into core calls and core results into plain objects. It holds no
//! logic of its own; the legacy class shape lives in the hand-written `index.js`.
//!
//! - [`client`]: `NativeClient`, one per JS instance, wrapping one core `Client`.
//! - [`convert`]: options, arguments and outcomes, and the one place errors become JS values.

#![deny(clippy::all)]

/// The Rust side allocates per request from several threads; mimalloc does that with less CPU and keeps less
/// memory than the system allocator's per-thread arenas.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod client;
mod convert;

pub use client::{content_type, format_whatsapp_number, mask_number, NativeClient};
