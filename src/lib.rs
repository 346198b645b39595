//! The napi binding: converts JS arguments into core calls and core results into plain objects. It holds no
//! logic of its own; the legacy class shape lives in the hand-written `index.js`.
//!
//! - [`client`]: `NativeClient`, one per JS instance, wrapping one core `Client`.
//! - [`convert`]: options, arguments and outcomes, and the one place errors become JS values.

#![deny(clippy::all)]

mod client;
mod convert;

pub use client::{content_type, format_whatsapp_number, mask_number, NativeClient};
