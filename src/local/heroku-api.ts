/**
 * A local HTTP server that follows the Heroku Platform API contract for formations
 * (https://devcenter.heroku.com/articles/platform-api-reference#formation), so the scaler, the tests and the
 * live demo talk to it exactly as they would talk to api.heroku.com. It keeps formations in memory.
 */
import { randomUUID } from "node:crypto";
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from "node:http";
import { checkStatus, pathOf, recordingServer, sendText, type RecordedRequest } from "./http-kit.js";
import { listen } from "./listen.js";

export interface HerokuApiOptions {
  apiKey: string;
  /** App name -> process type -> quantity. */
  apps: Record<string, Record<string, number>>;
  port?: number;
  /** Initial RateLimit-Remaining (Heroku grants 4500 requests an hour). */
  rateLimit?: number;
  /**
   * Per-process-type limits by dyno size, over Heroku's defaults (e.g. `{"Standard-1X": 4}`,
   * as a plan or support ticket sets them): a scale past one is refused with Heroku's 422.
   */
  sizeLimits?: Record<string, number>;
  latencyMs?: number;
}

export type { RecordedRequest };

export interface HerokuApiServer {
  /** Base URL, e.g. http://127.0.0.1:PORT */
  url: string;
  quantity(app: string, type: string): number | undefined;
  /** Scales as `heroku ps:scale` would (outside the API: no request is recorded or counted). */
  setQuantity(app: string, type: string, n: number): void;
  /**
   * The next `times` requests (default 1) answer this error before any other check, like platform trouble;
   * with `method`, only requests of that method (e.g. "PATCH") fail and others are answered normally.
   */
  failNext(status: number, error?: { id: string; message: string }, times?: number, method?: string): void;
  /**
   * Delays every response (with `method`, only that method's); the request's effect is applied
   * at once, as a slow API may do the work and answer late.
   */
  setLatency(ms: number, method?: string): void;
  setRateLimitRemaining(n: number): void;
  /** Every request received, Authorization redacted. */
  requests: RecordedRequest[];
  /** Successful PATCH requests. */
  scaleCount(): number;
  /** Stops at once, dropping delayed responses; closing twice is harmless. */
  close(): Promise<void>;
}

// A type alias, not an interface, so it fits ApiError's open body type.
type ErrorBody = {
  id: string;
  message: string;
};

const HEROKU_MIME = "application/vnd.heroku+json";
const APP_NAME = /^[a-z][a-z0-9-]{1,28}[a-z0-9]$/;
const PROCESS_TYPE = /^[-\w]{1,128}$/;
const DEFAULT_SIZE = "Standard-1X";
/** Heroku's default per-process-type scaling limits by dyno size. */
const SIZE_LIMITS: Record<string, number> = {
  Eco: 1,
  Basic: 1,
  "Standard-1X": 100,
  "Standard-2X": 100,
  "Performance-M": 100,
  "Performance-L": 100,
};

const RATE_LIMITED: ErrorBody = {
  id: "rate_limit",
  message: "Your account reached the API rate limit\nPlease wait a few minutes before making new requests",
};
const DEFAULT_ERRORS: Record<number, ErrorBody> = {
  400: { id: "bad_request", message: "Invalid request." },
  401: { id: "unauthorized", message: "Invalid credentials provided." },
  403: { id: "forbidden", message: "You do not have access to this app." },
  404: { id: "not_found", message: "Couldn't find that app." },
  422: { id: "invalid_params", message: "Invalid params." },
  429: RATE_LIMITED,
  500: { id: "internal_server_error", message: "Internal server error." },
  503: { id: "unavailable", message: "The API is temporarily unavailable." },
};

/** An API refusal with the body Heroku sends for it. */
class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: { id: string; [field: string]: unknown },
  ) {
    super(body.id);
  }
}

const invalid = (message: string) => new ApiError(422, { id: "invalid_params", message });
const notFound = (message: string, resource?: string) =>
  new ApiError(404, { id: "not_found", message, resource });
const endpointNotFound = () =>
  notFound(
    "The requested API endpoint was not found. Are you using the right HTTP verb (i.e. `GET` vs. `POST`), " +
      "and did you specify your intended version with the `Accept` header?",
  );

interface DynoSize {
  id: string;
  name: string;
  limit: number;
}

interface Formation {
  id: string;
  type: string;
  command: string;
  quantity: number;
  size: DynoSize;
  createdAt: string;
  updatedAt: string;
}

interface App {
  id: string;
  name: string;
  formations: Map<string, Formation>;
}

interface Update {
  type?: string;
  quantity?: number;
  size?: DynoSize;
}

/** Heroku's timestamps are whole seconds: 2012-01-01T12:00:00Z. */
const now = () => new Date().toISOString().replace(/\.\d{3}Z$/, "Z");

function checkQuantity(n: unknown): asserts n is number {
  if (typeof n !== "number" || !Number.isInteger(n) || n < 0) {
    throw invalid(`Invalid quantity ${JSON.stringify(n)}: quantity must be an integer >= 0.`);
  }
}

export async function startHerokuApi(options: HerokuApiOptions): Promise<HerokuApiServer> {
  if (!options.apiKey) throw new Error("startHerokuApi: apiKey must not be empty");
  const limits = { ...SIZE_LIMITS, ...options.sizeLimits };
  const sizes = Object.entries(limits).map(([name, limit]): DynoSize => ({
    id: randomUUID(),
    name,
    limit,
  }));
  const defaultSize = sizes.find((size) => size.name === DEFAULT_SIZE)!;
  const apps = new Map<string, App>();
  for (const [name, types] of Object.entries(options.apps)) {
    if (!APP_NAME.test(name)) throw new Error(`startHerokuApi: invalid Heroku app name "${name}"`);
    const app: App = { id: randomUUID(), name, formations: new Map() };
    for (const [type, quantity] of Object.entries(types)) {
      if (!PROCESS_TYPE.test(type)) throw new Error(`startHerokuApi: invalid process type "${type}"`);
      if (!Number.isInteger(quantity) || quantity < 0) {
        throw new Error(`startHerokuApi: quantity of ${name}/${type} must be an integer >= 0`);
      }
      const command = type === "web" ? "npm start" : `npm run ${type}`;
      const created = now();
      app.formations.set(type, {
        id: randomUUID(),
        type,
        command,
        quantity,
        size: defaultSize,
        createdAt: created,
        updatedAt: created,
      });
    }
    apps.set(name, app);
  }

  let rateLimitRemaining = options.rateLimit ?? 4500;
  let latencyMs = options.latencyMs ?? 0;
  let latencyMethod: string | undefined;
  let injected: { status: number; body: ErrorBody; times: number; method?: string } | undefined;
  let scales = 0;
  const requests: RecordedRequest[] = [];

  /** App identity: its name or its id, as in the real API. */
  const findApp = (identity: string): App | undefined =>
    apps.get(identity) ?? [...apps.values()].find((app) => app.id === identity);
  /** Formation identity: its process type or its id. */
  const findFormation = (app: App, identity: string): Formation | undefined =>
    app.formations.get(identity) ?? [...app.formations.values()].find((f) => f.id === identity);

  const formationJson = (app: App, f: Formation) => ({
    app: { id: app.id, name: app.name },
    command: f.command,
    created_at: f.createdAt,
    dyno_size: { id: f.size.id, name: f.size.name },
    id: f.id,
    quantity: f.quantity,
    size: f.size.name,
    type: f.type,
    updated_at: f.updatedAt,
  });

  function parseDynoSize(value: unknown): DynoSize {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw invalid("Invalid dyno_size: expected an object with an id or a name.");
    }
    const unknownKey = Object.keys(value).find((key) => key !== "id" && key !== "name");
    if (unknownKey !== undefined) throw invalid(`Invalid dyno_size: unknown property "${unknownKey}".`);
    const { id, name } = value as { id?: unknown; name?: unknown };
    const size = sizes.find(
      (s) => s.id === id || (typeof name === "string" && s.name.toLowerCase() === name.toLowerCase()),
    );
    if (!size) throw invalid(`Couldn't find that dyno size.`);
    return size;
  }

  /** Validates one update object against the schema; `allowed` are the properties the endpoint accepts. */
  function parseUpdate(value: unknown, allowed: readonly string[]): Update {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw invalid("Invalid params: expected a JSON object.");
    }
    const unknownKey = Object.keys(value).find((key) => !allowed.includes(key));
    if (unknownKey !== undefined) throw invalid(`Invalid params: unknown property "${unknownKey}".`);
    const raw = value as { type?: unknown; quantity?: unknown; dyno_size?: unknown };
    const update: Update = {};
    if (allowed.includes("type")) {
      if (typeof raw.type !== "string") throw invalid("Require params: type.");
      update.type = raw.type;
    }
    if (raw.quantity !== undefined) {
      checkQuantity(raw.quantity);
      update.quantity = raw.quantity;
    }
    if (raw.dyno_size !== undefined) update.size = parseDynoSize(raw.dyno_size);
    return update;
  }

  /** Checks every update before applying any, so a refused batch changes nothing. */
  function applyUpdates(changes: { formation: Formation; update: Update }[]): void {
    for (const { formation, update } of changes) {
      const size = update.size ?? formation.size;
      const quantity = update.quantity ?? formation.quantity;
      if (quantity > size.limit) {
        throw new ApiError(422, {
          id: "cannot_update_above_limit",
          message: `Cannot update to more than ${size.limit} ${size.name} size dynos per process type.`,
        });
      }
    }
    const updatedAt = now();
    for (const { formation, update } of changes) {
      if (update.quantity !== undefined) formation.quantity = update.quantity;
      if (update.size !== undefined) formation.size = update.size;
      formation.updatedAt = updatedAt;
    }
    scales++;
  }

  function parseJsonBody(text: string): unknown {
    // An empty body is no parameters, as with curl -X PATCH and no -d.
    if (text.trim() === "") return {};
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new ApiError(400, { id: "bad_request", message: "Request body must be valid JSON." });
    }
  }

  function checkAccept(accept: string | undefined): void {
    const versioned = (accept ?? "").split(",").some((mediaType) => {
      const [type, ...params] = mediaType.split(";").map((part) => part.trim());
      const version = params.find((p) => p.startsWith("version="))?.slice("version=".length);
      // Heroku also accepts variants such as `version=3.sdk`.
      return type === HEROKU_MIME && (version === "3" || version?.startsWith("3.") === true);
    });
    if (!versioned) {
      // Heroku answers this one with `error`, not `message`.
      throw new ApiError(400, {
        id: "missing_version",
        error:
          "Please specify a version along with Heroku's API MIME type. " +
          "For example, `Accept: application/vnd.heroku+json; version=3`.\n",
      });
    }
  }

  function checkAuth(authorization: string | undefined): void {
    const [scheme, credentials = ""] = (authorization ?? "").split(" ", 2);
    let key: string | undefined;
    if (scheme?.toLowerCase() === "bearer") key = credentials;
    // `heroku` and `curl -n` send Basic auth with the API key as the password.
    if (scheme?.toLowerCase() === "basic") key = Buffer.from(credentials, "base64").toString().split(":")[1];
    if (key !== options.apiKey) throw new ApiError(401, DEFAULT_ERRORS[401]!);
  }

  function route(method: string, path: string, bodyText: string): unknown {
    let segments: string[];
    try {
      segments = path.split("/").slice(1).map(decodeURIComponent);
    } catch {
      throw endpointNotFound();
    }
    const [root, appIdentity, resource, typeIdentity] = segments;
    if (method === "GET" && segments.length === 2 && root === "account" && appIdentity === "rate-limits") {
      return { remaining: rateLimitRemaining };
    }
    if (root !== "apps" || resource !== "formation" || appIdentity === undefined || segments.length > 4) {
      throw endpointNotFound();
    }
    if (method !== "GET" && method !== "PATCH") throw endpointNotFound();
    const app = findApp(appIdentity);
    if (!app) throw notFound("Couldn't find that app.", "app");

    if (typeIdentity === undefined) {
      if (method === "GET") return [...app.formations.values()].map((f) => formationJson(app, f));
      const body = parseJsonBody(bodyText);
      if (typeof body !== "object" || body === null || Array.isArray(body)) {
        throw invalid("Invalid params: expected a JSON object.");
      }
      const unknownKey = Object.keys(body).find((key) => key !== "updates");
      if (unknownKey !== undefined) throw invalid(`Invalid params: unknown property "${unknownKey}".`);
      const { updates } = body as { updates?: unknown };
      if (updates === undefined) throw invalid("Require params: updates.");
      if (!Array.isArray(updates)) throw invalid("Invalid params: updates must be an array.");
      const changes = updates.map((item) => {
        const update = parseUpdate(item, ["type", "quantity", "dyno_size"]);
        const formation = findFormation(app, update.type!);
        if (!formation) throw notFound(`Couldn't find that process type (${update.type}).`, "formation");
        return { formation, update };
      });
      applyUpdates(changes);
      return changes.map(({ formation }) => formationJson(app, formation));
    }

    const formation = findFormation(app, typeIdentity);
    if (!formation) throw notFound("Couldn't find that formation.", "formation");
    if (method === "PATCH") {
      const update = parseUpdate(parseJsonBody(bodyText), ["quantity", "dyno_size"]);
      applyUpdates([{ formation, update }]);
    }
    return formationJson(app, formation);
  }

  /** Answers one request: status, body and the RateLimit-Remaining to report. */
  function respond(request: IncomingMessage, bodyText: string): [number, unknown, number] {
    if (injected && (injected.method === undefined || injected.method === request.method)) {
      const { status, body } = injected;
      if (--injected.times <= 0) injected = undefined;
      return [status, body, status === 429 ? 0 : rateLimitRemaining];
    }
    const method = request.method ?? "GET";
    const path = pathOf(request);
    try {
      checkAccept(request.headers.accept);
      checkAuth(request.headers.authorization);
      // Reading the rate limit does not count against it (per the schema).
      if (path !== "/account/rate-limits") {
        if (rateLimitRemaining <= 0) throw new ApiError(429, RATE_LIMITED);
        rateLimitRemaining--;
      }
      return [200, route(method, path, bodyText), rateLimitRemaining];
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      return [error.status, error.body, rateLimitRemaining];
    }
  }

  const stand = recordingServer({
    name: "heroku-api",
    recorded: requests,
    async answer(request, response, bodyText) {
      const [status, body, remaining] = respond(request, bodyText);
      if (!latencyMethod || latencyMethod === request.method) await stand.delay(latencyMs);
      send(response, status, body, remaining);
    },
    answerError: (response) => send(response, 500, DEFAULT_ERRORS[500], rateLimitRemaining),
  });
  const url = await listen(stand.server, options.port);

  function existing(app: string, type: string): Formation {
    const formation = apps.get(app)?.formations.get(type);
    if (!formation) throw new Error(`No formation ${app}/${type}`);
    return formation;
  }

  return {
    url,
    requests,
    quantity: (app, type) => apps.get(app)?.formations.get(type)?.quantity,
    setQuantity(app, type, n) {
      const formation = existing(app, type);
      if (!Number.isInteger(n) || n < 0) throw new Error(`Quantity must be an integer >= 0, got ${n}`);
      formation.quantity = n;
      formation.updatedAt = now();
    },
    failNext(status, error, times = 1, method) {
      checkStatus("failNext", status, 400);
      if (!Number.isInteger(times) || times < 1)
        throw new Error(`failNext: times must be >= 1, got ${times}`);
      injected = { status, body: error ?? defaultError(status), times, method: method?.toUpperCase() };
    },
    setLatency(ms, method) {
      latencyMs = ms;
      latencyMethod = method?.toUpperCase();
    },
    setRateLimitRemaining(n) {
      rateLimitRemaining = n;
    },
    scaleCount: () => scales,
    close: () => stand.close(),
  };
}

function send(response: ServerResponse, status: number, body: unknown, rateLimitRemaining: number): void {
  sendText(response, status, JSON.stringify(body), "application/json", {
    "RateLimit-Remaining": String(rateLimitRemaining),
    "Request-Id": randomUUID(),
  });
}

function defaultError(status: number): ErrorBody {
  const text = STATUS_CODES[status] ?? "Error";
  return DEFAULT_ERRORS[status] ?? { id: text.toLowerCase().replace(/\W+/g, "_"), message: `${text}.` };
}
