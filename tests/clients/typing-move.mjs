// Typing notices through the SDK's own sync loop while the cluster moves every grain: before each round the host test
// replaces and drains both silos (this script prints `MOVE <round>` and waits for the line `MOVED` on stdin) while both
// clients keep syncing through the gateway; afterwards every typing change must reach the watcher within seconds,
// whatever the typer did just before (a message, a transaction id retried across the move, nothing).
//
// Run with plain `node typing-move.mjs` by tests/Server.Tests RealClientTypingAfterMoveTests, which answers the moves;
// its name keeps it out of `node --test`, which would not connect stdin.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { createInterface } from "node:readline";
import { sdk, eventually, register, logIn, findMessage, messages, sharePrivateRoom } from "./sdk-helpers.mjs";

const rounds = 10;
const changeTimeoutMs = 5000;
const reconnectTimeoutMs = 30000;
const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)}s`;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const host = createInterface({ input: process.stdin });
const hostLines = host[Symbol.asyncIterator]();
// An open stdin would keep the process alive after a failure.
after(() => host.close());

/** Asks the host to move every grain and waits until it has. */
async function moveEveryGrain(round) {
  console.log(`MOVE ${round}`);
  const { value, done } = await hostLines.next();
  assert.ok(!done && value === "MOVED", `the host answered ${done ? "nothing" : JSON.stringify(value)} instead of MOVED`);
}

/** A client's sync loop as seen from outside, for failure messages: its state changes and newest /sync exchanges. */
function watchSyncLoop(name, limit = 6) {
  const exchanges = [];
  const states = [];
  let failures = 0;
  const fetchFn = async (resource, options) => {
    const url = new URL(resource.toString());
    if (!url.pathname.endsWith("/sync")) return fetch(resource, options);
    const at = elapsed();
    try {
      const response = await fetch(resource, options);
      const body = await response.clone().text();
      remember(exchanges, `${at} since=${url.searchParams.get("since")} -> ${response.status} ${body.slice(0, 1500)}`, limit);
      return response;
    } catch (error) {
      remember(exchanges, `${at} since=${url.searchParams.get("since")} -> ${error}`, limit);
      throw error;
    }
  };
  const follow = (client) => client.on(sdk.ClientEvent.Sync, (state) => {
    if (!isSyncing(state)) failures++;
    remember(states, `${elapsed()} ${state}`, 20);
  });
  return {
    fetchFn,
    follow,
    failures: () => failures,
    describe: () => `\n${name}'s sync states: ${states.join(", ")}\n${name}'s last syncs:\n${exchanges.join("\n")}`,
  };
}

function remember(list, entry, limit) {
  list.push(entry);
  if (list.length > limit) list.shift();
}

/** Not RECONNECTING or ERROR: a loop that failed waits seconds before its next /sync, which no typing check should count. */
const isSyncing = (state) => ["PREPARED", "SYNCING"].includes(state);

let retries = 0;

/** Runs a request again after a 503 or a lost connection, a second apart, as a client does while the cluster settles. */
async function retryWhileUnavailable(what, call, attempts = 10) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      const unavailable = error.httpStatus === 503 || error.name === "ConnectionError";
      if (!unavailable || attempt >= attempts) throw error;
      retries++;
      console.error(`${elapsed()} ${what} failed (${error.message}); retrying`);
      await sleep(1000);
    }
  }
}

/** PUTs one message with a chosen transaction id, so that the same PUT can be repeated as a retrying client does. */
async function sendWithTransactionId(client, roomId, txnId, body) {
  const path = `/rooms/${encodeURIComponent(roomId)}/send/m.room.message/${encodeURIComponent(txnId)}`;
  const answer = await client.http.authedRequest(sdk.Method.Put, path, undefined, { msgtype: "m.text", body });
  return answer.event_id;
}

test(`every typing change reaches the other member's sync loop after each of ${rounds} moves of every grain`, async () => {
  const suffix = Date.now().toString(36);
  await register(`typer${suffix}`);
  await register(`watcher${suffix}`);
  const typerLoop = watchSyncLoop("the typer");
  const watcherLoop = watchSyncLoop("the watcher");
  const typer = await logIn(`typer${suffix}`, 30, typerLoop.fetchFn);
  const watcher = await logIn(`watcher${suffix}`, 30, watcherLoop.fetchFn);
  typerLoop.follow(typer);
  watcherLoop.follow(watcher);
  const typerId = typer.getUserId();

  const members = (id) => JSON.stringify(watcher.getRoom(id)?.getMembers().map((m) => [m.userId, m.membership, m.typing]));
  const detailOf = (id) => `\nat ${elapsed()} the watcher's members: ${members(id)}${watcherLoop.describe()}${typerLoop.describe()}`;
  const roomId = await sharePrivateRoom(typer, watcher, detailOf);
  const detail = () => detailOf(roomId);

  const typingSeen = () => watcher.getRoom(roomId)?.getMember(typerId)?.typing === true;
  const receivedByWatcher = (body) => eventually(`the watcher to receive "${body}"`,
    () => findMessage(watcher, roomId, body), detail, changeTimeoutMs);
  // Each prelude is split around the move: `before` runs while the grains are still in place, `after` once they moved,
  // right before typing (its messages race the typing notice to the watcher), and `delivered` checks what it sent.
  const preludes = {
    "nothing": { before: async () => {}, after: async () => {}, delivered: async () => {} },
    "a message": {
      before: async () => {},
      after: (round) => retryWhileUnavailable("a message", () => typer.sendTextMessage(roomId, `message ${round}`)),
      delivered: (round) => receivedByWatcher(`message ${round}`),
    },
    "a transaction id retried across the move": {
      before: (round) => sendWithTransactionId(typer, roomId, `retry-${suffix}-${round}`, `retry ${round}`),
      after: async (round, firstEventId) => {
        const eventId = await retryWhileUnavailable("the retried transaction id",
          () => sendWithTransactionId(typer, roomId, `retry-${suffix}-${round}`, `retry ${round}`));
        assert.equal(eventId, firstEventId, `round ${round}: a transaction id retried after the move must answer the first event id`);
      },
      delivered: async (round) => {
        await receivedByWatcher(`retry ${round}`);
        assert.equal(messages(watcher, roomId).filter((body) => body === `retry ${round}`).length, 1,
          `round ${round}: the watcher must receive a message sent twice with one transaction id once`);
      },
    },
  };
  const kinds = Object.keys(preludes);
  for (let round = 0; round < rounds; round++) {
    const kind = kinds[round % kinds.length];
    const prepared = await preludes[kind].before(round);
    const moveStarted = Date.now();
    await moveEveryGrain(round);
    const moved = Date.now();
    await eventually(`round ${round}: the watcher's sync loop to run after the move`,
      () => isSyncing(watcher.getSyncState()), detail, reconnectTimeoutMs);
    await eventually(`round ${round}: the typer's sync loop to run after the move`,
      () => isSyncing(typer.getSyncState()), detail, reconnectTimeoutMs);
    const resumed = Date.now();

    await preludes[kind].after(round, prepared);
    const typingStarted = Date.now();
    await retryWhileUnavailable("typing", () => typer.sendTyping(roomId, true, 30000));
    await eventually(`round ${round}: the watcher to see typing after the move and ${kind}`, typingSeen, detail, changeTimeoutMs);
    await retryWhileUnavailable("typing", () => typer.sendTyping(roomId, false));
    await eventually(`round ${round}: the watcher to see typing stop`, () => !typingSeen(), detail, changeTimeoutMs);
    const typingSeenIn = Date.now() - typingStarted;
    await preludes[kind].delivered(round);
    console.log(`${elapsed()} round ${round} (${kind}): moved in ${moved - moveStarted} ms, ` +
      `sync loops running ${resumed - moved} ms later, typing on and off seen in ${typingSeenIn} ms`);
  }
  assert.equal(watcher.getRoom(roomId).getMember(typerId).typing, false, "nobody types at the end");
  console.log(`${rounds} moves and rounds of typing in ${elapsed()}, ${retries} requests retried, ` +
    `sync loops failed ${watcherLoop.failures()} (watcher) and ${typerLoop.failures()} (typer) times`);
});
