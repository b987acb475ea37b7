// Real clients, real crypto, two servers: matrix-js-sdk with its Rust crypto for alice on the server under test
// (HOMESERVER_BASE_URL) and bob on a second server of this project (HOMESERVER_BASE_URL_B) that federates with it.
// Alice invites bob to an encrypted room, he joins over federation, and each decrypts the other's messages: device
// lists and one-time keys are fetched across servers, the room key travels as a to-device message between servers.
//
// tests/Server.Tests FederatedRealClientCryptoTests runs it on two servers over TLS of a test CA (NODE_EXTRA_CA_CERTS).
// Its name keeps it out of a plain `node --test`.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  eventually, megolm, register, logInWithCrypto, expectDecrypted, step, sendText, downloadKeys, refusedRequestsSummary,
} from "./e2ee-helpers.mjs";

const baseUrlOfB = process.env.HOMESERVER_BASE_URL_B;
assert.ok(baseUrlOfB, "HOMESERVER_BASE_URL_B must name the second homeserver");
const acrossServersMs = 60000;

test("users of two servers exchange encrypted messages that each decrypts", async () => {
  const suffix = Date.now().toString(36);
  await register(`alice${suffix}`);
  await register(`bob${suffix}`, baseUrlOfB);
  const [alice, bob] = await step("logging in one device on each server with the Rust crypto", async () => [
    await logInWithCrypto(`alice${suffix}`),
    await logInWithCrypto(`bob${suffix}`, { server: baseUrlOfB }),
  ]);
  const aliceId = alice.getUserId();
  const bobId = bob.getUserId();
  assert.notEqual(aliceId.split(":").slice(1).join(":"), bobId.split(":").slice(1).join(":"), "both users are of one server");

  await step("each server answers the other's users' device keys", async () => {
    const bobsDevices = await downloadKeys(alice, [bobId]);
    assert.ok(bobsDevices.get(bobId)?.has(bob.getDeviceId()), `alice does not see bob's device${refusedRequestsSummary()}`);
    const alicesDevices = await downloadKeys(bob, [aliceId]);
    assert.ok(alicesDevices.get(aliceId)?.has(alice.getDeviceId()), `bob does not see alice's device${refusedRequestsSummary()}`);
  });

  const roomId = await step("alice creates an encrypted room and invites bob; he joins over federation", async () => {
    const { room_id: roomId } = await alice.createRoom({
      preset: "private_chat",
      invite: [bobId],
      initial_state: [{ type: "m.room.encryption", state_key: "", content: { algorithm: megolm } }],
    });
    await eventually("bob to see the invite", () => bob.getRoom(roomId)?.getMyMembership() === "invite", () => "", acrossServersMs);
    await bob.joinRoom(roomId);
    await eventually("alice to see bob joined", () => alice.getRoom(roomId)?.getMember(bobId)?.membership === "join",
      () => refusedRequestsSummary(), acrossServersMs);
    await eventually("bob to see the room joined", () => bob.getRoom(roomId)?.getMyMembership() === "join", () => "", acrossServersMs);
    return roomId;
  });

  await step("alice's message is encrypted and bob decrypts it", async () => {
    await sendText(alice, roomId, "hello from the first server");
    await expectDecrypted(bob, roomId, ["hello from the first server"], acrossServersMs);
  });
  await step("bob's answer is encrypted and alice decrypts it", async () => {
    await sendText(bob, roomId, "hello from the second server");
    await expectDecrypted(alice, roomId, ["hello from the first server", "hello from the second server"], acrossServersMs);
  });
  await step("a later message of each still decrypts on the other side", async () => {
    await sendText(alice, roomId, "second from the first server");
    await sendText(bob, roomId, "second from the second server");
    const all = ["hello from the first server", "hello from the second server", "second from the first server", "second from the second server"];
    await expectDecrypted(alice, roomId, all, acrossServersMs);
    await expectDecrypted(bob, roomId, all, acrossServersMs);
  });
});
