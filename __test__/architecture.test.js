"use strict";

// docs/ARCHITECTURE.md is the map of every module: these tests fail when a module is missing from it, when it names
// one that is gone, and when a core module uses one the map puts above it (the layers point one way).

const test = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");

const ROOT = path.join(__dirname, "..");
const MAP = fs.readFileSync(path.join(ROOT, "docs/ARCHITECTURE.md"), "utf8");

/** The first word of each entry in the code block under the heading that starts with `heading`. */
function entries(heading) {
  const section = MAP.slice(MAP.indexOf(`## ${heading}`));
  const block = section.slice(section.indexOf("```\n") + 4, section.indexOf("\n```", section.indexOf("```\n") + 4));
  return block
    .split("\n")
    .filter((line) => /^\S/.test(line))
    .map((line) => line.split(/\s+/)[0]);
}

/** The modules of a Rust source folder: its files and its folders, without the crate root. */
function modules(dir) {
  return fs
    .readdirSync(path.join(ROOT, dir), { withFileTypes: true })
    .map((entry) => (entry.isDirectory() ? entry.name : entry.name.replace(/\.rs$/, "")))
    .filter((name) => name !== "lib")
    .sort();
}

const sorted = (names) => [...names].sort();

test("the map names every module of the core, the binding and the sandbox, and none that is gone", () => {
  assert.deepEqual(sorted(entries("The core")), modules("crates/core/src"));
  assert.deepEqual(
    sorted(entries("The binding")).filter((name) => name !== "lib"),
    modules("src"),
  );
  assert.deepEqual(sorted(entries("The sandbox")), modules("crates/sandbox/src"));
});

test("the map names every JS file of the package, and each it names exists", () => {
  const named = new Set([...MAP.matchAll(/([a-z-]+)\.(?:js|d\.ts)\b/g)].map((m) => m[1]));
  const files = [
    ...fs.readdirSync(ROOT).filter((f) => f.endsWith(".js")),
    ...fs.readdirSync(path.join(ROOT, "lib")).filter((f) => f.endsWith(".js")),
  ].map((f) => f.replace(/\.js$/, ""));
  for (const file of files) assert.ok(named.has(file), `${file}.js is not in docs/ARCHITECTURE.md`);
  for (const name of entries("The package's JavaScript").filter((entry) => entry.endsWith(".js"))) {
    const where = [name, path.join("lib", name), path.join("bin", name)].find((f) => fs.existsSync(path.join(ROOT, f)));
    assert.ok(where, `${name} is in docs/ARCHITECTURE.md but not in the package`);
  }
});

test("a core module uses only the modules the map puts above it", () => {
  const order = entries("The core");
  const dir = path.join(ROOT, "crates/core/src");
  for (const [index, name] of order.entries()) {
    const file = path.join(dir, `${name}.rs`);
    const sources = fs.existsSync(file)
      ? [file]
      : fs.readdirSync(path.join(dir, name)).map((f) => path.join(dir, name, f));
    const code = sources
      .map((source) => fs.readFileSync(source, "utf8").split("#[cfg(test)]\nmod tests")[0])
      .join("\n")
      .split("\n")
      .filter((line) => !line.trim().startsWith("//"))
      .join("\n");
    const used = new Set([...code.matchAll(/crate::([a-z_]+)/g)].map((m) => m[1]));
    const below = [...used].filter((other) => order.indexOf(other) > index);
    assert.deepEqual(below, [], `${name} uses ${below.join(", ")}, below it in the map`);
  }
});
