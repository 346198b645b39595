// The results the class hands over as the native client made them (index.js `returned`) are declared twice: by the
// core's structs, through the binding.d.ts napi generates from them, and by hand in index.d.ts, with the words users
// read. This file does not compile when the two disagree: a field one has and the other lacks, or a native value the
// public type does not admit. (`success` is `boolean` natively, `true` publicly: a failure never has the shape.)

import type * as Native from "../lib/binding";
import TwilioApiClient = require("..");

type Fields<T> = Omit<T, "success">;
/** `true` when `N` carries exactly the fields of `P`, each a value `P` admits; otherwise names what differs. */
type Matches<N, P> = [Exclude<keyof Fields<N>, keyof Fields<P>>, Exclude<keyof Fields<P>, keyof Fields<N>>] extends [
  never,
  never,
]
  ? Fields<N> extends Fields<P>
    ? true
    : {
        notAdmitted: {
          [K in keyof Fields<N>]: [Fields<N>[K]] extends [Fields<P>[K & keyof Fields<P>]] ? never : K;
        }[keyof Fields<N>];
      }
  : { onlyNative: Exclude<keyof Fields<N>, keyof Fields<P>>; onlyPublic: Exclude<keyof Fields<P>, keyof Fields<N>> };

export const shapes: {
  agentAdded: Matches<Native.AgentResult, TwilioApiClient.AgentAdded>;
  agentRemoved: Matches<Native.RemovalResult, TwilioApiClient.AgentRemoved>;
  participants: Matches<Native.ParticipantsResult, TwilioApiClient.ParticipantList>;
  participant: Matches<Native.ParticipantItem, TwilioApiClient.Participant>;
  assigned: Matches<Native.AssignmentResult, TwilioApiClient.Assigned>;
  unassigned: Matches<Native.UnassignmentResult, TwilioApiClient.Unassigned>;
  status: Matches<Native.StatusResult, TwilioApiClient.ConversationStatus>;
  stateChanged: Matches<Native.StateResult, TwilioApiClient.StateChanged>;
  metadata: Matches<Native.MetadataResult, TwilioApiClient.ConversationMetadata>;
  history: Matches<Native.HistoryResult, TwilioApiClient.MessageHistory>;
  historyMessage: Matches<Native.HistoryItem, TwilioApiClient.HistoryMessage>;
  delivery: Matches<Native.DeliveryResult, TwilioApiClient.DeliveryStatus>;
  receipt: Matches<Native.ReceiptInfo, TwilioApiClient.Receipt>;
  window: Matches<Native.WindowResult, TwilioApiClient.WhatsAppWindow>;
  webhooks: Matches<Native.WebhookConfigResult, TwilioApiClient.WebhookConfiguration>;
} = {
  agentAdded: true,
  agentRemoved: true,
  participants: true,
  participant: true,
  assigned: true,
  unassigned: true,
  status: true,
  stateChanged: true,
  metadata: true,
  history: true,
  historyMessage: true,
  delivery: true,
  receipt: true,
  window: true,
  webhooks: true,
};
