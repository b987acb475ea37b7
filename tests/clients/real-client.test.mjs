// Drives the homeserver with the real matrix-js-sdk and its own sync loop.
// HOMESERVER_BASE_URL names the server (tests/Server.Tests RealClientTests starts one and sets it).
import { test } from "node:test";
import assert from "node:assert/strict";
import { sdk, eventually, register, logIn, messages, findMessage } from "./sdk-helpers.mjs";

test("two users chat through the SDK's own sync loop", async () => {
  const suffix = Date.now().toString(36);
  const aliceName = `alice${suffix}`;
  const bobName = `bob${suffix}`;
  const aliceAccount = await register(aliceName);
  const bobAccount = await register(bobName);
  const alice = await logIn(aliceName);
  const bob = await logIn(bobName);
  assert.equal(alice.getUserId(), aliceAccount.user_id);
  const bobId = bobAccount.user_id;

  const { room_id: roomId } = await alice.createRoom({ name: "Sync test room", preset: "private_chat" });
  await alice.invite(roomId, bobId);
  await eventually("bob to see the invite", () => bob.getRoom(roomId)?.getMyMembership() === "invite");
  await bob.joinRoom(roomId);
  await eventually("alice to see bob join", () => alice.getRoom(roomId)?.getMember(bobId)?.membership === "join");
  await eventually("bob to see the room name", () => bob.getRoom(roomId)?.name === "Sync test room");

  for (const body of ["hello 1", "hello 2", "hello 3"]) await alice.sendTextMessage(roomId, body);
  // Bob answers once he has read them (a client puts its own sends after what it has already received).
  await eventually("bob to receive alice's messages in order", () =>
    JSON.stringify(messages(bob, roomId)) === JSON.stringify(["hello 1", "hello 2", "hello 3"]), () => JSON.stringify(messages(bob, roomId)));
  await bob.sendTextMessage(roomId, "hi alice");
  const conversation = ["hello 1", "hello 2", "hello 3", "hi alice"];
  await eventually("bob to see the conversation in order", () =>
    JSON.stringify(messages(bob, roomId)) === JSON.stringify(conversation), () => JSON.stringify(messages(bob, roomId)));
  await eventually("alice to see the conversation in order, once", () =>
    JSON.stringify(messages(alice, roomId)) === JSON.stringify(conversation), () => JSON.stringify(messages(alice, roomId)));

  await bob.sendTyping(roomId, true, 30000);
  await eventually("alice to see bob typing", () => alice.getRoom(roomId)?.getMember(bobId)?.typing === true);
  await bob.sendTyping(roomId, false);
  await eventually("alice to see bob stop typing", () => alice.getRoom(roomId)?.getMember(bobId)?.typing === false);

  // A receipt must be newer than bob's own last message, which clients already count as read by him.
  await alice.sendTextMessage(roomId, "please read");
  const toRead = await eventually("bob to receive the message to read", () => findMessage(bob, roomId, "please read"));
  await bob.sendReadReceipt(toRead, sdk.ReceiptType.Read);
  await eventually("alice to see bob's read receipt", () =>
    alice.getRoom(roomId)?.getReceiptsForEvent(findMessage(alice, roomId, "please read"))
      .some((receipt) => receipt.userId === bobId && receipt.type === "m.read"));

  await alice.setRoomName(roomId, "Renamed room");
  await eventually("bob to see the new room name", () => bob.getRoom(roomId)?.name === "Renamed room");

  await alice.redactEvent(roomId, findMessage(alice, roomId, "hello 2").getId());
  await eventually("bob to see the redaction", () => findMessage(bob, roomId, "hello 2") === undefined
    && bob.getRoom(roomId).getLiveTimeline().getEvents().some((event) => event.isRedacted()));

  await bob.setDisplayName("Bobby");
  await eventually("alice to see bob's new display name", () => alice.getRoom(roomId)?.getMember(bobId)?.name === "Bobby");

  const second = await logIn(aliceName, 2);
  const fresh = await eventually("the fresh login to know the room", () => second.getRoom(roomId));
  assert.ok(fresh.getLiveTimeline().getEvents().length <= 2, "a fresh login with a limit of 2 starts with a short timeline");
  for (let round = 0; round < 10 && !findMessage(second, roomId, "hello 1"); round++) {
    await second.scrollback(fresh, 30);
  }
  assert.deepEqual(messages(second, roomId), ["hello 1", "hello 3", "hi alice", "please read"]);

  await bob.leave(roomId);
  await eventually("alice to see bob leave", () => alice.getRoom(roomId)?.getMember(bobId)?.membership === "leave");
  await eventually("bob's client to know it left", () => bob.getRoom(roomId)?.getMyMembership() === "leave");
});
