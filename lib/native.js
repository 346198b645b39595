"use strict";

// The addon, through the loader napi-rs generates (binding.js: NAPI_RS_NATIVE_LIBRARY_PATH, then the local file, then
// the platform package, with musl detected on Linux). When nothing loads, one error that names the platform and
// every attempt, instead of napi-rs's generic text with the attempts hidden in a chain of causes.

const PACKAGE = "twilio-api-client";

function attempts(error) {
  const tried = [];
  for (let cause = error.cause; cause && tried.length < 20; cause = cause.cause)
    tried.unshift(String(cause.message).split("\n")[0]);
  return tried;
}

function platform() {
  const report = process.platform === "linux" ? process.report?.getReport?.() : null;
  const libc = report ? (report.header?.glibcVersionRuntime ? "-gnu" : "-musl") : "";
  return `${process.platform}-${process.arch}${libc}`;
}

try {
  module.exports = require("./binding.js");
} catch (error) {
  const tried = attempts(error);
  const failure = new Error(
    [
      `${PACKAGE}: no native addon could be loaded for ${platform()} (Node ${process.version}).`,
      ...(tried.length ? ["Tried, in order:", ...tried.map((line) => `  - ${line}`)] : [`  ${error.message}`]),
      `The addon comes in the optional dependency ${PACKAGE}-<platform>: reinstall without --omit=optional or`,
      "--no-optional (and, if package-lock.json was made on another platform, without it), or point",
      "NAPI_RS_NATIVE_LIBRARY_PATH at a .node file built for this machine.",
    ].join("\n"),
  );
  failure.code = "ERR_TWILIO_NATIVE_ADDON";
  failure.cause = error;
  throw failure;
}
