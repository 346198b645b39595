"use strict";

// The fastest JavaScript peer: the same contract on undici, written the way a careful Node developer would. One
// keep-alive Pool per origin, a Map cache with a TTL and single flight, a unique-name lookup, ConversationWith-
// Participants on a miss (50353: found by the other writer), and twilio-node's result shape (camelCase keys,
// `Date` objects) so that its callers read the same object as the native client's.

const { Pool } = require("undici");

const TTL_MS = 5 * 60 * 1000;

function normalize(phoneNumber) {
  const digits = String(phoneNumber)
    .replace(/^whatsapp:/i, "")
    .replace(/[^\d]/g, "");
  if (digits.length < 8 || digits.length > 15) throw new TypeError("Invalid phone number");
  return digits;
}

// Twilio's keys are few and repeat in every answer: each is converted once.
const camelKeys = new Map();
function camel(key) {
  let name = camelKeys.get(key);
  if (name === undefined) {
    name = key.replace(/_([a-z])/g, (_, c) => c.toUpperCase());
    camelKeys.set(key, name);
  }
  return name;
}

// twilio-node's presentation of a resource: camelCase keys, dates as Date.
function present(resource) {
  const out = {};
  for (const [key, value] of Object.entries(resource)) {
    const name = camel(key);
    out[name] = name.startsWith("date") && typeof value === "string" ? new Date(value) : value;
  }
  return out;
}

class UndiciPeer {
  constructor({
    accountSid,
    authToken,
    baseUrl,
    whatsappNumber = "+14155238886",
    systemIdentity = "system",
    connections = 256,
  }) {
    this.pool = new Pool(baseUrl, { connections, pipelining: 1 });
    this.auth = `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString("base64")}`;
    this.sender = `whatsapp:${whatsappNumber}`;
    this.systemIdentity = systemIdentity;
    this.cache = new Map();
    this.inflight = new Map();
  }

  async #request(method, path, form) {
    const headers = { authorization: this.auth, accept: "application/json" };
    let body;
    if (form) {
      headers["content-type"] = "application/x-www-form-urlencoded";
      body = new URLSearchParams(form).toString();
    }
    const response = await this.pool.request({ method, path, headers, body });
    const value = await response.body.json();
    if (response.statusCode >= 400) {
      const error = new Error(value.message ?? `HTTP ${response.statusCode}`);
      error.status = response.statusCode;
      error.code = value.code;
      throw error;
    }
    return value;
  }

  async #lookup(digits, create) {
    const uniqueName = `whatsapp_${digits}`;
    try {
      return (await this.#request("GET", `/v1/Conversations/${uniqueName}`)).sid;
    } catch (error) {
      if (error.status !== 404) throw error;
      if (!create) return null;
    }
    const participants = [
      {
        messaging_binding: {
          address: `whatsapp:+${digits}`,
          proxy_address: this.sender,
        },
      },
      { identity: this.systemIdentity },
    ].map((p) => ["Participant", JSON.stringify(p)]);
    try {
      const created = await this.#request("POST", "/v1/ConversationWithParticipants", [
        ["UniqueName", uniqueName],
        ["FriendlyName", `Chat with +${digits}`],
        ...participants,
      ]);
      return created.sid;
    } catch (error) {
      if (error.code !== 50353) throw error;
      return (await this.#request("GET", `/v1/Conversations/${uniqueName}`)).sid;
    }
  }

  #resolve(phoneNumber, create) {
    const digits = normalize(phoneNumber);
    const hit = this.cache.get(digits);
    if (hit && hit.expires > Date.now()) return Promise.resolve(hit.sid);
    let lookup = this.inflight.get(digits);
    if (!lookup) {
      lookup = this.#lookup(digits, create)
        .then((sid) => {
          if (sid) this.cache.set(digits, { sid, expires: Date.now() + TTL_MS });
          return sid;
        })
        .finally(() => this.inflight.delete(digits));
      this.inflight.set(digits, lookup);
    }
    return lookup;
  }

  findOrCreateConversation(phoneNumber) {
    return this.#resolve(phoneNumber, true);
  }

  async getConversation(phoneNumber) {
    try {
      return await this.#resolve(phoneNumber, false);
    } catch {
      return null;
    }
  }

  async sendMessage(to, text, author = null) {
    try {
      const conversationSid = await this.findOrCreateConversation(to);
      const message = await this.#request("POST", `/v1/Conversations/${conversationSid}/Messages`, [
        ["Author", author ?? this.systemIdentity],
        ["Body", text],
      ]);
      return {
        success: true,
        messageSid: message.sid,
        conversationSid,
        status: "sent",
        data: present(message),
      };
    } catch (error) {
      return { success: false, error: error.message, code: error.code };
    }
  }
}

module.exports = { UndiciPeer };
