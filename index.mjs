import TwilioApiClient from "./index.js";

// Every value the types declare (index.d.ts); the test imports each name from here.
export const { TwilioApiError, defineTemplate, templateMessage } = TwilioApiClient;
export { TwilioApiClient };
export default TwilioApiClient;
