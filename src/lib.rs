//! The napi binding: converts JS arguments into core calls and core results into plain objects. It holds no
//! logic of its own; the legacy class shape lives in the hand-written `index.js`.
//!
//! - [`client`]: `NativeClient`, one per JS instance, wrapping one core `Client`.
//! - [`convert`]: options and arguments.
//! - [`results`]: typed results, and the one place a core error becomes a JS error.
//! - [`webhooks`]: signature checks and typed events for a webhook handler.
//! - [`bridge`]: the thread the calls run on, and how their outcomes reach the JS thread.
//! - [`sandbox`]: the Twilio sandbox, served from the addon itself.

#![deny(clippy::all)]

/// The Rust side allocates per request from several threads; mimalloc does that with less CPU and keeps less
/// memory than the system allocator's per-thread arenas.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod bridge;
mod client;
mod convert;
mod results;
#[cfg(feature = "sandbox")]
mod sandbox;
mod webhooks;

pub use client::{content_type, mask_number, option_types, NativeClient};
#[cfg(feature = "sandbox")]
pub use sandbox::{start_sandbox, stop_sandbox};
pub use webhooks::{
  idempotency_mark_attributes, parse_webhook_event, validate_webhook_signature, webhook_date_fields,
  webhook_post_events, webhook_pre_events,
};
