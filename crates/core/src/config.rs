//! Options, resolved once: constructor option, then environment variable, then a named constant.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use strum::{EnumString, IntoStaticStr, VariantNames};

use crate::error::{Error, Result};
use crate::phone::{Customer, Numbers};

pub const DEFAULT_WHATSAPP_NUMBER: &str = "+14155238886";
pub const DEFAULT_SYSTEM_IDENTITY: &str = "system";
/// twilio-node's default request timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// twilio-node's default number of retries.
pub const DEFAULT_MAX_RETRIES: u32 = 3;
/// The longest any one call may take, retries and waits included.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(90);
pub const DEFAULT_CACHE_TTL: Duration = Duration::from_secs(300);
pub const DEFAULT_CACHE_MAX_ENTRIES: u64 = 100_000;
/// How long a template's definition (and its WhatsApp approval) is trusted before it is read again.
pub const DEFAULT_TEMPLATE_CACHE_TTL: Duration = Duration::from_secs(300);
/// Long enough for a send's claim to be renewed several times over a slow Redis, short enough that a rerun after a
/// crash waits little for the dead holder's claims.
pub const DEFAULT_CLAIM_LEASE: Duration = Duration::from_secs(30);
/// WhatsApp's media size limit.
pub const DEFAULT_MEDIA_MAX_BYTES: u64 = 16 * 1024 * 1024;
/// Twilio's limit on writes per second to one conversation, and on conversation creations per service.
pub const DEFAULT_WRITES_PER_SECOND: u32 = 30;
/// The longest a send may wait for its pacing slot: a campaign of 20,000 new customers queues in about 12
/// minutes at Twilio's 30 creations a second.
pub const DEFAULT_MAX_QUEUE: Duration = Duration::from_secs(15 * 60);
/// Twilio's minimum for `Timers.Inactive`.
pub const MIN_INACTIVE_AFTER: Duration = Duration::from_secs(60);
/// Twilio's minimum for `Timers.Closed`.
pub const MIN_CLOSED_AFTER: Duration = Duration::from_secs(600);
pub const MISSING_CREDENTIALS: &str = "TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are required in environment variables";

/// Every option the client takes; each is optional and also has an environment variable.
#[derive(Debug, Clone, Default)]
pub struct Options {
  /// `TWILIO_ACCOUNT_SID`
  pub account_sid: Option<String>,
  /// `TWILIO_AUTH_TOKEN`
  pub auth_token: Option<Secret>,
  /// `TWILIO_API_KEY`: an `SK…` key used with `api_secret` in place of the auth token.
  pub api_key: Option<String>,
  /// `TWILIO_API_SECRET`
  pub api_secret: Option<Secret>,
  /// `TWILIO_WHATSAPP_NUMBER`, default `+14155238886` (Twilio's WhatsApp sandbox number).
  pub whatsapp_number: Option<String>,
  /// `TWILIO_SYSTEM_IDENTITY`, default `system`.
  pub system_identity: Option<String>,
  /// `TWILIO_BASE_URL`: one origin serving every Twilio host by path (the sandbox).
  pub base_url: Option<String>,
  /// `TWILIO_REGION`, e.g. `ie1`.
  pub region: Option<String>,
  /// `TWILIO_EDGE`, e.g. `dublin`.
  pub edge: Option<String>,
  /// `TWILIO_TIMEOUT_MS`: per request, default 30000.
  pub timeout_ms: Option<u64>,
  /// `TWILIO_MAX_RETRIES`: default 3.
  pub max_retries: Option<u32>,
  /// `TWILIO_DEADLINE_MS`: per call, retries included, default 90000.
  pub deadline_ms: Option<u64>,
  /// `TWILIO_CACHE_TTL_MS`: default 300000 (5 minutes).
  pub cache_ttl_ms: Option<u64>,
  /// `TWILIO_CACHE_MAX_ENTRIES`: default 100000.
  pub cache_max_entries: Option<u64>,
  /// `TWILIO_DELIVERY`: `conversations` (default) or `messaging`.
  pub delivery: Option<String>,
  /// `TWILIO_MEDIA_ALLOW_PRIVATE=1`: let media URLs point at private, loopback and link-local hosts.
  pub media_allow_private_hosts: Option<bool>,
  /// `TWILIO_MEDIA_MAX_BYTES`: default 16 MiB.
  pub media_max_bytes: Option<u64>,
  /// `TWILIO_CHAT_SERVICE_SID`: the Conversations service for media uploads; asked of Twilio when unset.
  pub chat_service_sid: Option<String>,
  /// `TWILIO_SYSTEM_PARTICIPANT`: `auto` (default), `always` or `never`.
  pub system_participant: Option<String>,
  /// `TWILIO_CONVERSATION_INACTIVE_AFTER`: an ISO-8601 duration of at least a minute (`PT30M`).
  pub inactive_after: Option<String>,
  /// `TWILIO_CONVERSATION_CLOSED_AFTER`: an ISO-8601 duration of at least ten minutes (`P1D`).
  pub closed_after: Option<String>,
  /// `TWILIO_WRITES_PER_SECOND`: default 30; 0 turns pacing off.
  pub writes_per_second: Option<u32>,
  /// `TWILIO_MAX_QUEUE_MS`: the longest a send may wait for its pacing slot, default 900000 (15 minutes); not
  /// part of `deadline_ms`.
  pub max_queue_ms: Option<u64>,
  /// `TWILIO_REDIS_URL`: a Redis shared by every process sending for the account, which then share Twilio's rate.
  pub redis_url: Option<Secret>,
  /// `TWILIO_REDIS_CA_FILE`: the PEM file of a private CA that signed the Redis servers' TLS certificates
  /// (`rediss://`); the web's roots when unset.
  pub redis_ca_file: Option<String>,
  /// `TWILIO_REDIS_KEY_PREFIX`: put before every key the client writes in Redis (`app1:`), for a deployment that
  /// shares its Redis with others.
  pub redis_key_prefix: Option<String>,
  /// `TWILIO_MEDIA_ROOT`: the only directory local media files are read from; any when unset.
  pub media_root: Option<String>,
  /// `TWILIO_WEBHOOK_AUTH_TOKEN`: the auth token webhooks are signed with, for a client that authenticates with an
  /// API key; the auth token itself otherwise.
  pub webhook_auth_token: Option<Secret>,
  /// `TWILIO_WEBHOOK_ENABLED=1`: the client's own writes fire the service's post-event webhooks (Twilio's
  /// `X-Twilio-Webhook-Enabled: true`); off by default, as at Twilio.
  pub webhook_enabled: Option<bool>,
  /// `TWILIO_FREEFORM_OUTSIDE_WINDOW`: `send` (default) or `refuse` free-form messages to a WhatsApp customer whose
  /// 24-hour window is closed.
  pub freeform_outside_window: Option<String>,
  /// `TWILIO_TEMPLATE_CACHE_TTL_MS`: how long a template's definition is kept, default 300000 (5 minutes).
  pub template_cache_ttl_ms: Option<u64>,
  /// `TWILIO_TEMPLATE_UNAVAILABLE`: when the Content API cannot answer, `send` (default) the template with its
  /// variables checked on their own and one warning per template, or `refuse` it.
  pub template_unavailable: Option<String>,
  /// `TWILIO_IDEMPOTENCY_SECRET`: what the MAC of a keyed message's mark is made with, default the credential the
  /// client signs in with (the auth token or API secret). Set it to keep keys valid across a rotation of that.
  pub idempotency_secret: Option<Secret>,
  /// `TWILIO_CLAIM_LEASE_MS`: how long a keyed send's claim in Redis outlives a holder that stopped renewing it (a
  /// crashed process), default 30000.
  pub claim_lease_ms: Option<u64>,
  /// `TWILIO_DEFAULT_COUNTRY`: the ISO 3166 country (`US`) whose national numbers customers' numbers without `+`
  /// may be; without it such a number must be valid as an international one.
  pub default_country: Option<String>,
  pub log_level: Option<String>,
}

/// A credential that never shows itself: `Debug` and `Display` print `[redacted]`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
  pub fn new(value: impl Into<String>) -> Self {
    Self(value.into())
  }

  pub fn expose(&self) -> &str {
    &self.0
  }
}

impl fmt::Debug for Secret {
  fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    f.write_str("Secret([redacted])")
  }
}

impl fmt::Display for Secret {
  fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    f.write_str("[redacted]")
  }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, EnumString, VariantNames)]
#[strum(serialize_all = "lowercase")]
pub enum Delivery {
  /// Every message is a message of the customer's conversation.
  #[default]
  Conversations,
  /// Templates and images go through Messages.json, as the old module sent them.
  Messaging,
}

/// Whether the system identity joins the conversations the client creates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, EnumString, VariantNames)]
#[strum(serialize_all = "lowercase")]
pub enum SystemParticipant {
  /// It joins while Twilio accepts it; when Twilio refuses a conversation because of it (its limit of 1,000
  /// conversations per identity), the conversation is made without it for a while.
  #[default]
  Auto,
  /// It joins, or the conversation is not created.
  Always,
  /// It never joins: messages are still authored by it, which Twilio allows without membership.
  Never,
}

/// What becomes of a free-form message to a WhatsApp customer who has not written in 24 hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, EnumString, VariantNames)]
#[strum(serialize_all = "lowercase")]
pub enum OutsideWindow {
  /// It is sent; Twilio accepts it and its receipt ends `failed` with 63016.
  #[default]
  Send,
  /// It fails with `OUTSIDE_WHATSAPP_WINDOW` before any message request.
  Refuse,
}

/// What becomes of a template send when its definition cannot be read (the Content API does not answer, or the
/// credentials may not read it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, EnumString, VariantNames)]
#[strum(serialize_all = "lowercase")]
pub enum TemplateUnavailable {
  /// It is sent, its variables checked on their own (values, keys, counts), with one warning per template.
  #[default]
  Send,
  /// It fails with `TEMPLATE_UNAVAILABLE` before any message request.
  Refuse,
}

/// What the JS entry passes to its logger: failures at `error` (input refused at `debug`), warnings at `warn` (at
/// every level), what the client changed (a conversation created, Redis answering) at `info`, one line per Twilio
/// request at `debug`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, EnumString, VariantNames, IntoStaticStr)]
#[strum(serialize_all = "lowercase")]
pub enum LogLevel {
  #[default]
  Error,
  Warn,
  Info,
  Debug,
}

/// The option's value, else the environment's, else the default; a word it does not take is refused, naming them.
fn choice<T: FromStr + VariantNames + Default>(
  name: &str,
  option: Option<String>,
  environment: Option<String>,
) -> Result<T> {
  let Some(word) = non_empty(option).or(environment) else {
    return Ok(T::default());
  };
  word.parse().map_err(|_| {
    let words = match T::VARIANTS.split_last() {
      Some((last, [])) => format!("'{last}'"),
      Some((last, rest)) => format!("'{}' or '{last}'", rest.join("', '")),
      None => String::new(),
    };
    Error::Config {
      message: format!("{name} must be {words}, not '{word}'"),
    }
  })
}

/// The timers set on every conversation the client creates, as Twilio takes them (ISO-8601 durations).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConversationTimers {
  pub inactive_after: Option<String>,
  pub closed_after: Option<String>,
}

impl ConversationTimers {
  pub fn is_empty(&self) -> bool {
    self.inactive_after.is_none() && self.closed_after.is_none()
  }
}

/// Seconds in an ISO-8601 duration of days, hours, minutes and seconds (`P1DT2H`, `PT10M`, `PT90S`): the forms
/// Twilio's timers take. Years, months and weeks have no fixed length and are refused.
pub fn duration_seconds(text: &str) -> Option<u64> {
  let body = text.strip_prefix('P')?;
  let (days, time) = body.split_once('T').unwrap_or((body, ""));
  if body.is_empty() || body.ends_with('T') {
    return None;
  }
  let mut seconds = 0u64;
  for (part, units) in [
    (days, &[('D', 86_400u64)][..]),
    (time, &[('H', 3_600), ('M', 60), ('S', 1)][..]),
  ] {
    let mut rest = part;
    let mut allowed = units;
    while !rest.is_empty() {
      let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
      let (number, after) = rest.split_at_checked(digits)?;
      let unit = after.chars().next()?;
      let at = allowed.iter().position(|(u, _)| *u == unit)?;
      let value: u64 = number.parse().ok()?;
      seconds = seconds.checked_add(value.checked_mul(allowed.get(at)?.1)?)?;
      allowed = allowed.get(at + 1..)?;
      rest = after.get(unit.len_utf8()..)?;
    }
  }
  Some(seconds)
}

/// A timer option: a duration Twilio accepts, at least `minimum`.
fn timer_option(value: Option<String>, name: &str, minimum: Duration) -> Result<Option<String>> {
  let Some(text) = value else { return Ok(None) };
  match duration_seconds(&text) {
    Some(seconds) if seconds >= minimum.as_secs() => Ok(Some(text)),
    Some(_) => Err(Error::Config {
      message: format!(
        "{name} must be at least {} minute(s), Twilio's minimum, not '{text}'",
        minimum.as_secs() / 60
      ),
    }),
    None => Err(Error::Config {
      message: format!("{name} must be an ISO-8601 duration such as 'PT30M' or 'P1D', not '{text}'"),
    }),
  }
}

/// Where each Twilio host is reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hosts {
  pub api: String,
  pub conversations: String,
  pub media: String,
  /// The Content API: templates and their WhatsApp approval.
  pub content: String,
}

#[derive(Debug, Clone)]
pub struct Config {
  pub account_sid: String,
  /// The Basic-auth user: the account SID or an API key SID.
  pub username: String,
  pub password: Secret,
  /// What webhooks to this account are signed with: always the auth token, never an API key.
  pub webhook_auth_token: Option<Secret>,
  pub whatsapp_number: String,
  pub system_identity: String,
  pub hosts: Hosts,
  pub timeout: Duration,
  pub max_retries: u32,
  pub deadline: Duration,
  pub cache_ttl: Duration,
  pub cache_max_entries: u64,
  pub delivery: Delivery,
  pub media_allow_private_hosts: bool,
  pub media_max_bytes: u64,
  pub chat_service_sid: Option<String>,
  pub system_participant: SystemParticipant,
  pub conversation_timers: ConversationTimers,
  /// Writes per second to one conversation, and conversation creations per second; 0 for no pacing.
  pub writes_per_second: u32,
  pub max_queue: Duration,
  pub redis_url: Option<Secret>,
  /// The PEM of `redisCaFile`, read at construction.
  pub redis_ca: Option<Vec<u8>>,
  pub redis_key_prefix: String,
  /// The real path of the directory local media must be under.
  pub media_root: Option<std::path::PathBuf>,
  pub webhook_enabled: bool,
  pub freeform_outside_window: OutsideWindow,
  pub template_cache_ttl: Duration,
  pub template_unavailable: TemplateUnavailable,
  /// What keyed messages' marks are signed with.
  pub idempotency_secret: Secret,
  pub claim_lease: Duration,
  /// How customers' numbers are read.
  pub numbers: Numbers,
  /// What the JS entry logs (it owns the logger).
  pub log_level: LogLevel,
}

fn non_empty(value: Option<String>) -> Option<String> {
  value.map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
}

fn number<T: std::str::FromStr>(option: Option<T>, env: Option<String>, name: &str) -> Result<Option<T>> {
  match (option, non_empty(env)) {
    (Some(value), _) => Ok(Some(value)),
    (None, Some(text)) => text.parse().map(Some).map_err(|_| Error::Config {
      message: format!("{name} must be a non-negative whole number, not '{text}'"),
    }),
    (None, None) => Ok(None),
  }
}

fn is_loopback(host: &str) -> bool {
  let host = host.trim_start_matches('[').trim_end_matches(']');
  host.eq_ignore_ascii_case("localhost") || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The base URL's origin; credentials never travel over plain http except to this machine.
fn base_origin(value: &str) -> Result<String> {
  // Never the value itself: it may carry a password (`https://user:secret@host`).
  let invalid = |why: &str| Error::Config {
    message: format!("baseUrl {why}"),
  };
  let url = url::Url::parse(value).map_err(|_| invalid("is not a URL"))?;
  let host = url.host_str().ok_or_else(|| invalid("has no host"))?;
  match url.scheme() {
    "https" => {}
    "http" if is_loopback(host) => {}
    "http" => {
      return Err(invalid(
        "must use https: credentials are sent over plain http only to loopback hosts",
      ))
    }
    _ => return Err(invalid("must be an http(s) URL")),
  }
  Ok(value.trim_end_matches('/').to_string())
}

/// A region or edge becomes part of a host name: lowercase letters, digits and dashes only.
fn host_label(value: Option<String>, name: &str) -> Result<Option<String>> {
  match value {
    Some(label)
      if !label
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') =>
    {
      Err(Error::Config {
        message: format!("{name} must be lowercase letters, digits and dashes, like 'ie1' or 'dublin', not '{label}'"),
      })
    }
    other => Ok(other),
  }
}

fn twilio_hosts(region: Option<String>, edge: Option<String>) -> Hosts {
  // As twilio-node does: an edge without a region means us1.
  let region = region.or_else(|| edge.as_ref().map(|_| "us1".to_string()));
  let host = |product: &str| {
    let mut parts = vec![product.to_string()];
    parts.extend(edge.clone());
    parts.extend(region.clone());
    format!("https://{}.twilio.com", parts.join("."))
  };
  Hosts {
    api: host("api"),
    conversations: host("conversations"),
    content: host("content"),
    media: format!(
      "https://mcs.{}.twilio.com",
      region.clone().unwrap_or_else(|| "us1".to_string())
    ),
  }
}

/// Who the client authenticates as, and what webhooks are signed with.
struct Credentials {
  account_sid: String,
  username: String,
  password: Secret,
  webhook_auth_token: Option<Secret>,
}

/// A secret option, else its environment variable; blank is absent.
fn secret(option: Option<Secret>, env: Option<String>) -> Option<Secret> {
  option
    .filter(|secret| !secret.expose().trim().is_empty())
    .or_else(|| env.map(Secret::new))
}

impl Credentials {
  /// An API key and secret when both are given, else the account SID and auth token.
  fn resolve(options: &mut Options, env: &impl Fn(&str) -> Option<String>) -> Result<Self> {
    // The legacy module's sentence first (callers match it), then which value is missing and where it was looked for.
    let missing = |what: &str| Error::Config {
      message: format!("{MISSING_CREDENTIALS}: {what}"),
    };
    let account_sid = non_empty(options.account_sid.take())
      .or_else(|| env("TWILIO_ACCOUNT_SID"))
      .ok_or_else(|| {
        missing("the account SID is missing (looked for in the accountSid option and TWILIO_ACCOUNT_SID)")
      })?;
    if !account_sid.starts_with("AC") {
      let shape = if account_sid.starts_with("SK") {
        "an API key SID (SK…): give it as apiKey, with apiSecret, and the account SID (AC…) as accountSid"
      } else {
        "not an account SID: those start with AC (Twilio Console, Account Info)"
      };
      return Err(Error::Config {
        message: format!("accountSid (or TWILIO_ACCOUNT_SID) is {shape}"),
      });
    }
    let auth_token = secret(options.auth_token.take(), env("TWILIO_AUTH_TOKEN"));
    let api_key = non_empty(options.api_key.take()).or_else(|| env("TWILIO_API_KEY"));
    let api_secret = secret(options.api_secret.take(), env("TWILIO_API_SECRET"));
    let webhook_auth_token =
      secret(options.webhook_auth_token.take(), env("TWILIO_WEBHOOK_AUTH_TOKEN")).or_else(|| auth_token.clone());
    let (username, password) = match (api_key, api_secret, auth_token) {
      (Some(key), Some(secret), _) => (key, secret),
      (_, _, Some(token)) => (account_sid.clone(), token),
      (Some(_), None, None) => {
        return Err(missing(
          "apiKey (or TWILIO_API_KEY) is given without its apiSecret (TWILIO_API_SECRET), and there is no auth token",
        ))
      }
      _ => {
        return Err(missing(
          "the auth token is missing (looked for in the authToken option and TWILIO_AUTH_TOKEN; or give apiKey and \
           apiSecret)",
        ))
      }
    };
    Ok(Self {
      account_sid,
      username,
      password,
      webhook_auth_token,
    })
  }
}

/// Twilio's hosts: all at `baseUrl` when given (the sandbox, a proxy), else the region's and edge's.
fn hosts(base_url: Option<String>, region: Option<String>, edge: Option<String>) -> Result<Hosts> {
  Ok(match base_url {
    Some(base) => {
      let origin = base_origin(&base)?;
      Hosts {
        api: origin.clone(),
        conversations: origin.clone(),
        content: origin.clone(),
        media: origin,
      }
    }
    None => twilio_hosts(host_label(region, "region")?, host_label(edge, "edge")?),
  })
}

/// The sender as E.164.
fn sender(number: String) -> Result<String> {
  Customer::parse(&number)
    .map(|customer| customer.e164())
    .map_err(|_| Error::Config {
      message: format!("whatsappNumber is not an E.164 phone number: {number}"),
    })
}

/// `redisKeyPrefix`: printable ASCII without spaces, at most 64 characters (a key name, never a command).
fn key_prefix(prefix: Option<String>) -> Result<String> {
  let prefix = prefix.unwrap_or_default();
  if prefix.len() > 64 || !prefix.bytes().all(|b| b.is_ascii_graphic()) {
    return Err(Error::Config {
      message: "redisKeyPrefix must be at most 64 printable ASCII characters without spaces".to_string(),
    });
  }
  Ok(prefix)
}

/// `mediaRoot`'s real path; it must be a directory.
fn media_root(root: Option<String>) -> Result<Option<std::path::PathBuf>> {
  root
    .map(|root| {
      std::fs::canonicalize(&root)
        .ok()
        .filter(|real| real.is_dir())
        .ok_or_else(|| Error::Config {
          message: format!("mediaRoot must be an existing directory, not '{root}'"),
        })
    })
    .transpose()
}

impl Config {
  /// Resolves every option: the option, else the environment variable (looked up through `env`), else the
  /// default.
  pub fn resolve(mut options: Options, env: impl Fn(&str) -> Option<String>) -> Result<Self> {
    let env = |name: &str| non_empty(env(name));
    let credentials = Credentials::resolve(&mut options, &env)?;
    let text = |option: Option<String>, name: &str| non_empty(option).or_else(|| env(name));
    let flag =
      |option: Option<bool>, name: &str| option.unwrap_or_else(|| matches!(env(name).as_deref(), Some("1" | "true")));
    let millis = |option: Option<u64>, name: &str, variable: &str, default: Duration| {
      number(option, env(variable), name).map(|ms| ms.map_or(default, Duration::from_millis))
    };
    let timeout = millis(options.timeout_ms, "timeoutMs", "TWILIO_TIMEOUT_MS", DEFAULT_TIMEOUT)?;
    let deadline = millis(
      options.deadline_ms,
      "deadlineMs",
      "TWILIO_DEADLINE_MS",
      DEFAULT_DEADLINE,
    )?;
    let max_queue = millis(
      options.max_queue_ms,
      "maxQueueMs",
      "TWILIO_MAX_QUEUE_MS",
      DEFAULT_MAX_QUEUE,
    )?;
    let claim_lease = millis(
      options.claim_lease_ms,
      "claimLeaseMs",
      "TWILIO_CLAIM_LEASE_MS",
      DEFAULT_CLAIM_LEASE,
    )?;
    if timeout.is_zero() || deadline.is_zero() || max_queue.is_zero() || claim_lease.is_zero() {
      return Err(Error::Config {
        message: "timeoutMs, deadlineMs, maxQueueMs and claimLeaseMs must be greater than 0".to_string(),
      });
    }
    let idempotency_secret = secret(options.idempotency_secret, env("TWILIO_IDEMPOTENCY_SECRET"))
      .unwrap_or_else(|| credentials.password.clone());
    let timer = |option: Option<String>, variable: &str, name: &str, minimum: Duration| {
      timer_option(text(option, variable), name, minimum)
    };
    Ok(Self {
      account_sid: credentials.account_sid,
      username: credentials.username,
      password: credentials.password,
      webhook_auth_token: credentials.webhook_auth_token,
      whatsapp_number: sender(
        text(options.whatsapp_number, "TWILIO_WHATSAPP_NUMBER").unwrap_or_else(|| DEFAULT_WHATSAPP_NUMBER.to_string()),
      )?,
      system_identity: text(options.system_identity, "TWILIO_SYSTEM_IDENTITY")
        .unwrap_or_else(|| DEFAULT_SYSTEM_IDENTITY.to_string()),
      hosts: hosts(
        text(options.base_url, "TWILIO_BASE_URL"),
        text(options.region, "TWILIO_REGION"),
        text(options.edge, "TWILIO_EDGE"),
      )?,
      timeout,
      max_retries: number(options.max_retries, env("TWILIO_MAX_RETRIES"), "maxRetries")?.unwrap_or(DEFAULT_MAX_RETRIES),
      deadline,
      cache_ttl: millis(
        options.cache_ttl_ms,
        "cacheTtlMs",
        "TWILIO_CACHE_TTL_MS",
        DEFAULT_CACHE_TTL,
      )?,
      cache_max_entries: number(
        options.cache_max_entries,
        env("TWILIO_CACHE_MAX_ENTRIES"),
        "cacheMaxEntries",
      )?
      .unwrap_or(DEFAULT_CACHE_MAX_ENTRIES),
      delivery: choice("delivery", options.delivery, env("TWILIO_DELIVERY"))?,
      media_allow_private_hosts: flag(options.media_allow_private_hosts, "TWILIO_MEDIA_ALLOW_PRIVATE"),
      media_max_bytes: number(options.media_max_bytes, env("TWILIO_MEDIA_MAX_BYTES"), "mediaMaxBytes")?
        .unwrap_or(DEFAULT_MEDIA_MAX_BYTES),
      chat_service_sid: text(options.chat_service_sid, "TWILIO_CHAT_SERVICE_SID"),
      system_participant: choice(
        "systemParticipant",
        options.system_participant,
        env("TWILIO_SYSTEM_PARTICIPANT"),
      )?,
      conversation_timers: ConversationTimers {
        inactive_after: timer(
          options.inactive_after,
          "TWILIO_CONVERSATION_INACTIVE_AFTER",
          "conversationTimers.inactiveAfter",
          MIN_INACTIVE_AFTER,
        )?,
        closed_after: timer(
          options.closed_after,
          "TWILIO_CONVERSATION_CLOSED_AFTER",
          "conversationTimers.closedAfter",
          MIN_CLOSED_AFTER,
        )?,
      },
      writes_per_second: number(
        options.writes_per_second,
        env("TWILIO_WRITES_PER_SECOND"),
        "writesPerSecond",
      )?
      .unwrap_or(DEFAULT_WRITES_PER_SECOND),
      max_queue,
      redis_url: secret(options.redis_url, env("TWILIO_REDIS_URL")),
      redis_ca: text(options.redis_ca_file, "TWILIO_REDIS_CA_FILE")
        .map(|path| {
          std::fs::read(&path).map_err(|e| Error::Config {
            message: format!("redisCaFile '{path}' cannot be read: {}", e.kind()),
          })
        })
        .transpose()?,
      redis_key_prefix: key_prefix(text(options.redis_key_prefix, "TWILIO_REDIS_KEY_PREFIX"))?,
      media_root: media_root(text(options.media_root, "TWILIO_MEDIA_ROOT"))?,
      webhook_enabled: flag(options.webhook_enabled, "TWILIO_WEBHOOK_ENABLED"),
      freeform_outside_window: choice(
        "freeformOutsideWindow",
        options.freeform_outside_window,
        env("TWILIO_FREEFORM_OUTSIDE_WINDOW"),
      )?,
      template_cache_ttl: millis(
        options.template_cache_ttl_ms,
        "templateCacheTtlMs",
        "TWILIO_TEMPLATE_CACHE_TTL_MS",
        DEFAULT_TEMPLATE_CACHE_TTL,
      )?,
      template_unavailable: choice(
        "templateUnavailable",
        options.template_unavailable,
        env("TWILIO_TEMPLATE_UNAVAILABLE"),
      )?,
      idempotency_secret,
      claim_lease,
      numbers: Numbers::new(text(options.default_country, "TWILIO_DEFAULT_COUNTRY").as_deref())?,
      log_level: choice("logLevel", options.log_level, env("TWILIO_LOG_LEVEL"))?,
    })
  }

  /// `whatsapp:+14155238886`: the proxy address of every customer binding and the From of Messaging sends.
  pub fn sender_address(&self) -> String {
    format!("whatsapp:{}", self.whatsapp_number)
  }
}

#[cfg(test)]
mod tests {
  use std::collections::HashMap;

  use super::*;

  fn resolve(options: Options, env: &[(&str, &str)]) -> Result<Config> {
    let env: HashMap<String, String> = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    Config::resolve(options, |name| env.get(name).cloned())
  }

  const CREDENTIALS: [(&str, &str); 2] = [("TWILIO_ACCOUNT_SID", "AC1"), ("TWILIO_AUTH_TOKEN", "token")];

  #[test]
  fn iso_durations_are_read_in_seconds() {
    assert_eq!(duration_seconds("PT10M"), Some(600));
    assert_eq!(duration_seconds("P1DT1H1M1S"), Some(90_061));
    assert_eq!(duration_seconds("P2D"), Some(172_800));
    for bad in [
      "", "P", "PT", "PT10", "10M", "P1M", "P1W", "PT1S1M", "PTM", "PT-1M", "pt10m",
    ] {
      assert_eq!(duration_seconds(bad), None, "{bad}");
    }
  }

  #[test]
  fn timers_below_twilios_minimums_or_not_iso_are_refused_at_construction() {
    let with = |inactive: &str, closed: &str| {
      resolve(
        Options {
          inactive_after: Some(inactive.into()),
          closed_after: Some(closed.into()),
          ..Default::default()
        },
        &CREDENTIALS,
      )
    };
    let config = with("PT1M", "PT10M").unwrap();
    assert_eq!(config.conversation_timers.inactive_after.as_deref(), Some("PT1M"));
    assert!(with("PT59S", "PT10M")
      .unwrap_err()
      .to_string()
      .contains("at least 1 minute"));
    assert!(with("PT1M", "PT9M")
      .unwrap_err()
      .to_string()
      .contains("at least 10 minute"));
    assert!(with("30 minutes", "PT10M")
      .unwrap_err()
      .to_string()
      .contains("ISO-8601"));
    let from_env = resolve(
      Options::default(),
      &[
        CREDENTIALS[0],
        CREDENTIALS[1],
        ("TWILIO_CONVERSATION_CLOSED_AFTER", "P1D"),
      ],
    )
    .unwrap();
    assert_eq!(from_env.conversation_timers.closed_after.as_deref(), Some("P1D"));
  }

  #[test]
  fn system_participant_and_pacing_have_defaults_options_and_environment_variables() {
    let config = resolve(Options::default(), &CREDENTIALS).unwrap();
    assert_eq!(config.system_participant, SystemParticipant::Auto);
    assert_eq!(config.writes_per_second, DEFAULT_WRITES_PER_SECOND);
    let config = resolve(
      Options {
        system_participant: Some("never".into()),
        ..Default::default()
      },
      &[
        CREDENTIALS[0],
        CREDENTIALS[1],
        ("TWILIO_SYSTEM_PARTICIPANT", "always"),
        ("TWILIO_WRITES_PER_SECOND", "0"),
      ],
    )
    .unwrap();
    assert_eq!(config.system_participant, SystemParticipant::Never);
    assert_eq!(config.writes_per_second, 0);
    let bad = resolve(
      Options {
        system_participant: Some("sometimes".into()),
        ..Default::default()
      },
      &CREDENTIALS,
    );
    assert!(bad.unwrap_err().to_string().contains("'auto', 'always' or 'never'"));
  }

  #[test]
  fn missing_credentials_give_the_old_modules_message() {
    let error = resolve(Options::default(), &[("TWILIO_ACCOUNT_SID", "AC1")]).unwrap_err();
    assert!(error.to_string().starts_with(MISSING_CREDENTIALS), "{error}");
    assert!(error.to_string().contains("the auth token is missing"), "{error}");
    let error = resolve(Options::default(), &[]).unwrap_err();
    assert!(error.to_string().contains("the account SID is missing"), "{error}");
    let error = resolve(
      Options::default(),
      &[("TWILIO_ACCOUNT_SID", "SK1"), ("TWILIO_AUTH_TOKEN", "t")],
    )
    .unwrap_err();
    assert!(error.to_string().contains("an API key SID"), "{error}");
  }

  #[test]
  fn defaults_come_from_named_constants() {
    let config = resolve(Options::default(), &CREDENTIALS).unwrap();
    assert_eq!(config.whatsapp_number, DEFAULT_WHATSAPP_NUMBER);
    assert_eq!(config.system_identity, "system");
    assert_eq!(config.timeout, DEFAULT_TIMEOUT);
    assert_eq!(config.max_retries, 3);
    assert_eq!(config.cache_ttl, Duration::from_secs(300));
    assert_eq!(config.delivery, Delivery::Conversations);
    assert_eq!(config.hosts.conversations, "https://conversations.twilio.com");
    assert_eq!(config.hosts.media, "https://mcs.us1.twilio.com");
    assert_eq!(config.hosts.content, "https://content.twilio.com");
    assert_eq!(config.template_cache_ttl, DEFAULT_TEMPLATE_CACHE_TTL);
    assert_eq!(config.template_unavailable, TemplateUnavailable::Send);
  }

  #[test]
  fn an_option_wins_over_its_environment_variable_and_zero_is_a_value() {
    let options = Options {
      max_retries: Some(0),
      whatsapp_number: Some("whatsapp:+15550001111".into()),
      ..Default::default()
    };
    let config = resolve(
      options,
      &[
        CREDENTIALS[0],
        CREDENTIALS[1],
        ("TWILIO_MAX_RETRIES", "7"),
        ("TWILIO_WHATSAPP_NUMBER", "+15559999999"),
      ],
    )
    .unwrap();
    assert_eq!(config.max_retries, 0);
    assert_eq!(config.whatsapp_number, "+15550001111");
  }

  #[test]
  fn api_keys_authenticate_in_place_of_the_token() {
    let config = resolve(
      Options::default(),
      &[
        ("TWILIO_ACCOUNT_SID", "AC1"),
        ("TWILIO_API_KEY", "SK1"),
        ("TWILIO_API_SECRET", "s"),
      ],
    )
    .unwrap();
    assert_eq!(config.username, "SK1");
    assert_eq!(config.password.expose(), "s");
  }

  #[test]
  fn plain_http_is_refused_except_to_loopback() {
    for ok in [
      "http://127.0.0.1:4010",
      "http://localhost:1",
      "http://[::1]:2",
      "https://twilio.example",
    ] {
      assert!(
        resolve(
          Options {
            base_url: Some(ok.into()),
            ..Default::default()
          },
          &CREDENTIALS
        )
        .is_ok(),
        "{ok}"
      );
    }
    let error = resolve(
      Options {
        base_url: Some("http://10.0.0.5:80".into()),
        ..Default::default()
      },
      &CREDENTIALS,
    )
    .unwrap_err();
    assert!(error.to_string().contains("must use https"), "{error}");
  }

  #[test]
  fn region_and_edge_pick_twilios_regional_hosts() {
    let config = resolve(
      Options {
        edge: Some("dublin".into()),
        region: Some("ie1".into()),
        ..Default::default()
      },
      &CREDENTIALS,
    )
    .unwrap();
    assert_eq!(
      config.hosts.conversations,
      "https://conversations.dublin.ie1.twilio.com"
    );
    assert_eq!(config.hosts.media, "https://mcs.ie1.twilio.com");
    assert_eq!(config.hosts.content, "https://content.dublin.ie1.twilio.com");
    let edge_only = resolve(
      Options {
        edge: Some("sydney".into()),
        ..Default::default()
      },
      &CREDENTIALS,
    )
    .unwrap();
    assert_eq!(edge_only.hosts.api, "https://api.sydney.us1.twilio.com");
  }

  #[test]
  fn a_region_or_edge_that_is_not_a_host_label_is_refused() {
    let error = resolve(
      Options {
        region: Some("ie1/../x".into()),
        ..Default::default()
      },
      &CREDENTIALS,
    )
    .unwrap_err();
    assert_eq!(
      error.to_string(),
      "region must be lowercase letters, digits and dashes, like 'ie1' or 'dublin', not 'ie1/../x'"
    );
  }

  #[test]
  fn the_token_never_shows_in_debug_output() {
    let config = resolve(
      Options::default(),
      &[("TWILIO_ACCOUNT_SID", "AC1"), ("TWILIO_AUTH_TOKEN", "supersecret123")],
    )
    .unwrap();
    let printed = format!("{config:?}");
    assert!(!printed.contains("supersecret123"), "{printed}");
    assert!(printed.contains("[redacted]"));
  }

  #[test]
  fn bad_numbers_in_the_environment_are_named() {
    let error = resolve(
      Options::default(),
      &[CREDENTIALS[0], CREDENTIALS[1], ("TWILIO_TIMEOUT_MS", "soon")],
    )
    .unwrap_err();
    assert_eq!(
      error.to_string(),
      "timeoutMs must be a non-negative whole number, not 'soon'"
    );
  }
}
