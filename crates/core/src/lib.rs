//! The Twilio Conversations client core: plain Rust, no napi.
//!
//! - [`config`]: options resolved once (option, environment, named constant), the secret type.
//! - [`http`]: the transport seam, reqwest, retries within a deadline.
//! - [`endpoints`]: Twilio's endpoints as typed calls; [`resources`]: their answers as typed records.
//! - [`pacing`]: at most Twilio's writes per second, per conversation and per service.
//! - [`notices`]: warnings for the caller's logger (once per event, never per message).
//! - [`resolver`]: the customer's conversation, found or created, cached, single-flight.
//! - [`messages`]: the sends (text, template, image) in either delivery mode.
//! - [`media`]: media from a URL or a file, guarded, and uploads to the Media Content Service.
//! - [`phone`], [`input`]: validation of everything a caller hands in.
//! - [`client`]: the facade the binding wraps.

#![deny(clippy::all)]

pub mod client;
pub mod config;
pub mod endpoints;
pub mod error;
pub mod http;
pub mod input;
pub mod media;
pub mod messages;
pub mod notices;
pub mod pacing;
pub mod phone;
pub mod present;
pub mod resolver;
pub mod resources;

pub use client::Client;
pub use config::{Config, ConversationTimers, Delivery, Options, Secret, SystemParticipant};
pub use error::{Error, Result};
pub use phone::Customer;
