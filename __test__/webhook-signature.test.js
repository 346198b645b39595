"use strict";

// Webhook signatures (X-Twilio-Signature): Twilio's own vectors, agreement with the official `twilio` package on
// many generated requests, the client's own token, and failing closed.

const test = require("node:test");
const assert = require("node:assert/strict");
const util = require("node:util");
const twilio = require("twilio");
const { TwilioApiClient } = require("./helpers.js");

const TOKEN = "12345";
const URL = "https://mycompany.com/myapp.php?foo=1&bar=2";
const PARAMS = {
  CallSid: "CA1234567890ABCDE",
  Caller: "+14158675309",
  Digits: "1234",
  From: "+14158675309",
  To: "+18005551212",
};
const BODY = '{"property": "value", "boolean": true}';
const BODY_HASH = "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620";
const { validateWebhookSignature } = TwilioApiClient;

test("Twilio's own vectors validate: form parameters, ports, repeated names and JSON bodies", () => {
  assert.equal(validateWebhookSignature(TOKEN, "RSOYDt4T1cUTdK1PDd93/VVr8B8=", URL, PARAMS), true);
  assert.equal(validateWebhookSignature(TOKEN, "kvajT1Ptam85bY51eRf/AJRuM3w=", URL, PARAMS), true, "signed with :443");
  assert.equal(
    validateWebhookSignature(TOKEN, "83O6e2vORAoJHUNzJjDWN1jz+BA=", URL, {
      "MessagingBinding.Address": ["+1415xxxxxxx", "+1325xxxxxxx"],
    }),
    true,
  );
  const withHash = `${URL}&bodySHA256=${BODY_HASH}`;
  assert.equal(validateWebhookSignature(TOKEN, "a9nBmqA0ju/hNViExpshrM61xv4=", withHash, BODY), true);
  assert.equal(validateWebhookSignature(TOKEN, "a9nBmqA0ju/hNViExpshrM61xv4=", withHash, Buffer.from(BODY)), true);
  assert.equal(
    validateWebhookSignature(TOKEN, "a9nBmqA0ju/hNViExpshrM61xv4=", withHash, "{}"),
    false,
    "a changed body",
  );
});

// A deterministic stream of requests: names and values with capitals, unicode, quotes, plus signs and repeats.
function* generatedRequests(count) {
  let seed = 7;
  const next = (n) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  const words = ["Body", "body", "From", "To", "Index", "ÄÖ", "it's", "a+b", "", "é 1", "Media.0"];
  const urls = [
    "https://example.com/hook",
    "https://example.com:8443/hook?x=1",
    "http://localhost:4010/twilio/post-event",
    "https://example.com/hook?q=a%20b&r=1",
  ];
  for (let i = 0; i < count; i++) {
    const params = {};
    for (let j = next(6); j > 0; j--) {
      const name = words[next(words.length)] || "Empty";
      const value = `${words[next(words.length)]}${next(100)}`;
      params[name] = next(4) === 0 ? [value, `${value}x`, value] : value;
    }
    yield { url: urls[next(urls.length)], params };
  }
}

test("it agrees with the official twilio package on 300 generated requests, and refuses each once changed", () => {
  for (const { url, params } of generatedRequests(300)) {
    const signature = twilio.getExpectedTwilioSignature("s3cr3t", url, params);
    assert.equal(validateWebhookSignature("s3cr3t", signature, url, params), true, `${url} ${JSON.stringify(params)}`);
    assert.equal(twilio.validateRequest("s3cr3t", signature, url, params), true);
    assert.equal(
      validateWebhookSignature("s3cr3t", signature, url, {
        ...params,
        Extra: "1",
      }),
      false,
    );
  }
});

test("client.validateWebhook uses the client's auth token, or webhookAuthToken with an API key", () => {
  const signature = twilio.getExpectedTwilioSignature(TOKEN, URL, PARAMS);
  const byToken = new TwilioApiClient({
    accountSid: "AC1",
    authToken: TOKEN,
    logger: false,
  });
  assert.equal(byToken.validateWebhook(signature, URL, PARAMS), true);
  const byKey = new TwilioApiClient({
    accountSid: "AC1",
    apiKey: "SK1",
    apiSecret: "secret",
    logger: false,
  });
  assert.equal(byKey.validateWebhook(signature, URL, PARAMS), false, "an API key signs no webhook");
  const byKeyWithToken = new TwilioApiClient({
    accountSid: "AC1",
    apiKey: "SK1",
    apiSecret: "secret",
    webhookAuthToken: TOKEN,
    logger: false,
  });
  assert.equal(byKeyWithToken.validateWebhook(signature, URL, PARAMS), true);
  const shown = util.inspect(byKeyWithToken, { showHidden: true, depth: 5 }) + JSON.stringify(byKeyWithToken);
  assert.doesNotMatch(shown, new RegExp(TOKEN));
});

test("anything malformed fails closed: no signature, a forged one, the wrong token, non-text arguments", () => {
  const signature = twilio.getExpectedTwilioSignature(TOKEN, URL, PARAMS);
  for (const [token, sig, url] of [
    [TOKEN, "", URL],
    [TOKEN, undefined, URL],
    [TOKEN, "RSOYDt4T1cUTdK1PDd93/VVr8B9=", URL],
    ["54321", signature, URL],
    [undefined, signature, URL],
    [TOKEN, signature, 42],
    [TOKEN, signature, "https://evil.example/myapp.php?foo=1&bar=2"],
  ]) {
    assert.equal(validateWebhookSignature(token, sig, url, PARAMS), false);
  }
});
