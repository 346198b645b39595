//! Options, resolved once: constructor option, then environment variable, then a named constant.
//!
//! - [`credentials`]: who the client authenticates as, and the [`Secret`] type.
//! - [`hosts`]: where each Twilio host is reached.
//! - [`timers`]: the conversations' timers, checked against Twilio's minimums.
//! - [`choices`]: the options that take one of a few words.

mod choices;
mod credentials;
mod hosts;
mod timers;

use std::time::Duration;

use choices::choice;
pub use choices::{Delivery, LogLevel, OutsideWindow, SystemParticipant, TemplateUnavailable};
pub use credentials::Secret;
use credentials::{secret, Credentials};
use hosts::hosts;
pub use hosts::Hosts;
use timers::timer_option;
pub use timers::ConversationTimers;
use timers::{MIN_CLOSED_AFTER, MIN_INACTIVE_AFTER};

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

pub(super) fn non_empty(value: Option<String>) -> Option<String> {
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
