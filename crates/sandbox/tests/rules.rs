//! Twilio's rules as the sandbox enforces them, each through real HTTP.

mod common;

use common::{Harness, CUSTOMER, SENDER};
use serde_json::json;

#[tokio::test]
async fn requests_without_valid_credentials_get_401_and_20003() {
  let h = Harness::start().await;
  let anonymous = h.send(h.http.get(h.url("/v1/Configuration"))).await;
  assert_eq!((anonymous.status, Harness::code(&anonymous)), (401, 20003));
  assert_eq!(anonymous.body["message"], "Authenticate");
  assert_eq!(anonymous.body["more_info"], "https://www.twilio.com/docs/errors/20003");
  let wrong = h
    .send(
      h.http
        .get(h.url("/v1/Configuration"))
        .basic_auth(h.account(), Some("wrong")),
    )
    .await;
  assert_eq!(wrong.status, 401);
}

#[tokio::test]
async fn a_path_twilio_has_no_resource_at_is_404_whoever_asks_and_a_known_one_still_needs_credentials() {
  let h = Harness::start().await;
  let missing = h.send(h.http.get(h.url("/images/missing.png"))).await;
  assert_eq!((missing.status, Harness::code(&missing)), (404, 20404));
  let known = h
    .send(
      h.http
        .get(h.url("/v1/Conversations/CH00000000000000000000000000000000")),
    )
    .await;
  assert_eq!(known.status, 401);
}

#[tokio::test]
async fn an_api_key_and_its_secret_authenticate() {
  let h = Harness::start().await;
  let key = h.control("/api-keys", json!({})).await.body;
  let answer = h
    .send(
      h.http
        .get(h.url("/v1/Configuration"))
        .basic_auth(key["sid"].as_str().unwrap(), key["secret"].as_str()),
    )
    .await;
  assert_eq!(answer.status, 200);
  assert_eq!(answer.body["default_chat_service_sid"], h.service());
}

#[tokio::test]
async fn an_unknown_resource_is_404_with_20404_naming_the_path() {
  let h = Harness::start().await;
  let answer = h.get("/v1/Conversations/CH00000000000000000000000000000000").await;
  assert_eq!((answer.status, Harness::code(&answer)), (404, 20404));
  assert_eq!(
    answer.body["message"],
    "The requested resource /v1/Conversations/CH00000000000000000000000000000000 was not found"
  );
}

#[tokio::test]
async fn a_path_twilio_does_not_have_is_404_with_20404() {
  let h = Harness::start().await;
  let answer = h.post("/v1/Nothing", &[]).await;
  assert_eq!((answer.status, Harness::code(&answer)), (404, 20404));
}

#[tokio::test]
async fn an_operation_twilio_defines_and_the_sandbox_does_not_emulate_is_501_never_a_404() {
  let h = Harness::start().await;
  let sid = h.empty_conversation().await;
  let participant = format!("/v1/Conversations/{sid}/Participants/MB00000000000000000000000000000000");
  let answer = h.post(&participant, &[("Attributes", "{}")]).await;
  assert_eq!(
    (answer.status, Harness::code(&answer)),
    (501, u64::from(twilio_sandbox::NOT_EMULATED))
  );
  assert!(answer.body["message"]
    .as_str()
    .unwrap()
    .contains("does not emulate POST /v1/Conversations/"));
}

#[tokio::test]
async fn unique_names_are_unique_409_50353() {
  let h = Harness::start().await;
  assert_eq!(h.post("/v1/Conversations", &[("UniqueName", "shop")]).await.status, 201);
  let again = h.post("/v1/Conversations", &[("UniqueName", "shop")]).await;
  assert_eq!((again.status, Harness::code(&again)), (409, 50353));
  assert_eq!(
    again.body["message"],
    "Conversation with provided unique name already exists"
  );
}

#[tokio::test]
async fn a_unique_name_shaped_like_a_sid_is_refused_50390() {
  let h = Harness::start().await;
  let answer = h
    .post(
      "/v1/Conversations",
      &[("UniqueName", "CH00000000000000000000000000000000")],
    )
    .await;
  assert_eq!(Harness::code(&answer), 50390);
}

#[tokio::test]
async fn a_conversation_is_fetched_updated_and_deleted_by_sid_or_unique_name() {
  let h = Harness::start().await;
  let sid = h.conversation("whatsapp_1234567890", CUSTOMER).await;
  assert_eq!(h.get("/v1/Conversations/whatsapp_1234567890").await.body["sid"], sid);
  let updated = h
    .post(
      "/v1/Conversations/whatsapp_1234567890",
      &[("FriendlyName", "Renamed"), ("Attributes", r#"{"vip":true}"#)],
    )
    .await;
  assert_eq!(updated.body["friendly_name"], "Renamed");
  assert_eq!(updated.body["attributes"], r#"{"vip":true}"#);
  let renamed = h
    .post(&format!("/v1/Conversations/{sid}"), &[("UniqueName", "other")])
    .await;
  assert_eq!(renamed.body["unique_name"], "other");
  assert_eq!(h.get("/v1/Conversations/whatsapp_1234567890").await.status, 404);
  assert_eq!(h.delete("/v1/Conversations/other").await.status, 204);
  assert_eq!(h.get(&format!("/v1/Conversations/{sid}")).await.status, 404);
  // Deleting frees the binding and the name.
  h.conversation("whatsapp_1234567890", CUSTOMER).await;
}

#[tokio::test]
async fn a_binding_lives_in_one_open_conversation_409_50416_naming_its_holder() {
  let h = Harness::start().await;
  let holder = h.conversation("first", CUSTOMER).await;
  let other = h.post("/v1/Conversations", &[("UniqueName", "second")]).await.body["sid"]
    .as_str()
    .unwrap()
    .to_string();
  let answer = h
    .post(
      &format!("/v1/Conversations/{other}/Participants"),
      &[
        ("MessagingBinding.Address", CUSTOMER),
        ("MessagingBinding.ProxyAddress", SENDER),
      ],
    )
    .await;
  assert_eq!((answer.status, Harness::code(&answer)), (409, 50416));
  assert_eq!(
    answer.body["message"],
    format!("A binding for this participant and proxy address already exists in Conversation {holder}")
  );
  // Another proxy address is another binding.
  let answer = h
    .post(
      &format!("/v1/Conversations/{other}/Participants"),
      &[
        ("MessagingBinding.Address", CUSTOMER),
        ("MessagingBinding.ProxyAddress", "whatsapp:+15550001111"),
      ],
    )
    .await;
  assert_eq!(answer.status, 201, "{}", answer.body);
  assert_eq!(answer.body["messaging_binding"]["type"], "whatsapp");
}

#[tokio::test]
async fn conversation_with_participants_refuses_a_held_binding_up_front_50425_and_stores_nothing() {
  let h = Harness::start().await;
  h.conversation("first", CUSTOMER).await;
  let customer = json!({"messaging_binding": {"address": CUSTOMER, "proxy_address": SENDER}}).to_string();
  let answer = h
    .post(
      "/v1/ConversationWithParticipants",
      &[("UniqueName", "second"), ("Participant", &customer)],
    )
    .await;
  assert_eq!((answer.status, Harness::code(&answer)), (409, 50425));
  assert_eq!(h.get("/v1/Conversations/second").await.status, 404);
  assert_eq!(
    h.get("/v1/Conversations").await.body["conversations"]
      .as_array()
      .unwrap()
      .len(),
    1
  );
}

#[tokio::test]
async fn conversation_with_participants_refuses_bad_participant_json_50424() {
  let h = Harness::start().await;
  let answer = h
    .post("/v1/ConversationWithParticipants", &[("Participant", "{not json")])
    .await;
  assert_eq!(Harness::code(&answer), 50424);
  let camel = h
    .post(
      "/v1/ConversationWithParticipants",
      &[("Participant", r#"{"messagingBinding":{}}"#)],
    )
    .await;
  assert!(camel.body["message"].as_str().unwrap().contains("messagingBinding"));
}

#[tokio::test]
async fn an_identity_joins_a_conversation_once_409_50433() {
  let h = Harness::start().await;
  let sid = h.conversation("c", CUSTOMER).await;
  let answer = h
    .post(
      &format!("/v1/Conversations/{sid}/Participants"),
      &[("Identity", "system")],
    )
    .await;
  assert_eq!((answer.status, Harness::code(&answer)), (409, 50433));
}

#[tokio::test]
async fn binding_addresses_must_be_e164_on_one_channel() {
  let h = Harness::start().await;
  let sid = h.empty_conversation().await;
  let path = format!("/v1/Conversations/{sid}/Participants");
  let cases = [
    ("whatsapp:1234567890", SENDER, 50407),
    (CUSTOMER, "+14155238886", 50407),
    (CUSTOMER, "", 50412),
    (SENDER, SENDER, 50409),
  ];
  for (address, proxy, code) in cases {
    let answer = h
      .post(
        &path,
        &[
          ("MessagingBinding.Address", address),
          ("MessagingBinding.ProxyAddress", proxy),
        ],
      )
      .await;
    assert_eq!(Harness::code(&answer), code, "{address} / {proxy}: {}", answer.body);
  }
}

#[tokio::test]
async fn a_closed_conversation_refuses_writes_50377_stays_readable_and_releases_its_bindings() {
  let h = Harness::start().await;
  let sid = h.conversation("c", CUSTOMER).await;
  let path = format!("/v1/Conversations/{sid}");
  assert_eq!(
    h.post(&format!("{path}/Messages"), &[("Body", "before")]).await.status,
    201
  );
  assert_eq!(h.post(&path, &[("State", "closed")]).await.body["state"], "closed");
  let message = h.post(&format!("{path}/Messages"), &[("Body", "after")]).await;
  assert_eq!((message.status, Harness::code(&message)), (400, 50377));
  assert_eq!(
    message.body["message"],
    "Can't update conversation as it's in final closed state"
  );
  let reopen = h.post(&path, &[("State", "active")]).await;
  assert_eq!(Harness::code(&reopen), 50377);
  assert_eq!(
    h.get(&format!("{path}/Messages")).await.body["messages"]
      .as_array()
      .unwrap()
      .len(),
    1
  );
  // The binding is free again, the unique name is not.
  let customer = json!({"messaging_binding": {"address": CUSTOMER, "proxy_address": SENDER}}).to_string();
  assert_eq!(
    h.post(
      "/v1/ConversationWithParticipants",
      &[("UniqueName", "c2"), ("Participant", &customer)]
    )
    .await
    .status,
    201
  );
  assert_eq!(
    Harness::code(&h.post("/v1/Conversations", &[("UniqueName", "c")]).await),
    50353
  );
}

#[tokio::test]
async fn a_conversation_cannot_start_closed_50384() {
  let h = Harness::start().await;
  assert_eq!(
    Harness::code(&h.post("/v1/Conversations", &[("State", "closed")]).await),
    50384
  );
}

#[tokio::test]
async fn writing_to_an_inactive_conversation_makes_it_active() {
  let h = Harness::start().await;
  let sid = h.conversation("c", CUSTOMER).await;
  let path = format!("/v1/Conversations/{sid}");
  assert_eq!(h.post(&path, &[("State", "inactive")]).await.body["state"], "inactive");
  h.post(&format!("{path}/Messages"), &[("Body", "hello")]).await;
  assert_eq!(h.get(&path).await.body["state"], "active");
}

#[tokio::test]
async fn message_bodies_are_at_most_1600_characters() {
  let h = Harness::start().await;
  let sid = h.conversation("c", CUSTOMER).await;
  let path = format!("/v1/Conversations/{sid}/Messages");
  let fits = "é".repeat(1600);
  assert_eq!(h.post(&path, &[("Body", &fits)]).await.status, 201);
  let long = "x".repeat(1601);
  assert_eq!(Harness::code(&h.post(&path, &[("Body", &long)]).await), 21617);
  assert_eq!(Harness::code(&h.post(&path, &[]).await), 21602);
}

#[tokio::test]
async fn a_template_message_renders_its_body_and_keeps_its_content_sid() {
  let h = Harness::start().await;
  let sid = h.conversation("c", CUSTOMER).await;
  let template = h
    .control("/templates", json!({"body": "Hi {{1}}, order {{2}} shipped"}))
    .await
    .body;
  let template_sid = template["sid"].as_str().unwrap();
  let answer = h
    .post(
      &format!("/v1/Conversations/{sid}/Messages"),
      &[
        ("ContentSid", template_sid),
        ("ContentVariables", r#"{"1":"Ann","2":42}"#),
        ("Body", "ignored"),
      ],
    )
    .await;
  assert_eq!(answer.status, 201, "{}", answer.body);
  assert_eq!(answer.body["body"], "Hi Ann, order 42 shipped");
  assert_eq!(answer.body["content_sid"], template_sid);
}

#[tokio::test]
async fn template_parameters_are_checked_50526_50527_50528() {
  let h = Harness::start().await;
  let sid = h.conversation("c", CUSTOMER).await;
  let path = format!("/v1/Conversations/{sid}/Messages");
  let default = twilio_sandbox::DEFAULT_TEMPLATE_SID;
  let cases: [(&[(&str, &str)], u64); 5] = [
    (&[("ContentSid", "HX123")], 50526),
    (&[("ContentSid", "HXffffffffffffffffffffffffffffffff")], 50526),
    (&[("ContentSid", default), ("ContentVariables", "[1,2]")], 50527),
    (&[("ContentSid", default), ("ContentVariables", "{bad")], 50527),
    (&[("ContentVariables", "{}"), ("Body", "x")], 50528),
  ];
  for (form, code) in cases {
    assert_eq!(Harness::code(&h.post(&path, form).await), code, "{form:?}");
  }
}

#[tokio::test]
async fn a_media_sid_must_exist_and_is_attached_once() {
  let h = Harness::start().await;
  let sid = h.conversation("c", CUSTOMER).await;
  let path = format!("/v1/Conversations/{sid}/Messages");
  let missing = h
    .post(&path, &[("MediaSid", "ME00000000000000000000000000000000")])
    .await;
  assert_eq!((missing.status, Harness::code(&missing)), (400, 50510));
  let upload = h
    .send(
      h.http
        .post(h.url(&format!("/v1/Services/{}/Media?Filename=dot.png", h.service())))
        .basic_auth(h.account(), Some(h.sandbox.auth_token()))
        .header("Content-Type", "image/png")
        .body(vec![1u8, 2, 3]),
    )
    .await;
  let media_sid = upload.body["sid"].as_str().unwrap();
  let message = h.post(&path, &[("MediaSid", media_sid), ("Body", "caption")]).await;
  assert_eq!(message.status, 201, "{}", message.body);
  assert_eq!(message.body["media"][0]["sid"], media_sid);
  assert_eq!(message.body["media"][0]["content_type"], "image/png");
  assert_eq!(message.body["body"], "caption");
  assert_eq!(Harness::code(&h.post(&path, &[("MediaSid", media_sid)]).await), 50510);
}

#[tokio::test]
async fn the_contract_check_names_a_parameter_twilio_does_not_define() {
  let h = Harness::start().await;
  let path = format!("/2010-04-01/Accounts/{}/Messages.json", h.account());
  let answer = h
    .post(
      &path,
      &[
        ("To", CUSTOMER),
        ("From", SENDER),
        ("Body", "x"),
        ("ConversationSid", "CH1"),
      ],
    )
    .await;
  assert_eq!(answer.status, 400);
  assert!(
    answer.body["message"].as_str().unwrap().contains("'ConversationSid'"),
    "{}",
    answer.body
  );
  let missing = h.post(&path, &[("Body", "x")]).await;
  assert!(missing.body["message"]
    .as_str()
    .unwrap()
    .contains("required parameter 'To'"));
  let page = h.get("/v1/ParticipantConversations?Address=x&PageSize=51").await;
  assert_eq!(page.status, 400);
}

#[tokio::test]
async fn lists_use_twilios_envelope_and_next_page_url_can_be_followed() {
  let h = Harness::start().await;
  for i in 0..5 {
    h.post("/v1/Conversations", &[("UniqueName", &format!("c{i}"))]).await;
  }
  let first = h.get("/v1/Conversations?PageSize=2").await.body;
  assert_eq!(first["meta"]["key"], "conversations");
  assert_eq!(first["meta"]["page_size"], 2);
  assert_eq!(first["conversations"][0]["unique_name"], "c4", "newest first");
  let mut names = Vec::new();
  let mut next = Some(first);
  while let Some(page) = next {
    names.extend(
      page["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["unique_name"].as_str().unwrap().to_string()),
    );
    next = match page["meta"]["next_page_url"].as_str() {
      Some(url) => Some(h.get(url.trim_start_matches(h.sandbox.url())).await.body),
      None => None,
    };
  }
  assert_eq!(names, ["c4", "c3", "c2", "c1", "c0"]);
}

#[tokio::test]
async fn messages_list_in_either_order() {
  let h = Harness::start().await;
  let sid = h.conversation("c", CUSTOMER).await;
  let path = format!("/v1/Conversations/{sid}/Messages");
  for body in ["one", "two", "three"] {
    h.post(&path, &[("Body", body)]).await;
  }
  let desc = h.get(&format!("{path}?Order=desc&PageSize=2")).await.body;
  assert_eq!(desc["messages"][0]["body"], "three");
  assert_eq!(desc["messages"][0]["index"], 2);
  assert!(desc["meta"]["next_page_url"].as_str().unwrap().contains("Order=desc"));
  assert_eq!(h.get(&path).await.body["messages"][0]["body"], "one");
}

#[tokio::test]
async fn participant_conversations_by_address_include_closed_ones() {
  let h = Harness::start().await;
  let first = h.conversation("a", CUSTOMER).await;
  h.post(&format!("/v1/Conversations/{first}"), &[("State", "closed")])
    .await;
  let second = h.conversation("b", CUSTOMER).await;
  let answer = h
    .get("/v1/ParticipantConversations?Address=whatsapp%3A%2B1234567890")
    .await
    .body;
  // Twilio's order is not something the client relies on: compared as a set.
  let mut found: Vec<(&str, &str)> = answer["conversations"]
    .as_array()
    .unwrap()
    .iter()
    .map(|c| {
      (
        c["conversation_sid"].as_str().unwrap(),
        c["conversation_state"].as_str().unwrap(),
      )
    })
    .collect();
  found.sort();
  let mut expected = vec![(first.as_str(), "closed"), (second.as_str(), "active")];
  expected.sort();
  assert_eq!(found, expected);
  assert_eq!(
    answer["conversations"][0]["participant_messaging_binding"]["proxy_address"],
    SENDER
  );
  let by_identity = h.get("/v1/ParticipantConversations?Identity=system").await.body;
  assert_eq!(by_identity["conversations"].as_array().unwrap().len(), 2);
  assert_eq!(h.get("/v1/ParticipantConversations").await.status, 400);
}

#[tokio::test]
async fn service_scoped_paths_reach_the_same_conversations() {
  let h = Harness::start().await;
  let sid = h.conversation("c", CUSTOMER).await;
  let scoped = h.get(&format!("/v1/Services/{}/Conversations/c", h.service())).await;
  assert_eq!(scoped.body["sid"], sid);
  assert!(scoped.body["url"].as_str().unwrap().contains("/v1/Services/IS"));
  let other = h
    .get(&format!(
      "/v1/Services/IS00000000000000000000000000000000/Conversations/{sid}"
    ))
    .await;
  assert_eq!(other.status, 404);
  let config = h.get(&format!("/v1/Services/{}/Configuration", h.service())).await;
  assert_eq!(config.body["chat_service_sid"], h.service());
}

#[tokio::test]
async fn messages_json_sends_through_programmable_messaging_with_twilios_checks() {
  let h = Harness::start().await;
  let path = format!("/2010-04-01/Accounts/{}/Messages.json", h.account());
  let sent = h
    .post(
      &path,
      &[
        ("To", CUSTOMER),
        ("From", SENDER),
        ("ContentSid", twilio_sandbox::DEFAULT_TEMPLATE_SID),
        ("ContentVariables", r#"{"1":"12/1","2":"3pm"}"#),
      ],
    )
    .await;
  assert_eq!(sent.status, 201, "{}", sent.body);
  assert!(sent.body["sid"].as_str().unwrap().starts_with("SM"));
  assert_eq!(sent.body["body"], "Your appointment is coming up on 12/1 at 3pm");
  assert_eq!(sent.body["status"], "queued");
  let cases: [(&[(&str, &str)], u64); 4] = [
    (&[("To", CUSTOMER), ("Body", "x")], 21603),
    (&[("To", CUSTOMER), ("From", SENDER)], 21602),
    (
      &[("To", CUSTOMER), ("From", SENDER), ("MediaUrl", "ftp://x/y.png")],
      21620,
    ),
    (
      &[
        ("To", CUSTOMER),
        ("From", SENDER),
        ("ContentSid", "HXffffffffffffffffffffffffffffffff"),
      ],
      21655,
    ),
  ];
  for (form, code) in cases {
    assert_eq!(Harness::code(&h.post(&path, form).await), code, "{form:?}");
  }
  let other = h
    .post(
      "/2010-04-01/Accounts/AC00000000000000000000000000000000/Messages.json",
      &[("To", CUSTOMER), ("From", SENDER), ("Body", "x")],
    )
    .await;
  assert_eq!(other.status, 404);
  let account = h.get(&format!("/2010-04-01/Accounts/{}.json", h.account())).await;
  assert_eq!(account.body["status"], "active");
}

#[tokio::test]
async fn media_uploads_as_raw_bytes_or_multipart_and_downloads_again() {
  let h = Harness::start().await;
  let base = format!("/v1/Services/{}/Media", h.service());
  let raw = h
    .send(
      h.http
        .post(h.url(&format!("{base}?Filename=a.pdf")))
        .basic_auth(h.account(), Some(h.sandbox.auth_token()))
        .header("Content-Type", "application/pdf")
        .body(b"%PDF-1.4".to_vec()),
    )
    .await;
  assert_eq!(raw.status, 201);
  assert_eq!(
    (raw.body["size"].as_u64(), raw.body["filename"].as_str()),
    (Some(8), Some("a.pdf"))
  );
  let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"media\"; filename=\"b.png\"\r\nContent-Type: image/png\r\n\r\nPNGDATA\r\n--XyZ--\r\n".to_vec();
  let multipart = h
    .send(
      h.http
        .post(h.url(&base))
        .basic_auth(h.account(), Some(h.sandbox.auth_token()))
        .header("Content-Type", "multipart/form-data; boundary=XyZ")
        .body(body),
    )
    .await;
  assert_eq!(multipart.status, 201, "{}", multipart.body);
  assert_eq!(multipart.body["content_type"], "image/png");
  assert_eq!(multipart.body["filename"], "b.png");
  let sid = multipart.body["sid"].as_str().unwrap();
  assert_eq!(h.get(&format!("{base}/{sid}")).await.body["size"], 7);
  let content = h
    .http
    .get(h.url(&format!("{base}/{sid}/Content")))
    .basic_auth(h.account(), Some(h.sandbox.auth_token()))
    .send()
    .await
    .unwrap();
  assert_eq!(content.headers()["content-type"], "image/png");
  assert_eq!(content.bytes().await.unwrap().as_ref(), b"PNGDATA");
}

#[tokio::test]
async fn a_message_is_fetched_by_its_sid_and_not_by_its_index() {
  let h = Harness::start().await;
  let messages = format!("/v1/Conversations/{}/Messages", h.empty_conversation().await);
  let sent = h.post(&messages, &[("Body", "hello")]).await;
  assert_eq!(sent.body["index"], 0);
  let by_sid = h
    .get(&format!("{messages}/{}", sent.body["sid"].as_str().unwrap()))
    .await;
  assert_eq!(by_sid.status, 200);
  assert_eq!(h.get(&format!("{messages}/0")).await.status, 404);
}

#[tokio::test]
async fn x_twilio_webhook_enabled_is_taken_where_twilio_defines_it_with_a_value_of_its_enum() {
  let h = Harness::start().await;
  let sid = h.empty_conversation().await;
  let messages = format!("/v1/Conversations/{sid}/Messages");
  assert_eq!(
    h.post_with_webhooks(&messages, &[("Body", "hi")], "true").await.status,
    201
  );
  let odd = h.post_with_webhooks(&messages, &[("Body", "hi")], "yes").await;
  assert_eq!((odd.status, Harness::code(&odd)), (400, 20001), "{}", odd.body);
  let hooks = format!("/v1/Conversations/{sid}/Webhooks");
  let form = [("Target", "webhook"), ("Configuration.Url", "https://example.com/hook")];
  let undefined = h.post_with_webhooks(&hooks, &form, "true").await;
  assert_eq!(
    (undefined.status, Harness::code(&undefined)),
    (400, 20001),
    "{}",
    undefined.body
  );
  assert!(undefined.body["message"]
    .as_str()
    .unwrap()
    .contains("does not define the header"));
}

#[tokio::test]
async fn pages_are_positioned_by_their_token_and_page_is_only_the_callers_count() {
  let h = Harness::start().await;
  for name in ["a", "b", "c"] {
    assert_eq!(h.post("/v1/Conversations", &[("UniqueName", name)]).await.status, 201);
  }
  let first = h.get("/v1/Conversations?PageSize=1").await;
  let built = h.get("/v1/Conversations?PageSize=1&Page=2").await;
  assert_eq!(
    unique_names(&built),
    unique_names(&first),
    "a hand-built Page without its token is the first page"
  );
  assert_eq!(built.body["meta"]["page"], 2, "the caller's count, echoed");
  let next = first.body["meta"]["next_page_url"].as_str().unwrap();
  let second = h
    .get(
      next
        .split_once("/v1/")
        .map(|(_, rest)| format!("/v1/{rest}"))
        .unwrap()
        .as_str(),
    )
    .await;
  assert_eq!(second.body["conversations"].as_array().unwrap().len(), 1);
  assert_ne!(unique_names(&second), unique_names(&first));
  let unknown = h.get("/v1/Conversations?PageSize=1&PageToken=nothing").await;
  assert_eq!(unique_names(&unknown), Vec::<String>::new());
}

#[tokio::test]
async fn conversations_are_listed_by_start_and_end_date_newest_first() {
  let h = Harness::start().await;
  let old = h.post("/v1/Conversations", &[("UniqueName", "old")]).await;
  h.control("/clock", json!({ "advance": "P2D" })).await;
  let new = h.post("/v1/Conversations", &[("UniqueName", "new")]).await;
  let at = |answer: &common::Answer| {
    form_urlencoded::byte_serialize(answer.body["date_created"].as_str().unwrap().as_bytes()).collect::<String>()
  };
  assert_eq!(unique_names(&h.get("/v1/Conversations").await), ["new", "old"]);
  assert_eq!(
    unique_names(&h.get(&format!("/v1/Conversations?StartDate={}", at(&new))).await),
    ["new"]
  );
  assert_eq!(
    unique_names(&h.get(&format!("/v1/Conversations?EndDate={}", at(&old))).await),
    ["old"]
  );
  let day = &old.body["date_created"].as_str().unwrap()[..10];
  assert_eq!(
    unique_names(&h.get(&format!("/v1/Conversations?EndDate={day}")).await),
    ["old"],
    "the whole day"
  );
  let bad = h.get("/v1/Conversations?StartDate=yesterday").await;
  assert_eq!((bad.status, Harness::code(&bad)), (400, 20001));
}

/// The unique names of a page of conversations, in its order.
fn unique_names(answer: &common::Answer) -> Vec<String> {
  answer.body["conversations"]
    .as_array()
    .unwrap()
    .iter()
    .map(|c| c["unique_name"].as_str().unwrap().to_string())
    .collect()
}
