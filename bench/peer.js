"use strict";

// The peer: the same contract on the official `twilio` package, written the way a careful Node developer
// would: a unique-name lookup, ConversationWithParticipants on a miss, 50353 handled, a Map cache with a TTL,
// concurrent lookups for one number shared, keep-alive agents and twilio-node's own retries. Pointed at the
// sandbox through twilio-node's RequestClient.

const http = require("node:http");
const twilio = require("twilio");

const TTL_MS = 5 * 60 * 1000;

class SandboxRequestClient extends twilio.RequestClient {
  constructor(baseUrl) {
    super({ autoRetry: true, maxRetries: 3, keepAlive: true });
    this.baseUrl = baseUrl.replace(/\/$/, "");
    this.axios.defaults.httpAgent = new http.Agent({
      keepAlive: true,
      maxSockets: 256,
    });
  }

  request(opts) {
    return super.request({
      ...opts,
      uri: opts.uri.replace(/^https:\/\/[^/]+/, this.baseUrl),
    });
  }
}

function normalize(phoneNumber) {
  const digits = String(phoneNumber)
    .replace(/^whatsapp:/i, "")
    .replace(/[^\d]/g, "");
  if (digits.length < 8 || digits.length > 15) throw new TypeError("Invalid phone number");
  return digits;
}

class TwilioNodePeer {
  constructor({ accountSid, authToken, baseUrl, whatsappNumber = "+14155238886", systemIdentity = "system" }) {
    this.client = twilio(accountSid, authToken, {
      httpClient: new SandboxRequestClient(baseUrl),
    });
    this.sender = `whatsapp:${whatsappNumber}`;
    this.systemIdentity = systemIdentity;
    this.cache = new Map();
    this.inflight = new Map();
  }

  async #lookup(digits, create) {
    const uniqueName = `whatsapp_${digits}`;
    const conversations = this.client.conversations.v1.conversations;
    try {
      return (await conversations(uniqueName).fetch()).sid;
    } catch (error) {
      if (error.status !== 404 || !create) {
        if (error.status === 404) return null;
        throw error;
      }
    }
    try {
      const created = await this.client.conversations.v1.conversationWithParticipants.create({
        uniqueName,
        friendlyName: `Chat with +${digits}`,
        participant: [
          JSON.stringify({
            messaging_binding: {
              address: `whatsapp:+${digits}`,
              proxy_address: this.sender,
            },
          }),
          JSON.stringify({ identity: this.systemIdentity }),
        ],
      });
      return created.sid;
    } catch (error) {
      if (error.code === 50353) return (await conversations(uniqueName).fetch()).sid;
      throw error;
    }
  }

  async #resolve(phoneNumber, create) {
    const digits = normalize(phoneNumber);
    const key = `conv_whatsapp:+${digits}`;
    const hit = this.cache.get(key);
    if (hit && hit.expires > Date.now()) return hit.sid;
    if (!this.inflight.has(key)) {
      const lookup = this.#lookup(digits, create)
        .then((sid) => {
          if (sid) this.cache.set(key, { sid, expires: Date.now() + TTL_MS });
          return sid;
        })
        .finally(() => this.inflight.delete(key));
      this.inflight.set(key, lookup);
    }
    return this.inflight.get(key);
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
      const message = await this.client.conversations.v1
        .conversations(conversationSid)
        .messages.create({ author: author ?? this.systemIdentity, body: text });
      return {
        success: true,
        messageSid: message.sid,
        conversationSid,
        status: "sent",
        data: message,
      };
    } catch (error) {
      return { success: false, error: error.message, code: error.code };
    }
  }
}

module.exports = { TwilioNodePeer };
