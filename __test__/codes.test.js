"use strict";

// The codes a failure can carry, as index.d.ts declares them and as the runtime (the core, the binding, the JS
// entry) can return them: one list, checked both ways.

const test = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");

const ROOT = path.join(__dirname, "..");
const read = (file) => fs.readFileSync(path.join(ROOT, file), "utf8");
/** The text of every `ext` file under `dir`, its folders included. */
const inDir = (dir, ext) =>
  fs
    .readdirSync(path.join(ROOT, dir), { recursive: true })
    .filter((name) => name.endsWith(ext))
    .map((name) => read(path.join(dir, name)));

/** Every code literal of the runtime: `"A_CODE"` anywhere, and one-word ones where a code is made. */
function runtimeCodes() {
  const sources = [
    ...inDir("crates/core/src", ".rs"),
    ...inDir("src", ".rs"),
    read("index.js"),
    ...inDir("lib", ".js"),
  ];
  const found = new Set();
  for (const text of sources) {
    for (const [, code] of text.matchAll(/"([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)"/g)) found.add(code);
    for (const [, code] of text.matchAll(/(?:code: |named\()"([A-Z]{4,})"/g)) found.add(code);
  }
  // Environment variables, proxies' variables, Cargo's and Node's names, and HTTP_<status> (a pattern of its own).
  const other = /^(TWILIO_|CARGO_|ERR_)|_PROXY$|^HTTP_\d+$/;
  return [...found].filter((code) => !other.test(code)).sort();
}

function declaredCodes() {
  const types = read("index.d.ts");
  const start = types.indexOf("export type NamedErrorCode =");
  const block = types.slice(start, types.indexOf(";", start));
  return [...block.matchAll(/\| "([A-Z_]+)"/g)].map((m) => m[1]).sort();
}

test("every code the runtime can return is one index.d.ts declares", () => {
  const declared = new Set(declaredCodes());
  assert.deepEqual(
    runtimeCodes().filter((code) => !declared.has(code)),
    [],
  );
});

test("every code index.d.ts declares is one the runtime can return", () => {
  const returned = new Set(runtimeCodes());
  assert.deepEqual(
    declaredCodes().filter((code) => !returned.has(code)),
    [],
  );
});
