// Shared by the real-client tests: the SDK with its own sync loop against HOMESERVER_BASE_URL.
import { after } from "node:test";
import assert from "node:assert/strict";
import "./polyfills.mjs";

// The SDK arms a watchdog timer (poll timeout + 80 s) for every /sync and leaves it running when the client stops;
// such long timers must not keep the finished test process alive for minutes.
const originalSetTimeout = globalThis.setTimeout;
globalThis.setTimeout = (callback, delay, ...args) => {
  const timer = originalSetTimeout(callback, delay, ...args);
  if (delay >= 60_000) timer.unref?.();
  return timer;
};

export const sdk = await import("matrix-js-sdk");
export const baseUrl = process.env.HOMESERVER_BASE_URL;
assert.ok(baseUrl, "HOMESERVER_BASE_URL must name the homeserver under test");

const password = "a long and secret password";
const clients = [];
after(() => clients.forEach((client) => client.stopClient()));

/** Polls until check() returns something truthy; fails with `what` after the timeout. */
export async function eventually(what, check, detail = () => "", timeoutMs = 15000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what} ${detail()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export async function register(username) {
  const anonymous = sdk.createClient({ baseUrl });
  const body = { username, password, auth: { type: "m.login.dummy" } };
  try {
    return await anonymous.registerRequest(body);
  } catch (error) {
    // The first request may be answered with the user-interactive auth flows and a session.
    if (error.httpStatus !== 401 || !error.data?.session) throw error;
    return await anonymous.registerRequest({ ...body, auth: { type: "m.login.dummy", session: error.data.session } });
  }
}

export async function logIn(username, initialSyncLimit = 30, fetchFn = undefined, startOptions = {}) {
  const anonymous = sdk.createClient({ baseUrl });
  const session = await anonymous.loginRequest({
    type: "m.login.password",
    identifier: { type: "m.id.user", user: username },
    password,
  });
  const client = sdk.createClient({
    baseUrl,
    accessToken: session.access_token,
    userId: session.user_id,
    deviceId: session.device_id,
    // Local echoes wait outside the timeline, so the timeline shows exactly the server's order.
    pendingEventOrdering: sdk.PendingEventOrdering.Detached,
    fetchFn,
  });
  clients.push(client);
  const prepared = new Promise((resolve, reject) => {
    client.on(sdk.ClientEvent.Sync, (state, _previous, data) => {
      if (state === "PREPARED") resolve();
      if (state === "ERROR") reject(data?.error ?? new Error("sync failed"));
    });
  });
  await client.startClient({ initialSyncLimit, ...startOptions });
  await prepared;
  return client;
}

export function messages(client, roomId) {
  const room = client.getRoom(roomId);
  if (!room) return [];
  return room.getLiveTimeline().getEvents()
    .filter((event) => event.getType() === "m.room.message" && !event.isRedacted())
    .map((event) => event.getContent().body);
}

export function findMessage(client, roomId, body) {
  return client.getRoom(roomId)?.getLiveTimeline().getEvents()
    .find((event) => event.getType() === "m.room.message" && event.getContent().body === body);
}

/**
 * The inviter creates a private room and invites the invitee, who joins; returns the room id once both clients know
 * of the join. `detail(roomId)` adds to a timeout's message.
 */
export async function sharePrivateRoom(inviter, invitee, detail = () => "") {
  const { room_id: roomId } = await inviter.createRoom({ preset: "private_chat", invite: [invitee.getUserId()] });
  await eventually("the invitee to see the invite", () => invitee.getRoom(roomId)?.getMyMembership() === "invite");
  await invitee.joinRoom(roomId);
  await eventually("the inviter to see the invitee join",
    () => inviter.getRoom(roomId)?.getMember(invitee.getUserId())?.membership === "join");
  // Its own join, right after which the room's events and the join's notice race to its sync grain.
  await eventually("the invitee's client to know it joined", () => invitee.getRoom(roomId)?.getMyMembership() === "join",
    () => detail(roomId));
  return roomId;
}
