// What clients use every day, through the real matrix-js-sdk: an image upload and its thumbnail over authenticated
// media, the highlight count a mention brings (and a read receipt clears), and a thread another client follows.
// HOMESERVER_BASE_URL names the server (tests/Server.Tests RealClientTests starts one and sets it).
import { test } from "node:test";
import assert from "node:assert/strict";
import { deflateSync } from "node:zlib";
import { sdk, eventually, register, logIn, sharePrivateRoom, findMessage } from "./sdk-helpers.mjs";

const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes) {
  let c = 0xffffffff;
  for (const b of bytes) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, "ascii");
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/** A real PNG: a colour gradient of the given size, 8-bit RGB. */
function gradientPng(width, height) {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8);
  const rows = Buffer.alloc(height * (1 + width * 3));
  for (let y = 0; y < height; y++) {
    const row = y * (1 + width * 3);
    for (let x = 0; x < width; x++) rows.set([(x * 255) / width, (y * 255) / height, 128], row + 1 + x * 3);
  }
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, chunk("IHDR", header), chunk("IDAT", deflateSync(rows)), chunk("IEND", Buffer.alloc(0))]);
}

/** Width and height from a PNG's IHDR or a JPEG's start-of-frame marker. */
function imageSize(bytes) {
  if (bytes[0] === 0x89 && bytes.toString("ascii", 1, 4) === "PNG") return [bytes.readUInt32BE(16), bytes.readUInt32BE(20)];
  assert.ok(bytes[0] === 0xff && bytes[1] === 0xd8, "the thumbnail is neither PNG nor JPEG");
  for (let i = 2; i < bytes.length;) {
    const marker = bytes[i + 1];
    const length = bytes.readUInt16BE(i + 2);
    if (marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker)) return [bytes.readUInt16BE(i + 7), bytes.readUInt16BE(i + 5)];
    i += 2 + length;
  }
  assert.fail("no start-of-frame marker in the JPEG thumbnail");
}

async function authenticatedGet(client, url) {
  const response = await fetch(url, { headers: { Authorization: `Bearer ${client.getAccessToken()}` } });
  assert.equal(response.status, 200, `GET ${url}: ${response.status} ${await response.clone().text()}`);
  return { type: response.headers.get("content-type"), bytes: Buffer.from(await response.arrayBuffer()) };
}

test("an uploaded image comes back whole and as a scaled thumbnail through authenticated media", async () => {
  const name = `photo${Date.now().toString(36)}`;
  await register(name);
  const client = await logIn(name);
  const png = gradientPng(640, 480);

  const { content_uri: mxc } = await client.uploadContent(png, { type: "image/png", name: "gradient.png" });
  assert.match(mxc, /^mxc:\/\//);

  const original = await authenticatedGet(client, client.mxcUrlToHttp(mxc, undefined, undefined, undefined, false, true, true));
  assert.equal(original.type, "image/png");
  assert.ok(original.bytes.equals(png), "the download differs from the upload");

  const thumbnailUrl = client.mxcUrlToHttp(mxc, 320, 240, "scale", false, true, true);
  assert.match(thumbnailUrl, /\/_matrix\/client\/v1\/media\/thumbnail\//);
  const thumbnail = await authenticatedGet(client, thumbnailUrl);
  assert.match(thumbnail.type, /^image\/(png|jpeg)$/);
  assert.deepEqual(imageSize(thumbnail.bytes), [320, 240]);
});

test("a mention highlights the room for the mentioned user until they read it", async () => {
  const suffix = Date.now().toString(36);
  await register(`alice${suffix}`);
  await register(`bob${suffix}`);
  const alice = await logIn(`alice${suffix}`);
  const bob = await logIn(`bob${suffix}`);
  const roomId = await sharePrivateRoom(bob, alice);
  const highlights = () => alice.getRoom(roomId)?.getUnreadNotificationCount(sdk.NotificationCountType.Highlight) ?? 0;
  const total = () => alice.getRoom(roomId)?.getUnreadNotificationCount(sdk.NotificationCountType.Total) ?? 0;

  await bob.sendTextMessage(roomId, "just chatting");
  await eventually("alice to count bob's message", () => total() >= 1, () => `total ${total()}`);
  assert.equal(highlights(), 0);

  await bob.sendMessage(roomId, {
    msgtype: "m.text",
    body: `${alice.getUserId()}: look at this`,
    "m.mentions": { user_ids: [alice.getUserId()] },
  });
  await eventually("alice's client to show one highlight", () => highlights() === 1, () => `highlights ${highlights()}, total ${total()}`);
  assert.equal(total(), 2);

  const mention = await eventually("alice to receive the mention", () => findMessage(alice, roomId, `${alice.getUserId()}: look at this`));
  await alice.sendReadReceipt(mention, sdk.ReceiptType.Read);
  await eventually("the counts to clear after alice's receipt", () => highlights() === 0 && total() === 0,
    () => `highlights ${highlights()}, total ${total()}`);
});

test("a thread started by one user is followed by the other's client, live and after a fresh login", async () => {
  const suffix = Date.now().toString(36);
  await register(`alice${suffix}`);
  await register(`bob${suffix}`);
  const threads = { threadSupport: true };
  const alice = await logIn(`alice${suffix}`, 30, undefined, threads);
  const bob = await logIn(`bob${suffix}`, 30, undefined, threads);
  const roomId = await sharePrivateRoom(alice, bob);

  const { event_id: rootId } = await alice.sendTextMessage(roomId, "thread root");
  await eventually("bob to receive the root", () => findMessage(bob, roomId, "thread root"));
  // Bob's replies go out as plain requests: the SDK's own send queue can lose a race between a thread reply's remote
  // echo and its send answer (it then throws "not a local echo"), and this test is about the follower's client.
  for (const [n, body] of ["first reply", "second reply"].entries()) {
    await bob.http.authedRequest(sdk.Method.Put,
      `/rooms/${encodeURIComponent(roomId)}/send/m.room.message/thread-reply-${suffix}-${n}`, undefined,
      { msgtype: "m.text", body, "m.relates_to": { rel_type: "m.thread", event_id: rootId, is_falling_back: true, "m.in_reply_to": { event_id: rootId } } });
  }
  const replies = (client) => client.getRoom(roomId)?.getThread(rootId)?.timeline
    .filter((event) => event.getType() === "m.room.message" && event.getId() !== rootId)
    .map((event) => event.getContent().body) ?? [];
  await eventually("alice's client to follow the thread's replies", () => replies(alice).length === 2,
    () => JSON.stringify(replies(alice)));
  assert.deepEqual(replies(alice), ["first reply", "second reply"]);
  // Replies live in the thread, not in the room's main timeline.
  assert.equal(findMessage(alice, roomId, "first reply"), undefined);

  // A client that logs in now learns of the thread from the root's bundled summary and the /threads list.
  const later = await logIn(`alice${suffix}`, 30, undefined, threads);
  const room = await eventually("the new client to know the room", () => later.getRoom(roomId));
  const thread = await eventually("the new client to know the thread", () => room.getThread(rootId));
  const list = await later.createThreadListMessagesRequest(roomId, null, 10, sdk.Direction.Backward, sdk.ThreadFilterType.All);
  assert.deepEqual(list.chunk.map((event) => event.event_id), [rootId]);
  assert.equal(list.chunk[0].unsigned["m.relations"]["m.thread"].count, 2);
  // The SDK counts the replies of the initial sync's timeline on top of the summary until it has read the thread.
  await eventually("the new client to count two replies and show them", () =>
    thread.length === 2 && JSON.stringify(replies(later)) === JSON.stringify(["first reply", "second reply"]),
    () => `${thread.length} ${JSON.stringify(replies(later))}`);
});
