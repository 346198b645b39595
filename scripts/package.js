#!/usr/bin/env node
"use strict";

// `npm run package [-- --target <triple>]…`: builds the shipped addon (profile `dist`) for each target (the host's
// when none is given) and writes installable tarballs into dist/: the root package, whose optionalDependencies
// name every platform package, and one platform package per target built, with napi-rs's names and fields.
// Linux targets, the host's included, are built with cargo-zigbuild and zig (both pinned, installed from PyPI into
// target/package-tools by this script): gnu ones against glibc 2.17 whatever this machine has, musl ones as napi-rs
// builds them.

const { execFileSync } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");
const { parseArgs } = require("node:util");
const tools = require("./tools.js");

const ROOT = path.join(__dirname, "..");
const DIST = path.join(ROOT, "dist");
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json")));

/** napi-rs's platform suffix of a triple: `linux-x64-gnu`, `darwin-arm64`, `win32-x64-msvc`. */
function abiOf(triple) {
  const [arch, , system, env] = triple.split("-");
  const cpu = { x86_64: "x64", aarch64: "arm64" }[arch];
  const os = { linux: "linux", darwin: "darwin", windows: "win32" }[system];
  if (!cpu || !os) throw new Error(`unsupported target ${triple}`);
  return [os, cpu, env].filter(Boolean).join("-");
}

function run(command, args, options = {}) {
  console.log(`$ ${command} ${args.join(" ")}`);
  execFileSync(command, args, { stdio: "inherit", cwd: ROOT, ...options });
}

// The oldest glibc a gnu binary may need: Rust's own minimum, and what CI's --use-napi-cross builds link against.
const GLIBC = "2.17";

function build(triple, host) {
  const addon = path.join(DIST, "artifacts", `${pkg.napi.binaryName}.${abiOf(triple)}.node`);
  if (triple.endsWith("-linux-gnu")) {
    // `napi build` cannot pass cargo-zigbuild a glibc version; for a gnu cdylib it adds nothing else.
    tools.rustTarget(triple);
    run("cargo", ["zigbuild", "--lib", "--profile", "dist", "--target", `${triple}.${GLIBC}`], { env: tools.zigEnv() });
    fs.mkdirSync(path.dirname(addon), { recursive: true });
    fs.copyFileSync(path.join(ROOT, "target", triple, "dist", "libtwilio_api_client.so"), addon);
    return addon;
  }
  const args = ["napi", "build", "--platform", "--profile", "dist"];
  args.push("--target", triple, "--output-dir", path.dirname(addon));
  // The loader and its types are committed (binding.js, binding.d.ts): nothing else is generated here.
  args.push("--no-js", "--dts", path.join(DIST, "artifacts", "binding.d.ts"));
  let env = process.env;
  if (triple.endsWith("-linux-musl")) {
    tools.rustTarget(triple);
    env = tools.zigEnv();
    args.push("--cross-compile");
  } else if (triple !== host) {
    throw new Error(`${triple} cannot be built on this machine: .github/workflows/CI.yml builds it on its own runner`);
  }
  run("npx", args, { env });
  return addon;
}

/** The root package as published: only JS, types and docs, with every platform package as an optional dependency. */
function stageRoot() {
  const stage = path.join(DIST, "root");
  fs.rmSync(stage, { recursive: true, force: true });
  for (const entry of [...pkg.files, "README.md"])
    fs.cpSync(path.join(ROOT, entry), path.join(stage, entry), {
      recursive: true,
    });
  const published = { ...pkg };
  delete published.devDependencies;
  delete published.scripts;
  published.optionalDependencies = Object.fromEntries(
    pkg.napi.targets.map((triple) => [`${pkg.name}-${abiOf(triple)}`, pkg.version]),
  );
  fs.writeFileSync(path.join(stage, "package.json"), JSON.stringify(published, null, 2) + "\n");
  return stage;
}

/** napi-rs's per-platform package (`napi create-npm-dirs`), holding the addon built for it. */
function stagePlatform(triple, addon) {
  const dir = path.join(DIST, "npm", abiOf(triple));
  fs.copyFileSync(addon, path.join(dir, path.basename(addon)));
  return dir;
}

function pack(dir) {
  const out = execFileSync("npm", ["pack", "--json", "--pack-destination", DIST], { cwd: dir, encoding: "utf8" });
  const [info] = JSON.parse(out);
  return info;
}

function main() {
  const { values } = parseArgs({
    options: { target: { type: "string", multiple: true } },
  });
  const host = tools.hostTriple();
  const targets = values.target ?? [host];
  for (const triple of targets)
    if (!pkg.napi.targets.includes(triple))
      throw new Error(`${triple} is not one of package.json's napi.targets: ${pkg.napi.targets.join(", ")}`);
  fs.mkdirSync(DIST, { recursive: true });
  const addons = targets.map((triple) => [triple, build(triple, host)]);

  fs.rmSync(path.join(DIST, "npm"), { recursive: true, force: true });
  run("npx", ["napi", "create-npm-dirs", "--npm-dir", path.join(DIST, "npm")]);
  const packed = [pack(stageRoot())];
  for (const [triple, addon] of addons) {
    packed.push(pack(stagePlatform(triple, addon)));
    const facts = tools.inspectAddon(addon);
    console.log(`${path.basename(addon)}: ${facts}`);
  }
  console.log("\nwritten to dist/:");
  for (const info of packed)
    console.log(
      `  ${info.filename}  ${(info.size / 1e6).toFixed(2)} MB packed, ${(info.unpackedSize / 1e6).toFixed(2)} MB unpacked`,
    );
}

main();
