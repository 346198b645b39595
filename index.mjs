import TwilioApiClient from "./index.js";

export { TwilioApiClient };
export default TwilioApiClient;
