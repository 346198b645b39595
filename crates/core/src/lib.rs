//! The Twilio Conversations client core: plain Rust, no napi.
//!
//! - [`config`]: options resolved once (option, environment, named constant), the secret type.
//! - [`http`]: the transport seam, retries within a deadline; [`http1`]: the HTTP/1.1 transport (reqwest serves
//!   only through a proxy).
//! - [`cache`]: the conversation cache, bounded, one time to live, single-flight.
//! - [`endpoints`]: Twilio's endpoints as typed calls; [`resources`]: their answers as typed records.
//! - [`pacing`]: at most Twilio's writes per second, per conversation and per service, in the order asked;
//!   [`fleet`]: that budget shared by a fleet through Redis; [`call`]: a call's deadline (still while it
//!   queues) and its place in line.
//! - [`notices`]: warnings for the caller's logger (once per event, never per message).
//! - [`resolver`]: the customer's conversation, found or created, cached, single-flight.
//! - [`messages`]: the sends (text, template, image) in either delivery mode.
//! - [`media`]: media from a URL or a file, guarded, and uploads to the Media Content Service.
//! - [`phone`], [`input`]: validation of everything a caller hands in.
//! - [`signature`], [`webhooks`]: webhook signatures, the service's webhook configuration, events typed.
//! - [`receipts`], [`window`]: delivery receipts, and the WhatsApp 24-hour window.
//! - [`client`]: the facade the binding wraps.

#![deny(clippy::all)]
// No text from outside (Twilio's answers, a caller's input) is indexed or sliced by an offset that could panic.
#![cfg_attr(not(test), deny(clippy::indexing_slicing))]

mod agents;
mod cache;
mod call;
mod client;
mod config;
mod conversation;
mod endpoints;
mod error;
mod fleet;
mod history;
mod http;
mod http1;
mod input;
mod media;
mod messages;
mod notices;
mod pacing;
mod phone;
mod receipts;
mod resolver;
mod resources;
pub mod signature;
mod sync;
pub mod webhooks;
mod window;

pub use agents::{AgentAdded, AgentRemoved, Assignment, ParticipantInfo, Participants, Unassignment};
pub use client::Client;
pub use config::{Config, ConversationTimers, Delivery, Options, Secret, SystemParticipant};
pub use conversation::{Metadata, StateChange, Status};
pub use error::{Code, Error, Result};
pub use history::{History, HistoryMessage};
pub use media::content_type_for;
pub use messages::{Sent, Uploaded};
pub use notices::Notices;
pub use phone::{mask, Customer};
pub use receipts::{DeliveryStatus, Receipt};
pub use resources::MediaItem;
pub use webhooks::{WebhookConfiguration, WebhookSettings};
pub use window::Window;
