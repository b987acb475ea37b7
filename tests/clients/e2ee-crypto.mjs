// Real client, real crypto: matrix-js-sdk with its Rust crypto (matrix-sdk-crypto-wasm) for two users, alice with
// two devices and bob with one, in an encrypted room; later two new devices of alice get the old room keys, one from
// the key backup and one forwarded by her first device over to-device after it cross-signed the new one.
//
// By hand, against a running server:
//   HOMESERVER_BASE_URL=http://localhost:8008 node --test e2ee-crypto.mjs
// tests/Server.Tests RealClientCryptoTests runs it so on one node (SQLite and PostgreSQL), and plainly
// (`node e2ee-crypto.mjs`, stdin connected) against a cluster with HOMESERVER_DRAIN_ON_REQUEST=1: the script then
// prints `DRAIN` in the middle of the exchange, keeps exchanging messages while the host drains a silo, and waits
// for the line `DRAINED` before the checks that follow. Its name keeps it out of a plain `node --test`.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { createInterface } from "node:readline";
import {
  sdk, eventually, megolm, password, register, logInWithCrypto, passwordAuth, expectDecrypted, step, sendText,
  downloadKeys, refusedRequestsSummary, loadWholeHistory,
} from "./e2ee-helpers.mjs";

const RustSdkCryptoJs = await import("@matrix-org/matrix-sdk-crypto-wasm");
const drainOnRequest = process.env.HOMESERVER_DRAIN_ON_REQUEST === "1";
// Across a drain the sync loops reconnect and the grains reactivate elsewhere: give them longer.
const exchangeTimeoutMs = drainOnRequest ? 60000 : 20000;

let host;
after(() => host?.close());

/** Asks the host to drain a silo; the returned promise settles when it says it has. */
function requestDrain() {
  if (!drainOnRequest) return Promise.resolve();
  host = createInterface({ input: process.stdin });
  const lines = host[Symbol.asyncIterator]();
  console.log("DRAIN");
  return lines.next().then(({ value, done }) =>
    assert.ok(!done && value === "DRAINED", `the host answered ${done ? "nothing" : JSON.stringify(value)} instead of DRAINED`));
}

test("alice's two devices and bob exchange encrypted messages; new devices get the keys from backup and by forwarding", async () => {
  const suffix = Date.now().toString(36);
  const aliceName = `alice${suffix}`;
  const bobName = `bob${suffix}`;
  await register(aliceName);
  await register(bobName);

  const [alice1, alice2, bob] = await step("logging in three devices with the Rust crypto", async () => [
    await logInWithCrypto(aliceName),
    await logInWithCrypto(aliceName),
    await logInWithCrypto(bobName),
  ]);
  const aliceId = alice1.getUserId();
  const bobId = bob.getUserId();
  const everyDevice = [alice1, alice2, bob];

  await step("alice bootstraps cross-signing (user-interactive auth answered with her password)", async () => {
    await alice1.getCrypto().bootstrapCrossSigning({ authUploadDeviceSigningKeys: passwordAuth(alice1) });
    assert.ok(await alice1.getCrypto().isCrossSigningReady(), "alice's cross-signing is not ready after bootstrapping");
  });
  await step("bob bootstraps cross-signing", async () => {
    await bob.getCrypto().bootstrapCrossSigning({ authUploadDeviceSigningKeys: passwordAuth(bob) });
    assert.ok(await bob.getCrypto().isCrossSigningReady(), "bob's cross-signing is not ready after bootstrapping");
  });
  await step("alice sets up secret storage and a new key backup", async () => {
    const crypto = alice1.getCrypto();
    alice1.testDevice.recoveryKey = await crypto.createRecoveryKeyFromPassphrase();
    await crypto.bootstrapSecretStorage({
      createSecretStorageKey: async () => alice1.testDevice.recoveryKey,
      setupNewKeyBackup: true,
    });
    assert.ok(await crypto.getActiveSessionBackupVersion(), "no active key backup after bootstrapping secret storage");
    assert.ok(await crypto.isSecretStorageReady(), "secret storage is not ready after bootstrapping it");
  });

  const roomId = await step("alice creates an encrypted room and bob joins", async () => {
    const { room_id: roomId } = await alice1.createRoom({
      preset: "private_chat",
      invite: [bobId],
      initial_state: [{ type: "m.room.encryption", state_key: "", content: { algorithm: megolm } }],
    });
    await eventually("bob to see the invite", () => bob.getRoom(roomId)?.getMyMembership() === "invite");
    await bob.joinRoom(roomId);
    for (const client of everyDevice) {
      await eventually(`${client.testDevice.name} to see bob in the encrypted room`,
        () => client.getRoom(roomId)?.getMember(bobId)?.membership === "join" && client.getRoom(roomId).hasEncryptionStateEvent());
      assert.ok(await client.getCrypto().isEncryptionEnabledInRoom(roomId), `${client.testDevice.name}: room not encrypted`);
    }
    return roomId;
  });

  const sent = [];
  const send = async (client, body) => { await sendText(client, roomId, body); sent.push(body); };
  await step("messages both ways, every device decrypts every message", async () => {
    await send(alice1, "alice's first device says hello");
    let drained = false;
    const draining = requestDrain().then(() => { drained = true; });
    await send(bob, "bob answers");
    await send(alice2, "alice's second device joins in");
    // While the host drains, every device keeps talking: each message is encrypted for and must reach all devices.
    for (let round = 0; drainOnRequest && !drained; round++) {
      await send(everyDevice[round % everyDevice.length], `message ${round} during the drain`);
      await Promise.race([draining, new Promise((resolve) => setTimeout(resolve, 500))]);
    }
    for (const client of everyDevice) await expectDecrypted(client, roomId, sent, exchangeTimeoutMs);
    await draining;
    await send(bob, "bob once more");
    await send(alice1, "alice once more");
    for (const client of everyDevice) await expectDecrypted(client, roomId, sent, exchangeTimeoutMs);
  });
  for (const message of sent) {
    const event = alice1.getRoom(roomId).getLiveTimeline().getEvents().find((e) => e.getContent().body === message);
    assert.ok(event.isEncrypted() && event.getWireType() === "m.room.encrypted", `${message} was not sent encrypted`);
  }

  await step("alice signs bob's master key: bob and his device are verified for her", async () => {
    const crypto = alice1.getCrypto();
    await downloadKeys(alice1, [bobId]);
    const identity = await crypto.getOlmMachineOrThrow().getIdentity(new RustSdkCryptoJs.UserId(bobId));
    assert.ok(identity, "alice's client knows no cross-signing identity of bob");
    try {
      await crypto.outgoingRequestProcessor.makeOutgoingRequest(await identity.verify());
    } finally {
      identity.free();
    }
    await eventuallyAsync("alice's client to show bob as cross-signing verified",
      async () => (await crypto.getUserVerificationStatus(bobId)).isCrossSigningVerified());
    await eventuallyAsync("alice's client to show bob's device as verified", async () =>
      (await crypto.getDeviceVerificationStatus(bobId, bob.getDeviceId()))?.crossSigningVerified);
  });

  await step("alice cross-signs her second device", async () => {
    const crypto = alice1.getCrypto();
    await crypto.crossSignDevice(alice2.getDeviceId());
    await eventuallyAsync("alice's first device to show her second one as cross-signed", async () =>
      (await crypto.getDeviceVerificationStatus(aliceId, alice2.getDeviceId()))?.crossSigningVerified);
  });

  await step("the key backup holds every session of the room", async () => {
    const sessions = new Set(alice1.getRoom(roomId).getLiveTimeline().getEvents()
      .filter((event) => event.isEncrypted()).map((event) => event.getWireContent().session_id));
    let info;
    await eventuallyAsync(`alice's backup to hold the room's ${sessions.size} sessions`, async () => {
      // Asked of the server itself: the SDK caches what it last saw of the backup.
      info = await alice1.http.authedRequest(sdk.Method.Get, "/room_keys/version");
      return info.count >= sessions.size;
    }, 20000, () => `; the server says ${JSON.stringify(info)}`);
  });

  const restoring = await step("a new device of alice restores the room keys from the key backup", async () => {
    const restoring = await logInWithCrypto(aliceName, {
      beforeStart: async (client) => { client.testDevice.recoveryKey = alice1.testDevice.recoveryKey; },
    });
    await eventually("the restoring device to know the room", () => restoring.getRoom(roomId));
    await loadWholeHistory(restoring, roomId);
    const crypto = restoring.getCrypto();
    await crypto.loadSessionBackupPrivateKeyFromSecretStorage();
    await crypto.checkKeyBackupAndEnable();
    const result = await crypto.restoreKeyBackup();
    assert.ok(result.imported > 0, `nothing imported from the backup: ${JSON.stringify(result)}`);
    await expectDecrypted(restoring, roomId, sent);
    return restoring;
  });

  const requesting = await step("a new device of alice, cross-signed by her first one, gets the keys forwarded over to-device", async () => {
    const requesting = await logInWithCrypto(aliceName);
    await eventually("the requesting device to know the room", () => requesting.getRoom(roomId));
    await loadWholeHistory(requesting, roomId);
    const crypto = requesting.getCrypto();
    await eventuallyAsync("alice's first device to learn of the new device", async () =>
      (await alice1.getCrypto().getUserDeviceInfo([aliceId])).get(aliceId)?.has(requesting.getDeviceId()));
    await alice1.getCrypto().crossSignDevice(requesting.getDeviceId());
    await eventuallyAsync("alice's first device to show the new one as cross-signed", async () =>
      (await alice1.getCrypto().getDeviceVerificationStatus(aliceId, requesting.getDeviceId()))?.crossSigningVerified);
    // The new device has no cross-signing secrets; its user confirms the first device by hand.
    await eventuallyAsync("the new device to know alice's first device", async () =>
      (await crypto.getUserDeviceInfo([aliceId])).get(aliceId)?.has(alice1.getDeviceId()));
    await crypto.setDeviceVerified(aliceId, alice1.getDeviceId());

    // The SDK turns key requests off by default; a client that wants them turns them on and retries.
    crypto.getOlmMachineOrThrow().roomKeyRequestsEnabled = true;
    const failed = requesting.getRoom(roomId).getLiveTimeline().getEvents().filter((event) => event.isDecryptionFailure());
    assert.ok(failed.length > 0, "the new device could decrypt the old messages before any key was forwarded");
    await Promise.all(failed.map((event) => event.attemptDecryption(crypto, { isRetry: true })));
    await crypto.outgoingRequestsManager.doProcessOutgoingRequests();
    await expectDecrypted(requesting, roomId, sent);
    // The keys can only have come forwarded: the device asked for them and never had the backup's key.
    const asked = requesting.testDevice.requests.filter((request) => request.startsWith("PUT /_matrix/client/v3/sendToDevice/m.room_key_request/"));
    assert.ok(asked.length > 0, `the new device sent no m.room_key_request: ${JSON.stringify(requesting.testDevice.requests)}`);
    assert.equal(await crypto.getSessionBackupPrivateKey(), null, "the new device holds the backup key");
    assert.ok(!requesting.testDevice.requests.some((request) => request.includes("/room_keys/keys")),
      "the new device read the key backup");
    return requesting;
  });

  await step("the later devices speak: bob learns of them and every device decrypts them", async () => {
    await send(restoring, "the restored device speaks");
    await send(requesting, "the device with forwarded keys speaks");
    await send(bob, "bob welcomes them");
    for (const client of [...everyDevice, restoring, requesting]) await expectDecrypted(client, roomId, sent);
  });

  await step("alice deletes a device: bob's client forgets it and rotates his megolm session", async () => {
    const gone = requesting.getDeviceId();
    requesting.stopClient();
    await alice1.deleteDevice(gone).catch(async (error) => {
      if (error.httpStatus !== 401 || !error.data?.flows) throw error;
      await alice1.deleteDevice(gone, {
        type: "m.login.password", identifier: { type: "m.id.user", user: aliceId }, password, session: error.data.session,
      });
    });
    await eventuallyAsync("bob's client to drop alice's deleted device", async () =>
      !(await bob.getCrypto().getUserDeviceInfo([aliceId])).get(aliceId)?.has(gone));
    await eventuallyAsync("alice's first device to drop her deleted device", async () =>
      !(await alice1.getCrypto().getUserDeviceInfo([aliceId])).get(aliceId)?.has(gone));
    await send(bob, "bob after the deletion");
    await send(alice1, "alice after the deletion");
    const sessionOf = (body) => alice1.getRoom(roomId).getLiveTimeline().getEvents()
      .find((event) => event.getContent().body === body)?.getWireContent().session_id;
    await eventually("alice's first device to have bob's message after the deletion", () => sessionOf("bob after the deletion"));
    assert.notEqual(sessionOf("bob after the deletion"), sessionOf("bob welcomes them"),
      "bob's client kept its megolm session although a device it was shared with was deleted");
    for (const client of [...everyDevice, restoring]) await expectDecrypted(client, roomId, sent);
  });
});

async function eventuallyAsync(what, check, timeoutMs = 20000, detail = () => "") {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}${detail()}${refusedRequestsSummary()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
