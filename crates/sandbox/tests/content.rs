//! The Content API as Twilio serves it: templates created, read, listed and deleted; WhatsApp's approval on the
//! sandbox's clock; and sends rendered as Twilio renders them, with WhatsApp's refusals on the receipt.

mod common;

use common::{Harness, CUSTOMER};
use serde_json::{json, Value};

const TEXT: &str = "Hi {{1}}, see you at {{2}}.";

async fn create(h: &Harness, body: &str, samples: Value) -> String {
  let answer = h
    .post_json(
      "/v1/Content",
      json!({
        "friendly_name": "visit",
        "language": "en",
        "variables": samples,
        "types": { "twilio/text": { "body": body } },
      }),
    )
    .await;
  assert_eq!(answer.status, 201, "{}", answer.body);
  answer.body["sid"].as_str().unwrap().to_string()
}

/// The status of the single receipt of a message, once the sandbox's clock has moved past its delivery.
async fn receipt(h: &Harness, conversation: &str, message: &Value) -> (String, Value) {
  h.control("/clock", json!({ "advance": "PT2S" })).await;
  let sid = message["sid"].as_str().unwrap();
  let answer = h
    .get(&format!("/v1/Conversations/{conversation}/Messages/{sid}/Receipts"))
    .await;
  let receipt = &answer.body["delivery_receipts"][0];
  (
    receipt["status"].as_str().unwrap_or("").to_string(),
    receipt["error_code"].clone(),
  )
}

async fn send(h: &Harness, conversation: &str, content: &str, variables: Value) -> common::Answer {
  h.post(
    &format!("/v1/Conversations/{conversation}/Messages"),
    &[("ContentSid", content), ("ContentVariables", &variables.to_string())],
  )
  .await
}

#[tokio::test]
async fn a_template_is_created_fetched_listed_and_deleted_as_json() {
  let h = Harness::start().await;
  let sid = create(&h, TEXT, json!({ "1": "Customer", "2": "noon" })).await;
  let fetched = h.get(&format!("/v1/Content/{sid}")).await;
  assert_eq!(fetched.status, 200);
  assert_eq!(fetched.body["types"]["twilio/text"]["body"], TEXT);
  assert_eq!(fetched.body["variables"]["1"], "Customer");
  assert!(fetched.body["links"]["approval_fetch"]
    .as_str()
    .unwrap()
    .ends_with("/ApprovalRequests"));
  let listed = h.get("/v1/Content?PageSize=1").await;
  assert_eq!(listed.body["meta"]["key"], "contents");
  assert_eq!(listed.body["contents"].as_array().unwrap().len(), 1);
  assert!(
    listed.body["meta"]["next_page_url"].is_string(),
    "the default template and this one"
  );
  assert_eq!(h.delete(&format!("/v1/Content/{sid}")).await.status, 204);
  assert_eq!(h.get(&format!("/v1/Content/{sid}")).await.status, 404);
}

#[tokio::test]
async fn a_content_body_twilio_does_not_describe_is_refused() {
  let h = Harness::start().await;
  let no_language = h
    .post_json("/v1/Content", json!({ "types": { "twilio/text": { "body": "x" } } }))
    .await;
  assert_eq!(Harness::code(&no_language), 20001);
  assert!(no_language.body["message"].as_str().unwrap().contains("'language'"));
  let stray = h
    .post_json(
      "/v1/Content",
      json!({ "language": "en", "types": { "twilio/text": { "body": "x", "footer": "y" } } }),
    )
    .await;
  assert!(stray.body["message"].as_str().unwrap().contains("twilio/text.footer"));
  let form = h.post("/v1/Content", &[]).await;
  assert!(
    form.body["message"].as_str().unwrap().contains("must be JSON"),
    "{}",
    form.body
  );
}

#[tokio::test]
async fn more_than_100_variables_are_refused_with_92002() {
  let h = Harness::start().await;
  let samples: serde_json::Map<String, Value> = (1..=101).map(|i| (i.to_string(), json!("x"))).collect();
  let answer = h
    .post_json(
      "/v1/Content",
      json!({ "language": "en", "variables": samples, "types": { "twilio/text": { "body": "x" } } }),
    )
    .await;
  assert_eq!(Harness::code(&answer), 92002);
}

#[tokio::test]
async fn an_approval_request_is_approved_after_the_review_on_the_sandboxs_clock() {
  let h = Harness::start().await;
  let sid = create(&h, TEXT, json!({ "1": "a", "2": "b" })).await;
  let fetch = format!("/v1/Content/{sid}/ApprovalRequests");
  assert_eq!(h.get(&fetch).await.body["whatsapp"]["status"], "unsubmitted");
  let submitted = h
    .post_json(
      &format!("{fetch}/whatsapp"),
      json!({ "name": "visit", "category": "UTILITY" }),
    )
    .await;
  assert_eq!(submitted.status, 201, "{}", submitted.body);
  assert_eq!(submitted.body["status"], "received");
  assert_eq!(submitted.body["content_type"], "twilio/text");
  assert_eq!(h.get(&fetch).await.body["whatsapp"]["status"], "received");
  h.control("/clock", json!({ "advance": "PT1H" })).await;
  assert_eq!(h.get(&fetch).await.body["whatsapp"]["status"], "approved");
  let listed = h.get("/v1/ContentAndApprovals").await;
  let item = listed.body["contents"]
    .as_array()
    .unwrap()
    .iter()
    .find(|c| c["sid"] == sid.as_str())
    .cloned()
    .unwrap();
  assert_eq!(item["approval_requests"]["status"], "approved");
}

#[tokio::test]
async fn the_control_api_rejects_pauses_or_disables_a_template() {
  let h = Harness::start().await;
  let sid = create(&h, TEXT, json!({ "1": "a", "2": "b" })).await;
  let changed = h
    .control(
      &format!("/templates/{sid}/approval"),
      json!({ "status": "rejected", "rejection_reason": "Variables at the end" }),
    )
    .await;
  assert_eq!(changed.status, 200, "{}", changed.body);
  let whatsapp = h.get(&format!("/v1/Content/{sid}/ApprovalRequests")).await.body["whatsapp"].clone();
  assert_eq!(whatsapp["status"], "rejected");
  assert_eq!(whatsapp["rejection_reason"], "Variables at the end");
  let unknown = h
    .control(&format!("/templates/{sid}/approval"), json!({ "status": "maybe" }))
    .await;
  assert_eq!(unknown.status, 400);
}

#[tokio::test]
async fn a_variable_left_out_is_replaced_by_the_templates_sample_value() {
  let h = Harness::start().await;
  let conversation = h.conversation("c", CUSTOMER).await;
  let sid = create(&h, TEXT, json!({ "1": "Customer", "2": "noon" })).await;
  h.control(&format!("/templates/{sid}/approval"), json!({ "status": "approved" }))
    .await;
  let answer = send(&h, &conversation, &sid, json!({ "2": "3pm" })).await;
  assert_eq!(answer.status, 201, "{}", answer.body);
  assert_eq!(answer.body["body"], "Hi Customer, see you at 3pm.");
}

#[tokio::test]
async fn a_null_or_empty_variable_is_refused_with_21656() {
  let h = Harness::start().await;
  let conversation = h.conversation("c", CUSTOMER).await;
  let default = twilio_sandbox::DEFAULT_TEMPLATE_SID;
  for bad in [json!({ "1": "", "2": "x" }), json!({ "1": null, "2": "x" })] {
    assert_eq!(Harness::code(&send(&h, &conversation, default, bad).await), 21656);
  }
}

#[tokio::test]
async fn what_whatsapp_refuses_fails_on_the_receipt_with_its_code() {
  let h = Harness::start().await;
  let conversation = h.conversation("c", CUSTOMER).await;
  let default = twilio_sandbox::DEFAULT_TEMPLATE_SID;
  let cases = [
    (json!({ "1": "12/1\nor 12/2", "2": "3pm" }), json!(63013)),
    (json!({ "1": "12/1", "2": "3pm     sharp" }), json!(63013)),
    (json!({ "1": "x".repeat(1100), "2": "3pm" }), json!(63021)),
    (json!({ "1": "12/1", "2": "3pm", "3": "extra" }), json!(63028)),
  ];
  for (variables, code) in cases {
    let answer = send(&h, &conversation, default, variables.clone()).await;
    assert_eq!(answer.status, 201, "Twilio accepts it: {variables}");
    assert_eq!(
      receipt(&h, &conversation, &answer.body).await,
      ("failed".to_string(), code)
    );
  }
  let fine = send(&h, &conversation, default, json!({ "1": "12/1", "2": "3pm" })).await;
  assert_eq!(
    receipt(&h, &conversation, &fine.body).await,
    ("delivered".to_string(), json!(0)),
    "an integer as Twilio's spec has it, 0 for none"
  );
}

#[tokio::test]
async fn an_unapproved_template_reaches_a_customer_only_inside_the_window() {
  let h = Harness::start().await;
  let conversation = h.conversation("c", CUSTOMER).await;
  let sid = create(&h, TEXT, json!({ "1": "a", "2": "b" })).await;
  let answer = send(&h, &conversation, &sid, json!({ "1": "12/1", "2": "3pm" })).await;
  assert_eq!(answer.status, 201);
  assert_eq!(
    receipt(&h, &conversation, &answer.body).await,
    ("failed".to_string(), json!(63016))
  );
}
