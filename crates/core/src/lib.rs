//! The Twilio Conversations client core: plain Rust, no napi.
//!
//! - [`config`]: options resolved once (option, environment, named constant), the secret type.
//! - [`transport`]: the transport seam and its one transport (reqwest); [`http`]: retries within a deadline.
//! - [`endpoints`]: Twilio's endpoints as typed calls; [`records`]: their answers as typed records.
//! - [`pacing`]: at most Twilio's writes per second, per conversation and per service, in the order asked;
//!   [`fleet`]: that budget shared by a fleet through Redis; [`call`]: a call's deadline (still while it
//!   queues) and its place in line.
//! - [`observe`]: a record of each Twilio request while watched, and running totals.
//! - [`log`]: lines for the caller's logger: warnings once per event (never per message), what the client changed.
//! - [`resolver`]: the customer's conversation, found or created, cached (moka), single-flight.
//! - [`messages`]: the sends (text, template, image) in either delivery mode; [`preflight`]: the same checks made
//!   alone, with reads only (`checkTemplate`, a dry run of `sendBulk`).
//! - [`claims`]: one holder at a time for a keyed send or a webhook event, in the process and fleet-wide through
//!   Redis; [`idempotency`]: the mark (key, content digest, MAC) only this client can write; [`events`]: each
//!   webhook event handed on once, delivery statuses never backwards; [`reconcile`]: the journal of sent messages and
//!   the receipts whose webhooks never came; [`topology`]: one Redis, a Cluster or a Sentinel's master.
//! - [`templates`]: templates' definitions and WhatsApp approval from the Content API, cached, and each template
//!   send checked against them; [`variables`]: a send's variables, checked on their own and encoded.
//! - [`media`]: media from a file, and what any media is judged by; [`fetch`]: media from a URL, guarded.
//! - [`phone`], [`input`]: validation of everything a caller hands in.
//! - [`signature`], [`webhooks`]: webhook signatures, the service's webhook configuration, events typed.
//! - [`receipts`], [`window`]: delivery receipts, and the WhatsApp 24-hour window.
//! - [`client`]: the facade the binding wraps.

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
pub use call::{classed as with_class, limited as with_deadline, Class};
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
pub use receipts::DeliveryStatus;
pub use records::MediaItem;
pub use records::ReceiptRecord;
pub use variables::{Value as VariableValue, Variables};
pub use webhooks::{WebhookConfiguration, WebhookSettings};
pub use window::Window;
