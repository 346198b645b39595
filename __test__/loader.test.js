"use strict";

// How the package finds its addon: napi-rs's generated loader (lib/binding.js) under lib/native.js.

const test = require("node:test");
const assert = require("node:assert/strict");
const { execFile } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { promisify } = require("node:util");

const run = promisify(execFile);
const ROOT = path.join(__dirname, "..");

test("when no addon loads, the error names the platform and every attempt, in order", async () => {
  const missing = path.join(ROOT, "no-such-addon.node");
  const error = await run(process.execPath, ["-e", `require(${JSON.stringify(ROOT)})`], {
    env: { ...process.env, NAPI_RS_NATIVE_LIBRARY_PATH: missing },
  }).then(
    () => assert.fail("the package loaded without an addon"),
    (failure) => failure,
  );
  const lines = error.stderr.split("\n");
  const head = lines.findIndex((line) => line.includes("twilio-api-client: no native addon could be loaded for"));
  assert.ok(head >= 0, error.stderr);
  assert.match(lines[head], new RegExp(`${process.platform}-${process.arch}`));
  assert.equal(lines[head + 1], "Tried, in order:");
  assert.equal(lines[head + 2], `  - Cannot find module '${missing}'`);
  assert.match(error.stderr, /NAPI_RS_NATIVE_LIBRARY_PATH/);
});

test("NAPI_RS_NATIVE_LIBRARY_PATH loads exactly the addon it names", async (t) => {
  if (process.platform !== "linux") return t.skip("reads /proc/self/maps");
  const built = path.join(ROOT, "lib");
  const local = fs.readdirSync(built).find((f) => /^twilio-api-client\..+\.node$/.test(f));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "addon-"));
  const copy = path.join(dir, "elsewhere.node");
  fs.copyFileSync(path.join(built, local), copy);
  const { stdout } = await run(
    process.execPath,
    [
      "-e",
      `const C = require(${JSON.stringify(ROOT)});
       const maps = require("node:fs").readFileSync("/proc/self/maps", "utf8");
       console.log(typeof C, maps.includes(${JSON.stringify(copy)}), maps.includes(${JSON.stringify(local)}))`,
    ],
    { env: { ...process.env, NAPI_RS_NATIVE_LIBRARY_PATH: copy } },
  );
  fs.rmSync(dir, { recursive: true, force: true });
  assert.equal(stdout.trim(), "function true false");
});
