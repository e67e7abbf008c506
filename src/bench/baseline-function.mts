// The baseline of `npm run bench`'s bundle figures: a Netlify function that does nothing but load
// the dependencies every tick needs (state in Upstash, time zones, config validation) and the email
// SDK, bundled the way the tick function is. The tick function should cost little more than this.
import "@upstash/redis";
import "luxon";
import "zod";
import "resend";

export default (): Response => new Response("baseline");
