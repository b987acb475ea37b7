// Helpers of the real-crypto test (e2ee-crypto.mjs): matrix-js-sdk clients with the Rust crypto (WebAssembly, its
// in-memory store: Node has no IndexedDB), the server's answers the SDK saw, and checks on decrypted timelines.
import { after } from "node:test";
import assert from "node:assert/strict";
import { sdk, baseUrl, eventually } from "./sdk-helpers.mjs";

export { sdk, baseUrl, eventually };

// The SDK and its crypto log every request at debug level; HOMESERVER_SDK_DEBUG=1 shows them. Everything goes to
// stderr: stdout carries the DRAIN requests to the host.
const verbose = process.env.HOMESERVER_SDK_DEBUG === "1";
// The SDK's module-wide logger, which models and the sync loop use rather than the client's.
const { logger: sdkGlobalLogger } = await import("matrix-js-sdk/lib/logger.js");
sdkGlobalLogger.setLevel(verbose ? "debug" : "warn", false);
function quietLogger(prefix) {
  const write = (level) => (...args) => console.error(`${level} ${prefix}`, ...args);
  const skip = () => {};
  return {
    trace: verbose ? write("TRACE") : skip,
    debug: verbose ? write("DEBUG") : skip,
    info: verbose ? write("INFO") : skip,
    warn: write("WARN"),
    error: write("ERROR"),
    getChild: (namespace) => quietLogger(`${prefix}${namespace}`),
  };
}
export const password = "a long and secret password";
export const megolm = "m.megolm.v1.aes-sha2";

const clients = [];
after(() => clients.forEach((client) => client.stopClient()));

/** Every request an SDK client made that the server refused or failed, for the failure messages. */
export const refusedRequests = [];

// HOMESERVER_LOG_REQUESTS=1 prints, at the end, every kind of request the SDK made and the statuses it got.
const requestKinds = new Map();
if (process.env.HOMESERVER_LOG_REQUESTS === "1") {
  after(() => console.log([...requestKinds].map(([kind, statuses]) => `${kind} → ${[...statuses].join(",")}`).sort().join("\n")));
}

function recordingFetch(name, requests) {
  return async (resource, options = {}) => {
    const url = new URL(resource.toString());
    const response = await fetch(resource, options);
    requests.push(`${options.method ?? "GET"} ${decodeURIComponent(url.pathname)} ${response.status}`);
    const kind = `${options.method ?? "GET"} ${url.pathname.replace(/\/(@|!|%40|%21)[^/]*/g, "/{id}")}`;
    requestKinds.set(kind, (requestKinds.get(kind) ?? new Set()).add(response.status));
    // Refusals a client expects: no backup yet, and an unstable MatrixRTC endpoint the server need not have.
    const expected = response.status === 404
      && (url.pathname.endsWith("/room_keys/version") || url.pathname.includes("/unstable/"));
    if (!response.ok && !expected) {
      const body = await response.clone().text().catch(() => "");
      refusedRequests.push(`${name}: ${options.method ?? "GET"} ${url.pathname} → ${response.status} ${body.slice(0, 300)}`);
    }
    return response;
  };
}

export function refusedRequestsSummary() {
  return refusedRequests.length === 0 ? "" : `\nrequests the server refused:\n  ${refusedRequests.slice(-30).join("\n  ")}`;
}

/**
 * Logs in a new device of `username` (on `server`, by default the one under test) with the Rust crypto; its secret
 * storage key, when the test knows it, is `device.recoveryKey` (the callback the SDK asks for it).
 * `beforeStart(client)` runs after the crypto is set up and before the first /sync.
 */
export async function logInWithCrypto(username, { beforeStart = async () => {}, initialSyncLimit = 30, server = baseUrl } = {}) {
  const anonymous = sdk.createClient({ baseUrl: server, logger: quietLogger("") });
  const session = await anonymous.loginRequest({
    type: "m.login.password",
    identifier: { type: "m.id.user", user: username },
    password,
  });
  // requests: "METHOD path status" of every request the client made, in order.
  const device = { recoveryKey: undefined, name: `${username}/${session.device_id}`, requests: [] };
  const client = sdk.createClient({
    baseUrl: server,
    accessToken: session.access_token,
    userId: session.user_id,
    deviceId: session.device_id,
    pendingEventOrdering: sdk.PendingEventOrdering.Detached,
    fetchFn: recordingFetch(device.name, device.requests),
    logger: quietLogger(`[${device.name}] `),
    cryptoCallbacks: {
      getSecretStorageKey: async ({ keys }) => {
        assert.ok(device.recoveryKey, `${device.name} was asked for a secret storage key it does not know`);
        const keyId = Object.keys(keys)[0];
        return [keyId, device.recoveryKey.privateKey];
      },
    },
  });
  client.testDevice = device;
  clients.push(client);
  await client.initRustCrypto({ useIndexedDB: false });
  await beforeStart(client);
  const prepared = new Promise((resolve, reject) => {
    client.on(sdk.ClientEvent.Sync, (state, _previous, data) => {
      if (state === "PREPARED") resolve();
      if (state === "ERROR") reject(data?.error ?? new Error("sync failed"));
    });
  });
  await client.startClient({ initialSyncLimit });
  await prepared;
  return client;
}

export async function register(username, server = baseUrl) {
  const anonymous = sdk.createClient({ baseUrl: server, logger: quietLogger("") });
  const body = { username, password, auth: { type: "m.login.dummy" } };
  try {
    return await anonymous.registerRequest(body);
  } catch (error) {
    // The first request may be answered with the user-interactive auth flows and a session.
    if (error.httpStatus !== 401 || !error.data?.session) throw error;
    return await anonymous.registerRequest({ ...body, auth: { type: "m.login.dummy", session: error.data.session } });
  }
}

/** Answers the server's user-interactive auth for /keys/device_signing/upload with the account's password. */
export function passwordAuth(client) {
  return async (makeRequest) => {
    try {
      await makeRequest(null);
    } catch (error) {
      // The first upload of a new account may go without auth; otherwise the server names a session and its flows.
      if (error.httpStatus !== 401 || !error.data?.flows) throw error;
      await makeRequest({
        type: "m.login.password",
        identifier: { type: "m.id.user", user: client.getUserId() },
        password,
        session: error.data.session,
      });
    }
  };
}

/** What a client's timeline shows of each encrypted event: its clear body, or why it could not be decrypted. */
export function encryptedTimeline(client, roomId) {
  const room = client.getRoom(roomId);
  if (!room) return [];
  return room.getLiveTimeline().getEvents()
    .filter((event) => event.isEncrypted())
    .map((event) => event.isDecryptionFailure()
      ? `UNABLE TO DECRYPT (${event.decryptionFailureReason ?? "?"}) ${event.getId()}`
      : event.isBeingDecrypted() || event.getType() === "m.room.encrypted"
        ? `(decrypting) ${event.getId()}`
        : event.getContent().body);
}

/** Waits until the client has decrypted every one of `bodies` (and nothing it shows is undecryptable). */
export async function expectDecrypted(client, roomId, bodies, timeoutMs = 20000) {
  const shown = () => encryptedTimeline(client, roomId);
  await eventually(`${client.testDevice.name} to decrypt ${JSON.stringify(bodies)}`,
    () => bodies.every((body) => shown().includes(body)) && !shown().some((line) => line.startsWith("UNABLE")),
    () => `; its timeline shows ${JSON.stringify(shown())}${refusedRequestsSummary()}`, timeoutMs);
}

/** Pages the room's timeline back to its start, as a client scrolling up does; a fresh login sees only the newest events. */
export async function loadWholeHistory(client, roomId) {
  const room = client.getRoom(roomId);
  assert.ok(room, `${client.testDevice.name} does not know the room`);
  for (let round = 0; round < 50; round++) {
    if (room.getLiveTimeline().getPaginationToken(sdk.EventTimeline.BACKWARDS) === null) return;
    await client.scrollback(room, 100);
  }
  assert.fail(`${client.testDevice.name} could not page back to the start of the room`);
}

/** Fails with the server's refusals when `step` throws, so a missing endpoint names itself. */
export async function step(name, action) {
  const started = Date.now();
  try {
    const result = await action();
    console.error(`step passed in ${Date.now() - started} ms: ${name}`);
    return result;
  } catch (error) {
    error.message = `${name}: ${error.message}${refusedRequestsSummary()}`;
    throw error;
  }
}

/** Sends a text message and waits until the server has it (the SDK encrypts first when the room is encrypted). */
export async function sendText(client, roomId, body) {
  const { event_id: eventId } = await client.sendTextMessage(roomId, body);
  assert.ok(eventId, `${client.testDevice.name} got no event id for ${JSON.stringify(body)}`);
  return eventId;
}

/** Fetches, as the SDK does, the keys of `userIds` now rather than when the device list next changes. */
export async function downloadKeys(client, userIds) {
  return await client.getCrypto().getUserDeviceInfo(userIds, true);
}
