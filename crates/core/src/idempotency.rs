//! The mark a conversation message carries so that it is sent at most once: its idempotency key, a digest of its
//! content, and a MAC of both and the conversation made with a secret no participant has (`idempotencySecret`,
//! else the credential the client signs in with). A message that carries a key counts as the client's own only when
//! its MAC verifies and its author is the one the send writes as: anyone who can post in the conversation (an
//! agent, a bot, a Conversations SDK user) can copy a key, none can make its MAC.

use base64::Engine;
use ring::{digest, hmac};
use serde_json::{Map, Value};

use crate::config::Secret;
use crate::conversation::object_of;
use crate::records::ListedMessage;

pub const KEY_ATTRIBUTE: &str = "idempotency_key";
pub const CONTENT_ATTRIBUTE: &str = "idempotency_content";
pub const MAC_ATTRIBUTE: &str = "idempotency_mac";
/// The mark's attributes, for the webhook handler that keeps them in a pre-action answer.
pub const MARK_ATTRIBUTES: [&str; 3] = [KEY_ATTRIBUTE, CONTENT_ATTRIBUTE, MAC_ATTRIBUTE];
/// Bumped if what the MAC covers changes, so that an old mark cannot pass for a new one.
const MAC_CONTEXT: &[u8] = b"twilio-api-client idempotency v1";
/// 128 bits of digest and of MAC: far past guessing, 22 characters each in the message's 4 KB of attributes.
const TAG_BYTES: usize = 16;

/// What a message says, reduced to a digest: a key reused for other content is refused by it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentDigest(String);

impl ContentDigest {
  /// The digest of a message's parts (its kind first), each length-prefixed so that no two lists share one.
  pub fn of(parts: &[&str]) -> Self {
    let mut context = digest::Context::new(&digest::SHA256);
    for part in parts {
      context.update(&(part.len() as u64).to_be_bytes());
      context.update(part.as_bytes());
    }
    Self(encode(context.finish().as_ref()))
  }

  /// A digest as a claim's record kept it.
  pub fn from_stored(text: &str) -> Self {
    Self(text.to_string())
  }

  pub fn as_str(&self) -> &str {
    &self.0
  }
}

fn encode(bytes: &[u8]) -> String {
  base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes.get(..TAG_BYTES).unwrap_or(bytes))
}

/// Makes and checks marks with the client's secret.
pub struct Marks {
  key: hmac::Key,
}

/// What a message's attributes say of a key.
#[derive(Debug, PartialEq, Eq)]
pub enum Found {
  /// The attributes do not carry the key.
  Absent,
  /// The client's own mark for this key, for content with this digest.
  Ours(ContentDigest),
  /// The key, without a mark this client made (copied, or written by someone else).
  Forged,
}

impl Marks {
  pub fn new(secret: &Secret) -> Self {
    Self {
      key: hmac::Key::new(hmac::HMAC_SHA256, secret.expose().as_bytes()),
    }
  }

  fn mac(&self, conversation_sid: &str, key: &str, content: &str) -> String {
    let mut context = hmac::Context::with_key(&self.key);
    for part in [
      MAC_CONTEXT,
      conversation_sid.as_bytes(),
      key.as_bytes(),
      content.as_bytes(),
    ] {
      context.update(&(part.len() as u64).to_be_bytes());
      context.update(part);
    }
    encode(context.sign().as_ref())
  }

  /// The attributes of a message sent with `key` into the conversation.
  pub fn attributes(&self, conversation_sid: &str, key: &str, content: &ContentDigest) -> Map<String, Value> {
    let mut mark = Map::new();
    mark.insert(KEY_ATTRIBUTE.to_string(), Value::from(key));
    mark.insert(CONTENT_ATTRIBUTE.to_string(), Value::from(content.as_str()));
    mark.insert(
      MAC_ATTRIBUTE.to_string(),
      Value::from(self.mac(conversation_sid, key, content.as_str())),
    );
    mark
  }

  /// What a message of the conversation (as Twilio lists it) says of `key`, written as `author`.
  pub fn read(&self, conversation_sid: &str, key: &str, author: &str, message: &ListedMessage) -> Found {
    let Some(attributes) = message.attributes.as_deref().and_then(object_of) else {
      return Found::Absent;
    };
    if attributes.get(KEY_ATTRIBUTE).and_then(Value::as_str) != Some(key) {
      return Found::Absent;
    }
    let field = |name| attributes.get(name).and_then(Value::as_str);
    let (Some(content), Some(mac)) = (field(CONTENT_ATTRIBUTE), field(MAC_ATTRIBUTE)) else {
      return Found::Forged;
    };
    let by_author = message.author.as_deref() == Some(author);
    let verified = same(mac, &self.mac(conversation_sid, key, content));
    if by_author && verified {
      Found::Ours(ContentDigest(content.to_string()))
    } else {
      Found::Forged
    }
  }

  /// Whether a message's attributes still hold the mark (a pre-action handler may have replaced them).
  pub fn kept(message: &ListedMessage) -> bool {
    message
      .attributes
      .as_deref()
      .and_then(object_of)
      .is_some_and(|a| a.contains_key(MAC_ATTRIBUTE))
  }
}

/// Compared in constant time: how much of a MAC matched says nothing.
fn same(a: &str, b: &str) -> bool {
  a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
  use super::*;

  fn marks() -> Marks {
    Marks::new(&Secret::new("secret".to_string()))
  }

  fn message(author: &str, attributes: &Map<String, Value>) -> ListedMessage {
    ListedMessage {
      sid: "IM1".to_string(),
      author: Some(author.to_string()),
      attributes: Some(Value::Object(attributes.clone()).to_string()),
    }
  }

  #[test]
  fn a_mark_made_by_the_client_reads_as_its_own_with_its_content() {
    let content = ContentDigest::of(&["text", "system", "hello"]);
    let mark = marks().attributes("CH1", "k", &content);
    assert_eq!(
      marks().read("CH1", "k", "system", &message("system", &mark)),
      Found::Ours(content)
    );
  }

  #[test]
  fn a_copied_mark_is_forged_in_another_conversation_by_another_author_or_with_another_secret() {
    let content = ContentDigest::of(&["text", "system", "hello"]);
    let mark = marks().attributes("CH1", "k", &content);
    assert_eq!(
      marks().read("CH2", "k", "system", &message("system", &mark)),
      Found::Forged
    );
    assert_eq!(
      marks().read("CH1", "k", "system", &message("agent", &mark)),
      Found::Forged
    );
    let other = Marks::new(&Secret::new("other".to_string()));
    assert_eq!(
      other.read("CH1", "k", "system", &message("system", &mark)),
      Found::Forged
    );
    let mut bare = Map::new();
    bare.insert(KEY_ATTRIBUTE.to_string(), Value::from("k"));
    assert_eq!(
      marks().read("CH1", "k", "system", &message("system", &bare)),
      Found::Forged
    );
    assert_eq!(
      marks().read("CH1", "other", "system", &message("system", &mark)),
      Found::Absent
    );
  }

  #[test]
  fn digests_tell_apart_lists_that_join_to_the_same_text() {
    assert_ne!(ContentDigest::of(&["ab", "c"]), ContentDigest::of(&["a", "bc"]));
    assert_eq!(ContentDigest::of(&["a", "b"]), ContentDigest::of(&["a", "b"]));
  }
}
