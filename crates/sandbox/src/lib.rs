//! The Twilio sandbox: an in-memory, stateful emulator of the parts of Twilio the client talks to
//! (Conversations v1, Programmable Messaging's Messages.json, the Media Content Service), on one origin,
//! enforcing Twilio's rules with Twilio's error bodies, checking every request against Twilio's OpenAPI
//! descriptions, and steerable through a control API under `/__sandbox/` (reset, state, request log, seeds,
//! latency, faults, limits, clock).
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! let sandbox = twilio_sandbox::Sandbox::start(Default::default()).await?;
//! println!("TWILIO_BASE_URL={}", sandbox.url());
//! # Ok(()) }
//! ```

#![forbid(unsafe_code)]
#![deny(clippy::all)]

mod app;
pub mod contract;
mod control;
mod delivery;
mod dispatch;
mod error;
mod events;
mod faults;
mod params;
mod render;
mod routes;
mod server;
mod sid;
pub mod state;
mod template;

pub use dispatch::NOT_EMULATED;
pub use error::ApiError;
pub use faults::{DropWhen, FaultSpec};
pub use routes::described_operations;
pub use server::{Sandbox, SandboxConfig};
pub use state::{Limits, LogEntry, DEFAULT_TEMPLATE_BODY, DEFAULT_TEMPLATE_SID};
