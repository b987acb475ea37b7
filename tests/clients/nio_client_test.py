#!/usr/bin/env python3
"""Drives two matrix-nio clients (Debian's python3-matrix-nio, which speaks the r0 API) against the server at
$HOMESERVER_BASE_URL: they register and log in, one creates a room and invites the other, who joins through its own
sync, they exchange messages both ways, read the history with room_messages, and upload and download a file
(/_matrix/media/r0). Exits 0 on success, 1 with a reason otherwise.
"""
import asyncio
import json
import os
import secrets
import sys
import urllib.request

from nio import (
    AsyncClient,
    DownloadResponse,
    JoinResponse,
    LoginResponse,
    RoomCreateResponse,
    RoomInviteResponse,
    RoomMessagesResponse,
    RoomMessageText,
    RoomSendResponse,
    SyncResponse,
    UploadResponse,
)

BASE_URL = os.environ["HOMESERVER_BASE_URL"].rstrip("/")
PASSWORD = "nio-" + secrets.token_hex(8)
TIMEOUT_SECONDS = 30


class Failure(Exception):
    pass


def expect(response, kind, what):
    if not isinstance(response, kind):
        raise Failure(f"{what}: expected {kind.__name__}, got {type(response).__name__}: {response}")
    return response


def register(localpart):
    """Registers through the r0 API with the two user-interactive steps (nio's own register skips the first)."""
    url = f"{BASE_URL}/_matrix/client/r0/register"

    def post(body):
        request = urllib.request.Request(url, json.dumps(body).encode(), {"Content-Type": "application/json"}, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
                return response.status, json.load(response)
        except urllib.error.HTTPError as error:
            return error.code, json.load(error)

    status, challenge = post({})
    if status != 401 or "session" not in challenge:
        raise Failure(f"register {localpart}: expected a 401 challenge, got {status} {challenge}")
    status, body = post({"username": localpart, "password": PASSWORD,
                         "auth": {"type": "m.login.dummy", "session": challenge["session"]}})
    if status != 200:
        raise Failure(f"register {localpart}: {status} {body}")
    return body["user_id"]


async def sync_until(client, since, found, what):
    """Syncs (long-polling) until found(response) is true."""
    deadline = asyncio.get_running_loop().time() + TIMEOUT_SECONDS
    while asyncio.get_running_loop().time() < deadline:
        response = expect(await client.sync(timeout=5_000, since=since), SyncResponse, f"{what}: sync")
        since = response.next_batch
        if found(response):
            return since
    raise Failure(f"{what}: not seen in sync within {TIMEOUT_SECONDS} s")


def texts(response, room_id):
    room = response.rooms.join.get(room_id)
    return [e.body for e in room.timeline.events if isinstance(e, RoomMessageText)] if room else []


async def upload_and_download(alice, bob):
    payload = b"a file from matrix-nio " + secrets.token_bytes(64)
    response, _ = await alice.upload(lambda *_: payload, content_type="application/octet-stream",
                                     filename="nio.bin", filesize=len(payload))
    if not isinstance(response, UploadResponse):
        raise Failure(f"upload: {response}")
    downloaded = expect(await bob.download(response.content_uri), DownloadResponse, "download")
    if downloaded.body != payload:
        raise Failure("download: the bytes differ from those uploaded")
    print("upload/download: ok")


async def main():
    suffix = secrets.token_hex(4)
    alice_id = register(f"nio-alice-{suffix}")
    bob_id = register(f"nio-bob-{suffix}")
    alice = AsyncClient(BASE_URL, alice_id)
    bob = AsyncClient(BASE_URL, bob_id)
    try:
        expect(await alice.login(PASSWORD, device_name="nio alice"), LoginResponse, "alice login")
        expect(await bob.login(PASSWORD, device_name="nio bob"), LoginResponse, "bob login")
        alice_since = expect(await alice.sync(timeout=0), SyncResponse, "alice first sync").next_batch
        bob_since = expect(await bob.sync(timeout=0), SyncResponse, "bob first sync").next_batch

        room_id = expect(await alice.room_create(name="nio room"), RoomCreateResponse, "create room").room_id
        expect(await alice.room_invite(room_id, bob_id), RoomInviteResponse, "invite")

        bob_since = await sync_until(bob, bob_since, lambda r: room_id in r.rooms.invite, "bob's invite")
        expect(await bob.join(room_id), JoinResponse, "bob joins")

        expect(await alice.room_send(room_id, "m.room.message", {"msgtype": "m.text", "body": "hello bob"}),
               RoomSendResponse, "alice sends")
        bob_since = await sync_until(bob, bob_since, lambda r: "hello bob" in texts(r, room_id), "alice's message at bob")
        expect(await bob.room_send(room_id, "m.room.message", {"msgtype": "m.text", "body": "hello alice"}),
               RoomSendResponse, "bob sends")
        alice_since = await sync_until(alice, alice_since, lambda r: "hello alice" in texts(r, room_id),
                                       "bob's message at alice")

        history = expect(await alice.room_messages(room_id, start=alice_since, limit=10), RoomMessagesResponse,
                         "room_messages")
        bodies = [e.body for e in history.chunk if isinstance(e, RoomMessageText)]
        if bodies[:2] != ["hello alice", "hello bob"]:
            raise Failure(f"room_messages: expected the two messages newest first, got {bodies}")
        print("login, room, invite, join, messages, room_messages: ok")

        await upload_and_download(alice, bob)
    finally:
        await alice.close()
        await bob.close()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except Failure as failure:
        print(f"FAILED {failure}", file=sys.stderr)
        sys.exit(1)
