"use strict";

// The options are declared once, by the native struct (src/convert.rs); this test fails when the names it takes,
// the struct itself (through the binding.d.ts napi generates from it), the hand-written types and the contract's
// table (docs/CONTRACT.md) disagree, or when an environment variable the contract names is not one the core reads.

const test = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");
const { optionTypes } = require("../lib/binding.js");

const root = path.join(__dirname, "..");
const read = (file) => fs.readFileSync(path.join(root, file), "utf8");

/** The keys of `interface NAME { … }` in a .d.ts file (top level of the interface only). */
function interfaceKeys(source, name) {
  const start = source.indexOf(`interface ${name} {`);
  assert.ok(start >= 0, `interface ${name} not found`);
  const keys = [];
  let depth = 0;
  for (const line of source.slice(start).split("\n").slice(1)) {
    if (depth === 0 && /^\s*}/.test(line)) break;
    const key = depth === 0 && line.match(/^\s*(\w+)\??:/);
    if (key) keys.push(key[1]);
    depth += (line.match(/{/g) ?? []).length - (line.match(/}/g) ?? []).length;
  }
  return keys;
}

/** The contract's options table: each row's option names and environment variables. */
function contractRows() {
  const section = read("docs/CONTRACT.md").split("### Options")[1].split("\n## ")[0];
  return section
    .split("\n")
    .filter((line) => line.startsWith("| `"))
    .map((line) => {
      const [option, environment] = line.split(" | ");
      return {
        // The names that lead the cell, before any description (`: …` or ` (…)`).
        options: [
          ...option
            .slice(2)
            .split(/`:| \(/)[0]
            .matchAll(/(?:^|, )`(\w+)/g),
        ].map((m) => m[1]),
        environment: [...environment.matchAll(/TWILIO_\w+/g)].map((m) => m[0]),
      };
    });
}

const JS_ONLY = ["logger"];

test("the native struct, the names the class takes, index.d.ts and the contract list the same options", () => {
  const native = interfaceKeys(read("lib/binding.d.ts"), "ClientOptions");
  assert.deepEqual(
    optionTypes().map(([name]) => name),
    native,
    "OPTIONS and the struct",
  );
  // Each option's JavaScript type as the class checks it is the struct field's.
  const struct = read("lib/binding.d.ts");
  for (const [name, kind] of optionTypes()) {
    const declared = struct.match(new RegExp(`\\n\\s*${name}\\?: (\\w+)`))[1];
    assert.equal(["string", "number", "boolean"].includes(declared) ? declared : "object", kind, name);
  }
  const typed = interfaceKeys(read("index.d.ts"), "TwilioApiClientOptions");
  assert.deepEqual(typed, [...native, ...JS_ONLY], "index.d.ts");
  const documented = contractRows().flatMap((row) => row.options);
  assert.deepEqual(documented, [...native, ...JS_ONLY], "the contract's table");
});

test("every environment variable in the contract's table is read by the core and named in index.d.ts", () => {
  const dir = "crates/core/src/config";
  const config = fs
    .readdirSync(path.join(root, dir))
    .map((file) => read(path.join(dir, file)))
    .join("\n");
  const types = read("index.d.ts");
  for (const { options, environment } of contractRows()) {
    for (const name of environment) {
      assert.ok(config.includes(`"${name}"`), `${name} (${options}) is not read by the core`);
      assert.ok(types.includes(name), `${name} (${options}) is not named in index.d.ts`);
    }
  }
});

test("an option the struct does not have is refused by name", () => {
  const TwilioApiClient = require("..");
  assert.throws(
    () => new TwilioApiClient({ accountSid: "AC1", authToken: "t", timeout: 5 }),
    /Unknown TwilioApiClient option: timeout/,
  );
});
