//! Twilio's webhook signature (`X-Twilio-Signature`): HMAC-SHA1, keyed with the account's auth token, over the
//! URL Twilio called followed by the form parameters sorted by name (a repeated name once per distinct value, the
//! values sorted), Base64. A JSON body is signed through the URL instead: its `bodySHA256` query parameter is the
//! hex SHA-256 of the body. Since Twilio's back end is not consistent about ports and query encoding, a signature
//! is accepted for the URL with and without its default port, and with the query re-encoded the legacy way, as
//! Twilio's own libraries do. Comparisons take constant time.

use base64::Engine;
use ring::{digest, hmac};
use url::{Position, Url};

/// The signature Twilio sends for a request to `url` with these form parameters.
pub fn expected(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
  sign(auth_token, url, &signed_params(params))
}

/// The parameters as Twilio signs them: by name, a repeated name once per distinct value, values sorted. Sorted
/// once as pairs (n log n), whatever the number of parameters a request carries.
fn signed_params(params: &[(String, String)]) -> String {
  let mut pairs: Vec<(&str, &str)> = params
    .iter()
    .map(|(name, value)| (name.as_str(), value.as_str()))
    .collect();
  pairs.sort_unstable();
  pairs.dedup();
  let mut text = String::with_capacity(pairs.iter().map(|(name, value)| name.len() + value.len()).sum());
  for (name, value) in pairs {
    text.push_str(name);
    text.push_str(value);
  }
  text
}

fn sign(auth_token: &str, url: &str, params: &str) -> String {
  let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, auth_token.as_bytes());
  let mut context = hmac::Context::with_key(&key);
  context.update(url.as_bytes());
  context.update(params.as_bytes());
  base64::engine::general_purpose::STANDARD.encode(context.sign().as_ref())
}

/// The lower-case hex SHA-256 of a body, as Twilio puts it in `bodySHA256`.
pub fn body_sha256(body: &[u8]) -> String {
  digest::digest(&digest::SHA256, body)
    .as_ref()
    .iter()
    .map(|byte| format!("{byte:02x}"))
    .collect()
}

fn same(a: &str, b: &str) -> bool {
  a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

/// Whether `signature` is Twilio's for a form request to `url` with these parameters.
pub fn is_valid(auth_token: &str, signature: &str, url: &str, params: &[(String, String)]) -> bool {
  if auth_token.is_empty() || signature.is_empty() {
    return false;
  }
  let params = signed_params(params);
  candidates(url)
    .iter()
    .any(|candidate| same(&sign(auth_token, candidate, &params), signature))
}

/// Whether `signature` is Twilio's for a JSON request: the URL's `bodySHA256` must be the body's hash, and the
/// signature is over the URL alone.
pub fn is_valid_with_body(auth_token: &str, signature: &str, url: &str, body: &[u8]) -> bool {
  let Ok(parsed) = Url::parse(url) else { return false };
  let Some((_, hash)) = parsed.query_pairs().find(|(name, _)| name == "bodySHA256") else {
    return false;
  };
  same(&body_sha256(body), &hash) && is_valid(auth_token, signature, url, &[])
}

/// The URL with its port removed and with the scheme's default port written out, each also with the query
/// re-encoded the legacy way (`querystring` in Node); the URL as given when it does not parse.
fn candidates(url: &str) -> Vec<String> {
  let Ok(parsed) = Url::parse(url) else {
    return vec![url.to_string()];
  };
  let mut found = Vec::new();
  for form in [without_port(&parsed), with_port(&parsed)] {
    let legacy = legacy_query(&form);
    found.push(form);
    found.extend(legacy);
  }
  found
}

fn without_port(url: &Url) -> String {
  let mut url = url.clone();
  // Only fails for URLs that cannot have a port, which then have none to remove.
  let _ = url.set_port(None);
  url.to_string()
}

/// The URL with its port written out: its own, or the scheme's default (which `Url` never writes).
fn with_port(url: &Url) -> String {
  let port = url.port().unwrap_or(if url.scheme() == "https" { 443 } else { 80 });
  let mut userinfo = String::new();
  if !url.username().is_empty() {
    userinfo.push_str(url.username());
    if let Some(password) = url.password() {
      userinfo.push(':');
      userinfo.push_str(password);
    }
    userinfo.push('@');
  }
  format!(
    "{}://{userinfo}{}:{port}{}",
    url.scheme(),
    url.host_str().unwrap_or_default(),
    &url[Position::BeforePath..]
  )
}

/// The URL with its query decoded and encoded again as Node's `querystring` does (`+` read as a space, written as
/// `%20`; `'`, `!`, `*`, `(`, `)` left as they are); `None` without a query.
fn legacy_query(url: &str) -> Option<String> {
  let (base, query) = url.split_once('?')?;
  let encode = |text: &str| {
    text
      .bytes()
      .map(|b| match b {
        b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'!' | b'~' | b'*' | b'\'' | b'(' | b')' => {
          (b as char).to_string()
        }
        other => format!("%{other:02X}"),
      })
      .collect::<String>()
  };
  let pairs: Vec<String> = form_urlencoded::parse(query.as_bytes())
    .map(|(name, value)| format!("{}={}", encode(&name), encode(&value)))
    .collect();
  Some(format!("{base}?{}", pairs.join("&")))
}

#[cfg(test)]
mod tests {
  use super::*;

  const TOKEN: &str = "12345";
  const URL: &str = "https://mycompany.com/myapp.php?foo=1&bar=2";

  fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect()
  }

  fn defaults() -> Vec<(String, String)> {
    pairs(&[
      ("CallSid", "CA1234567890ABCDE"),
      ("Caller", "+14158675309"),
      ("Digits", "1234"),
      ("From", "+14158675309"),
      ("To", "+18005551212"),
    ])
  }

  const BODY: &str = r#"{"property": "value", "boolean": true}"#;
  const BODY_HASH: &str = "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620";

  #[test]
  fn twilios_own_vectors_for_form_requests() {
    let valid = |url: &str, params: &[(String, String)], signature: &str| is_valid(TOKEN, signature, url, params);
    // 1: the URL and the parameters.
    assert_eq!(expected(TOKEN, URL, &defaults()), "RSOYDt4T1cUTdK1PDd93/VVr8B8=");
    assert!(valid(URL, &defaults(), "RSOYDt4T1cUTdK1PDd93/VVr8B8="));
    // 2: a port Twilio did not sign is stripped.
    assert!(valid(
      "https://mycompany.com:1234/myapp.php?foo=1&bar=2",
      &defaults(),
      "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    ));
    // 3: a port Twilio did sign.
    assert!(valid(
      "http://mycompany.com:1234/myapp.php?foo=1&bar=2",
      &defaults(),
      "Zmvh+3yNM1Phv2jhDCwEM3q5ebU="
    ));
    // 4, 5: the default port, which Twilio may have signed.
    assert!(valid(URL, &defaults(), "kvajT1Ptam85bY51eRf/AJRuM3w="));
    assert!(valid(
      "http://mycompany.com/myapp.php?foo=1&bar=2",
      &defaults(),
      "0ZXoZLH/DfblKGATFgpif+LLRf4="
    ));
    // 6, 7, 8: credentials in the URL.
    let with_user = "https://user:pass@mycompany.com/myapp.php?foo=1&bar=2";
    assert!(valid(with_user, &defaults(), "CukzLTc1tT5dXEDIHm/tKBanW10="));
    assert!(valid(
      "https://user@mycompany.com/myapp.php?foo=1&bar=2",
      &defaults(),
      "2YRLlVAflCqxaNicjMpJcSTgzSs="
    ));
    assert!(valid(with_user, &defaults(), "ZQFR1PTIZXF2MXB8ZnKCvnnA+rI="));
    // 9: a quote in the query, signed as URL serialisation writes it.
    assert!(valid(
      &format!("{URL}&Body=It's+amazing"),
      &defaults(),
      "TfZzewPq8wqrGlMfyAud8+/IvJ0="
    ));
    // 10, 11: repeated names, their values de-duplicated and sorted, in any order.
    for order in [["+1325xxxxxxx", "+1415xxxxxxx"], ["+1415xxxxxxx", "+1325xxxxxxx"]] {
      let repeated = pairs(&[
        ("MessagingBinding.Address", order[0]),
        ("MessagingBinding.Address", order[1]),
      ]);
      assert!(valid(URL, &repeated, "83O6e2vORAoJHUNzJjDWN1jz+BA="));
    }
    let digits = pairs(&[
      ("Sid", "CA123"),
      ("SidAccount", "AC123"),
      ("Digits", "5678"),
      ("Digits", "1234"),
      ("Digits", "1234"),
    ]);
    assert!(valid(URL, &digits, "IK+Dwps556ElfBT0I3Rgjkr1wJU="));
  }

  #[test]
  fn twilios_own_vectors_for_json_bodies() {
    // 12: the body's hash.
    assert_eq!(body_sha256(BODY.as_bytes()), BODY_HASH);
    // 13, 15: the URL carries the hash; the signature is over the URL alone.
    let url = format!("{URL}&bodySHA256={BODY_HASH}");
    assert!(is_valid_with_body(
      TOKEN,
      "a9nBmqA0ju/hNViExpshrM61xv4=",
      &url,
      BODY.as_bytes()
    ));
    let only_hash = format!("https://mycompany.com/myapp.php?bodySHA256={BODY_HASH}");
    assert!(is_valid_with_body(
      TOKEN,
      "y77kIzt2vzLz71DgmJGsen2scGs=",
      &only_hash,
      BODY.as_bytes()
    ));
    // 14: the hash of `{}`, signed with the default port written out.
    let empty = format!("{URL}&bodySHA256=44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a");
    assert!(is_valid_with_body(TOKEN, "Ldidvp12m26NI7eqEvxnEpkd9Hc=", &empty, b"{}"));
    // A changed body no longer matches its hash.
    assert!(!is_valid_with_body(TOKEN, "a9nBmqA0ju/hNViExpshrM61xv4=", &url, b"{}"));
  }

  #[test]
  fn a_conversations_webhook_as_the_sandbox_sends_it() {
    let params = pairs(&[
      ("AccountSid", "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
      ("Attributes", "{}"),
      ("Author", "whatsapp:+15005550006"),
      ("Body", "Hello there"),
      ("ChatServiceSid", "ISaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
      ("ConversationSid", "CHaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
      ("DateCreated", "2024-01-01T00:00:00.000Z"),
      ("EventType", "onMessageAdded"),
      ("Index", "0"),
      ("MessageSid", "IMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
      ("MessagingServiceSid", "MGaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
      ("ParticipantSid", "MBaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
      ("RetryCount", "0"),
      ("Source", "WHATSAPP"),
      ("WebhookSid", "WHaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
      ("WebhookType", "webhook"),
    ]);
    let url = "http://localhost:4010/twilio/conversations/post-event";
    assert!(is_valid(
      "0123456789abcdef0123456789abcdef",
      "bnTCubnwJyInmJIXttmv+WGP9Pw=",
      url,
      &params
    ));
  }

  #[test]
  fn a_forged_or_missing_signature_a_changed_parameter_or_the_wrong_token_is_refused() {
    assert!(!is_valid(TOKEN, "", URL, &defaults()));
    assert!(!is_valid("", "RSOYDt4T1cUTdK1PDd93/VVr8B8=", URL, &defaults()));
    assert!(!is_valid("54321", "RSOYDt4T1cUTdK1PDd93/VVr8B8=", URL, &defaults()));
    assert!(!is_valid(TOKEN, "RSOYDt4T1cUTdK1PDd93/VVr8B9=", URL, &defaults()));
    let mut changed = defaults();
    changed[3].1 = "+14158675300".to_string();
    assert!(!is_valid(TOKEN, "RSOYDt4T1cUTdK1PDd93/VVr8B8=", URL, &changed));
    assert!(!is_valid(
      TOKEN,
      "RSOYDt4T1cUTdK1PDd93/VVr8B8=",
      "https://evil.example/myapp.php?foo=1&bar=2",
      &defaults()
    ));
  }
}
