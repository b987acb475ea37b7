// Typing notices through the SDK's own sync loop: every change reaches the other member within seconds, whatever
// the sender did just before (a burst of messages, a retried transaction id, nothing).
import { test } from "node:test";
import assert from "node:assert/strict";
import { sdk, baseUrl, eventually, register, logIn, sharePrivateRoom } from "./sdk-helpers.mjs";

const rounds = 20;
const changeTimeoutMs = 5000;

/** A fetch that remembers the newest /sync exchanges, so a failure shows what the client asked and got. */
function recordingSyncs(limit = 6) {
  const syncs = [];
  const fetchFn = async (resource, options) => {
    const url = new URL(resource.toString());
    const response = await fetch(resource, options);
    if (url.pathname.endsWith("/sync")) {
      const body = await response.clone().text();
      syncs.push(`${new Date().toISOString()} since=${url.searchParams.get("since")} -> ${body.slice(0, 1500)}`);
      if (syncs.length > limit) syncs.shift();
    }
    return response;
  };
  return { fetchFn, describe: () => `\nlast syncs of the reader:\n${syncs.join("\n")}` };
}

/** Sends one message with a raw PUT, then the same PUT again (a client retrying the same transaction id). */
async function sendTwiceWithOneTransactionId(client, roomId, txnId, body) {
  const url = `${baseUrl}/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/send/m.room.message/${txnId}`;
  const request = {
    method: "PUT",
    headers: { Authorization: `Bearer ${client.getAccessToken()}`, "Content-Type": "application/json" },
    body: JSON.stringify({ msgtype: "m.text", body }),
  };
  const first = await (await fetch(url, request)).json();
  const second = await (await fetch(url, request)).json();
  assert.ok(first.event_id, `the send failed: ${JSON.stringify(first)}`);
  assert.equal(second.event_id, first.event_id, "a retried transaction id must answer the first event id");
}

test("every typing change reaches the other member's sync loop, 20 rounds in a row", async () => {
  const suffix = Date.now().toString(36);
  await register(`typer${suffix}`);
  await register(`watcher${suffix}`);
  const typer = await logIn(`typer${suffix}`);
  const recorder = recordingSyncs();
  const watcher = await logIn(`watcher${suffix}`, 30, recorder.fetchFn);
  const typerId = typer.getUserId();

  const members = (id) => JSON.stringify(watcher.getRoom(id)?.getMembers().map((m) => [m.userId, m.membership, m.typing]));
  const detailOf = (id) => `\nthe watcher's members: ${members(id)}${recorder.describe()}`;
  const roomId = await sharePrivateRoom(typer, watcher, detailOf);
  const detail = () => detailOf(roomId);

  const typingSeen = () => watcher.getRoom(roomId)?.getMember(typerId)?.typing === true;
  const preludes = {
    "a burst of messages": async (round) => {
      await Promise.all([1, 2, 3, 4, 5].map((n) => typer.sendTextMessage(roomId, `burst ${round}.${n}`)));
    },
    "a retried transaction id": (round) => sendTwiceWithOneTransactionId(typer, roomId, `retry-${suffix}-${round}`, `retry ${round}`),
    "nothing": async () => {},
  };
  const kinds = Object.keys(preludes);
  const started = Date.now();
  for (let round = 0; round < rounds; round++) {
    const kind = kinds[round % kinds.length];
    await preludes[kind](round);
    await typer.sendTyping(roomId, true, 30000);
    await eventually(`round ${round}: the watcher to see typing after ${kind}`, typingSeen, detail, changeTimeoutMs);
    if (round % 2 === 1) await preludes[kind](round + 0.5);
    await typer.sendTyping(roomId, false);
    await eventually(`round ${round}: the watcher to see typing stop`, () => !typingSeen(), detail, changeTimeoutMs);
  }
  assert.equal(watcher.getRoom(roomId).getMember(typerId).typing, false, "nobody types at the end");
  console.log(`${rounds} rounds of typing in ${Date.now() - started} ms`);
});
