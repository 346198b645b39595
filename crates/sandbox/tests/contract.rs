//! Walks every operation the sandbox serves and checks the status code and the response's fields against
//! Twilio's OpenAPI description.

mod common;

use common::{Harness, CUSTOMER, SENDER};
use serde_json::json;
use std::collections::BTreeSet;

use twilio_sandbox::contract::contract;
use twilio_sandbox::described_operations;

#[tokio::test]
async fn every_served_operation_answers_as_twilio_describes_it() {
  let h = Harness::start().await;
  let account = h.account();
  let service = h.service();
  let sid = h.conversation("walk", CUSTOMER).await;
  let message = h
    .post(&format!("/v1/Conversations/{sid}/Messages"), &[("Body", "hi")])
    .await
    .body["sid"]
    .as_str()
    .unwrap()
    .to_string();
  let participant = h.get(&format!("/v1/Conversations/{sid}/Participants")).await.body["participants"][0]["sid"]
    .as_str()
    .unwrap()
    .to_string();
  let customer =
    json!({"messaging_binding": {"address": "whatsapp:+15550002222", "proxy_address": SENDER}}).to_string();
  let mut walked = Vec::new();
  for scope in ["/v1".to_string(), format!("/v1/Services/{service}")] {
    let conversation = h
      .post(&format!("{scope}/Conversations"), &[("FriendlyName", "x")])
      .await;
    let created = conversation.body["sid"].as_str().unwrap().to_string();
    let with = h
      .post(
        &format!("{scope}/ConversationWithParticipants"),
        &[("Participant", &customer)],
      )
      .await;
    let with_sid = with.body["sid"].as_str().unwrap().to_string();
    let added = h
      .post(
        &format!("{scope}/Conversations/{created}/Participants"),
        &[("Identity", "alice")],
      )
      .await;
    // Deleted by SID: Twilio's delete takes no identity.
    let alice = added.body["sid"].as_str().unwrap_or_default().to_string();
    let webhooks = format!("{scope}/Conversations/{sid}/Webhooks");
    let webhook = h
      .post(
        &webhooks,
        &[
          ("Target", "webhook"),
          ("Configuration.Url", "https://example.com/hook"),
          ("Configuration.Filters", "onMessageAdded"),
        ],
      )
      .await;
    let webhook_sid = webhook.body["sid"].as_str().unwrap().to_string();
    let receipts = format!("{scope}/Conversations/{sid}/Messages/{message}/Receipts");
    // The receipts as the channel reported them (before, the sandbox's receipt has no status yet).
    h.control("/clock", json!({ "advance": "PT2S" })).await;
    let receipt_list = h.get(&receipts).await;
    let receipt = receipt_list.body["delivery_receipts"][0]["sid"]
      .as_str()
      .unwrap()
      .to_string();
    let steps = vec![
      ("POST", webhooks.clone(), webhook),
      ("GET", webhooks.clone(), h.get(&webhooks).await),
      (
        "GET",
        format!("{webhooks}/{webhook_sid}"),
        h.get(&format!("{webhooks}/{webhook_sid}")).await,
      ),
      (
        "POST",
        format!("{webhooks}/{webhook_sid}"),
        h.post(&format!("{webhooks}/{webhook_sid}"), &[("Configuration.Method", "get")])
          .await,
      ),
      (
        "DELETE",
        format!("{webhooks}/{webhook_sid}"),
        h.delete(&format!("{webhooks}/{webhook_sid}")).await,
      ),
      ("GET", receipts.clone(), receipt_list),
      (
        "GET",
        format!("{receipts}/{receipt}"),
        h.get(&format!("{receipts}/{receipt}")).await,
      ),
      ("POST", format!("{scope}/Conversations"), conversation),
      ("POST", format!("{scope}/ConversationWithParticipants"), with),
      ("POST", format!("{scope}/Conversations/{created}/Participants"), added),
      (
        "GET",
        format!("{scope}/Conversations"),
        h.get(&format!("{scope}/Conversations")).await,
      ),
      (
        "GET",
        format!("{scope}/Conversations/{sid}"),
        h.get(&format!("{scope}/Conversations/{sid}")).await,
      ),
      (
        "POST",
        format!("{scope}/Conversations/{sid}"),
        h.post(&format!("{scope}/Conversations/{sid}"), &[("FriendlyName", "y")])
          .await,
      ),
      (
        "GET",
        format!("{scope}/Conversations/{sid}/Participants"),
        h.get(&format!("{scope}/Conversations/{sid}/Participants")).await,
      ),
      (
        "GET",
        format!("{scope}/Conversations/{sid}/Participants/{participant}"),
        h.get(&format!("{scope}/Conversations/{sid}/Participants/{participant}"))
          .await,
      ),
      (
        "POST",
        format!("{scope}/Conversations/{sid}/Messages"),
        h.post(&format!("{scope}/Conversations/{sid}/Messages"), &[("Body", "x")])
          .await,
      ),
      (
        "GET",
        format!("{scope}/Conversations/{sid}/Messages"),
        h.get(&format!("{scope}/Conversations/{sid}/Messages")).await,
      ),
      (
        "GET",
        format!("{scope}/Conversations/{sid}/Messages/{message}"),
        h.get(&format!("{scope}/Conversations/{sid}/Messages/{message}")).await,
      ),
      (
        "POST",
        format!("{scope}/Conversations/{sid}/Messages/{message}"),
        h.post(
          &format!("{scope}/Conversations/{sid}/Messages/{message}"),
          &[("Attributes", "{\"k\":1}")],
        )
        .await,
      ),
      (
        "GET",
        format!("{scope}/ParticipantConversations?Address=whatsapp%3A%2B1234567890"),
        h.get(&format!(
          "{scope}/ParticipantConversations?Address=whatsapp%3A%2B1234567890"
        ))
        .await,
      ),
      (
        "DELETE",
        format!("{scope}/Conversations/{created}/Participants/{alice}"),
        h.delete(&format!("{scope}/Conversations/{created}/Participants/{alice}"))
          .await,
      ),
      (
        "DELETE",
        format!("{scope}/Conversations/{with_sid}"),
        h.delete(&format!("{scope}/Conversations/{with_sid}")).await,
      ),
    ];
    walked.extend(steps);
  }
  walked.push(("GET", "/v1/Configuration".into(), h.get("/v1/Configuration").await));
  for path in [
    "/v1/Configuration/Webhooks".to_string(),
    format!("/v1/Services/{service}/Configuration/Webhooks"),
  ] {
    let changed = h
      .post(
        &path,
        &[
          ("PostWebhookUrl", "https://example.com/post"),
          ("Filters", "onMessageAdded"),
          ("Filters", "onDeliveryUpdated"),
          ("Method", "POST"),
        ],
      )
      .await;
    walked.push(("POST", path.clone(), changed));
    walked.push(("GET", path.clone(), h.get(&path).await));
  }
  walked.push((
    "GET",
    format!("/v1/Services/{service}/Configuration"),
    h.get(&format!("/v1/Services/{service}/Configuration")).await,
  ));
  let addresses = "/v1/Configuration/Addresses";
  let address = h
    .post(
      addresses,
      &[
        ("Type", "whatsapp"),
        ("Address", "whatsapp:+15005550006"),
        ("AutoCreation.Enabled", "true"),
      ],
    )
    .await;
  let address_sid = address.body["sid"].as_str().unwrap().to_string();
  walked.push(("POST", addresses.to_string(), address));
  walked.push(("GET", addresses.to_string(), h.get(addresses).await));
  let one = format!("{addresses}/{address_sid}");
  walked.push(("GET", one.clone(), h.get(&one).await));
  walked.push(("DELETE", one.clone(), h.delete(&one).await));
  let sms = h
    .post(
      &format!("/2010-04-01/Accounts/{account}/Messages.json"),
      &[("To", CUSTOMER), ("From", SENDER), ("Body", "x")],
    )
    .await;
  walked.push(("POST", format!("/2010-04-01/Accounts/{account}/Messages.json"), sms));
  walked.push((
    "GET",
    format!("/2010-04-01/Accounts/{account}.json"),
    h.get(&format!("/2010-04-01/Accounts/{account}.json")).await,
  ));
  let content = h
    .post_json(
      "/v1/Content",
      json!({"friendly_name": "walk", "language": "en", "variables": {"1": "a"}, "types": {"twilio/text": {"body": "Hi {{1}}"}}}),
    )
    .await;
  let content_sid = content.body["sid"].as_str().unwrap().to_string();
  walked.push(("POST", "/v1/Content".to_string(), content));
  walked.push(("GET", "/v1/Content".to_string(), h.get("/v1/Content").await));
  let one = format!("/v1/Content/{content_sid}");
  walked.push(("GET", one.clone(), h.get(&one).await));
  let approvals = format!("{one}/ApprovalRequests");
  walked.push(("GET", approvals.clone(), h.get(&approvals).await));
  let submit = format!("{approvals}/whatsapp");
  let submitted = h
    .post_json(&submit, json!({"name": "walk", "category": "UTILITY"}))
    .await;
  walked.push(("POST", submit, submitted));
  walked.push((
    "GET",
    "/v1/ContentAndApprovals".to_string(),
    h.get("/v1/ContentAndApprovals").await,
  ));
  walked.push(("DELETE", one.clone(), h.delete(&one).await));

  let mut problems = Vec::new();
  for (method, path, answer) in &walked {
    let bare = path.split('?').next().unwrap();
    let op = contract()
      .find(method, bare)
      .unwrap_or_else(|| panic!("{method} {bare} is not in the description"));
    if !op.declares_status(answer.status) {
      problems.push(format!(
        "{method} {path}: status {} not declared ({})",
        answer.status, answer.body
      ));
      continue;
    }
    problems.extend(
      op.check_response(answer.status, &answer.body)
        .into_iter()
        .map(|p| format!("{method} {path}: {p}")),
    );
  }
  assert!(problems.is_empty(), "{}", problems.join("\n"));
  // The walk covers the route table: every described operation the sandbox serves, in both scopes.
  let walked: BTreeSet<(&str, &str)> = walked
    .iter()
    .map(|(method, path, _)| {
      let bare = path.split('?').next().unwrap_or_default();
      (
        *method,
        contract().find(method, bare).map_or("", |op| op.template.text()),
      )
    })
    .collect();
  let served: BTreeSet<(&str, &str)> = described_operations().into_iter().collect();
  assert_eq!(walked, served);
}
