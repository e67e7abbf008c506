#!/usr/bin/env node
import { scrubberFor } from "../kit/redact.js";
import { main } from "./main.js";

// A crash's stack may quote a URL or an error body with a secret in it: printed scrubbed, exit 1.
const crashed = (error: unknown) => {
  const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
  process.stderr.write(`${scrubberFor(process.env).text(text)}\n`);
  process.exit(1);
};
process.on("uncaughtException", crashed);
process.exitCode = await main(process.argv.slice(2)).catch(crashed);
