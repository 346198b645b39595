//! The Twilio Conversations client core: plain Rust, no napi. Its modules, each one capability, in the layers
//! they form (each uses only those below it), are mapped in `docs/ARCHITECTURE.md`; [`Client`] is the facade the
//! binding wraps.

#![forbid(unsafe_code)]
#![deny(clippy::all)]
// No text from outside (Twilio's answers, a caller's input) is indexed or sliced by an offset that could panic.
#![cfg_attr(not(test), deny(clippy::indexing_slicing))]

mod agents;
mod call;
mod claims;
mod client;
mod config;
mod conversation;
mod endpoints;
mod error;
mod events;
mod fetch;
mod fleet;
mod history;
#[cfg(test)]
mod hostile;
mod http;
mod idempotency;
mod input;
mod log;
mod media;
mod messages;
mod observe;
mod pacing;
mod phone;
mod preflight;
mod priority;
mod receipts;
mod reconcile;
mod records;
mod resolver;
pub mod signature;
mod sync;
mod templates;
mod topology;
mod transport;
mod variables;
pub mod webhooks;
mod window;

pub use agents::{AgentAdded, AgentRemoved, Assignment, ParticipantInfo, Participants, Unassignment};
pub use call::{classed as with_class, limited as with_deadline};
pub use client::Client;
pub use config::{Config, ConversationTimers, Delivery, Options, Secret, SystemParticipant};
pub use conversation::{Metadata, StateChange, Status};
pub use error::{Code, Error, Result};
pub use events::Admission;
pub use history::{History, HistoryMessage};
pub use idempotency::MARK_ATTRIBUTES;
pub use log::{Log, LogLine};
pub use media::content_type_for;
pub use messages::{Sent, Uploaded};
pub use observe::{numbered, Observer, RequestRecord, Totals};
pub use phone::{mask, Customer};
pub use preflight::{Draft, Preflight, TemplateReport};
pub use priority::Class;
pub use receipts::DeliveryStatus;
pub use records::MediaItem;
pub use records::ReceiptRecord;
pub use variables::{Value as VariableValue, Variables};
pub use webhooks::{WebhookConfiguration, WebhookSettings};
pub use window::Window;
