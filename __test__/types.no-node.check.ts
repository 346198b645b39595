// The package's types compile for a project without @types/node (`types: []`): no Buffer, no node:http types.
import TwilioApiClient = require("..");

export async function send(client: TwilioApiClient): Promise<string | number> {
  const sent = await client.sendMessage("+1234567890", "hello");
  return sent.success ? sent.messageSid : sent.code;
}
