"use strict";

// The README's examples, run as written: every ```js block, in order, as one script (a later block uses what an
// earlier one made), against a sandbox whose variables are in the environment, as `twilio-sandbox --dotenv` puts
// them there. `require('twilio-api-client')` is this package.

const test = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");
const { startSandbox } = require("../sandbox.js");
const { withEnv, NO_TWILIO_ENV } = require("./helpers.js");

const ROOT = path.join(__dirname, "..");

function blocks() {
  const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
  return [...readme.matchAll(/^```js\n([\s\S]*?)^```$/gm)].map((match) => match[1]);
}

// The package by its name, as an installed one is required.
function requireAsInstalled(name) {
  if (name === "twilio-api-client") return require(ROOT);
  if (name.startsWith("twilio-api-client/"))
    return require(path.join(ROOT, `${name.slice("twilio-api-client/".length)}.js`));
  return require(name);
}

test("every js example of the README runs as written against the sandbox", async () => {
  const code = blocks();
  assert.ok(code.length >= 6, `${code.length} examples`);
  const sandbox = await startSandbox({ port: 0 });
  const printed = [];
  const log = console.log;
  const saved = {};
  const env = { ...NO_TWILIO_ENV, ...sandbox.env(), PORT: "0" };
  for (const name of Object.keys(env)) saved[name] = process.env[name];
  try {
    Object.assign(process.env, env);
    for (const [name, value] of Object.entries(env)) if (value === undefined) delete process.env[name];
    console.log = (...args) => printed.push(args.map((a) => (typeof a === "string" ? a : JSON.stringify(a))).join(" "));
    const AsyncFunction = (async () => {}).constructor;
    await new AsyncFunction("require", code.join("\n"))(requireAsInstalled);
  } finally {
    console.log = log;
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    await sandbox.stop();
  }
  const output = printed.join("\n");
  assert.match(output, /"success":true,"messageSid":"IM/, "the template went");
  assert.match(output, /^2 delivered, 0 failed$/m, "the campaign");
  // A generator's length is unknown until its end: no time left is made up for it meanwhile.
  assert.doesNotMatch(output, /\/\? sent.*s left/, "no time left shown without a total");
  assert.match(output, /^2\/2 sent, .* s left$/m);
  assert.match(output, /TEMPLATE_VARIABLE_MISSING/);
  assert.match(output, /^1 0$/m, "the dry run");
  assert.match(output, /agent_alice/);
  assert.match(output, /^true$/m, "the 429 was repeated");
  assert.match(output, /^YES$/m, "the routed webhook arrived, signed for the public URL");
  const failures = printed.filter((line) => line.includes('"success":false'));
  assert.equal(failures.length, 1, "only the template check, which is meant to fail");
});
