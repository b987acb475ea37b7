using System.Text;
using System.Text.Json;

namespace HomeServer.Storage.Tests.Conformance;

public static class TestEvents
{
    public static byte[] Json(object value) => JsonSerializer.SerializeToUtf8Bytes(value);

    public static byte[] Utf8(string json) => Encoding.UTF8.GetBytes(json);

    public static NewEvent Message(string eventId, string sender = "@alice:test", string body = "hello", long ts = 2_000) =>
        new(eventId, "m.room.message", null, sender, ts,
            Json(new { type = "m.room.message", sender, content = new { msgtype = "m.text", body } }));

    public static NewEvent State(string eventId, string type, string stateKey, object content, string sender = "@alice:test") =>
        new(eventId, type, stateKey, sender, 2_000, Json(new { type, state_key = stateKey, sender, content }));

    public static NewEvent Member(string eventId, string userId, string membership, string? sender = null) =>
        State(eventId, "m.room.member", userId, new { membership }, sender ?? userId) with { Membership = membership };
}
