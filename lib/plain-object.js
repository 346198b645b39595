"use strict";

/**
 * Whether a value from a caller is a plain object (an object literal, or one without a prototype). A proxy's traps
 * can throw: such a value is not one.
 */
function isPlainObject(value) {
  if (value === null || typeof value !== "object") return false;
  try {
    const proto = Object.getPrototypeOf(value);
    return proto === Object.prototype || proto === null;
  } catch {
    return false;
  }
}

module.exports = { isPlainObject };
