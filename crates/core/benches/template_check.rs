//! What checking a template send against its cached definition costs: `Client::preflight` of a template makes the
//! checks a send makes before its first write, and nothing else. After one read of the definition from the
//! sandbox, every call is CPU on this one thread (no request), so its wall time per call is its CPU per send.
//! Run by `npm run bench` (`cargo bench -p twilio-core --bench template_check`); prints one JSON line a case.

use std::time::{Duration, Instant};

use serde_json::json;
use twilio_core::{Client, Config, Draft, Options, Secret, Variables};
use twilio_sandbox::{Sandbox, SandboxConfig};

/// As the addon allocates (src/lib.rs).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const CALLS: u32 = 200_000;
const REPEATS: usize = 5;

async fn per_call(client: &Client, content_sid: &str, variables: &Variables) -> Duration {
  let check = || {
    let draft = Draft::Template {
      content_sid,
      variables,
      allow_samples: false,
    };
    client.preflight(None, draft, None)
  };
  check().await.expect("the definition is read and the variables fit");
  let mut best = Duration::MAX;
  for _ in 0..REPEATS {
    let started = Instant::now();
    for _ in 0..CALLS {
      std::hint::black_box(check().await.ok());
    }
    best = best.min(started.elapsed() / CALLS);
  }
  best
}

fn main() {
  let runtime = tokio::runtime::Builder::new_current_thread()
    .enable_all()
    .build()
    .expect("a runtime");
  runtime.block_on(async {
    let sandbox = Sandbox::start(SandboxConfig::default())
      .await
      .expect("the sandbox starts");
    let keys: Vec<String> = (1..=10).map(|i| i.to_string()).collect();
    let body = keys
      .iter()
      .map(|k| format!("{{{{{k}}}}}"))
      .collect::<Vec<_>>()
      .join(", ");
    let ten = reqwest::Client::new()
      .post(format!("{}/__sandbox/templates", sandbox.url()))
      .json(&json!({ "body": format!("Your order: {body}.") }))
      .send()
      .await
      .expect("the control API answers")
      .json::<serde_json::Value>()
      .await
      .expect("a template");
    let options = Options {
      account_sid: Some(sandbox.account_sid()),
      auth_token: Some(Secret::new(sandbox.auth_token())),
      base_url: Some(sandbox.url().to_string()),
      ..Default::default()
    };
    let client = Client::new(Config::resolve(options, |_| None).expect("options")).expect("a client");
    let two = Variables::parse(r#"{"1":"12/1","2":"3pm"}"#).expect("variables");
    let tens: serde_json::Map<String, serde_json::Value> =
      keys.iter().map(|k| (k.clone(), json!(format!("value {k}")))).collect();
    let ten_values = Variables::parse(&serde_json::Value::Object(tens).to_string()).expect("variables");
    let cases = [
      ("2 variables", twilio_sandbox::DEFAULT_TEMPLATE_SID.to_string(), two),
      (
        "10 variables",
        ten["sid"].as_str().unwrap_or_default().to_string(),
        ten_values,
      ),
    ];
    for (name, sid, variables) in cases {
      let cost = per_call(&client, &sid, &variables).await;
      println!(
        "{}",
        json!({ "case": name, "microsPerCheck": cost.as_secs_f64() * 1e6, "calls": CALLS })
      );
    }
  });
}
