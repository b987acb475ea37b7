using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using HomeServer.Grains.Events;
using HomeServer.Grains.Rooms;
using static HomeServer.Grains.Tests.Rooms.RoomTestEvents;

namespace HomeServer.Grains.Tests.Rooms;

public class StoredEventJsonTests
{
    private static JsonElement Parse(byte[] json) => JsonDocument.Parse(json).RootElement.Clone();

    [Fact]
    public void Extras_go_into_unsigned_keeping_canonical_order_and_the_event_id_unchanged()
    {
        var builder = PublicRoom();
        var sent = builder.Add(Message(Alice, "hi") with { Transaction = new ClientTransactionInfo("DEV", "txn1") });

        var stored = builder.Events[^1].Row.Json;
        Assert.Equal(CanonicalJson.Encode(Parse(stored)), stored);
        Assert.Equal("DEV", sent.Json.GetProperty("unsigned").GetProperty("hs.transaction").GetProperty("device_id").GetString());
        var withoutUnsigned = JsonObject.Create(Parse(stored))!;
        withoutUnsigned.Remove("unsigned");
        Assert.Equal(sent.EventId, EventHashing.ComputeEventId(builder.Version, withoutUnsigned));
    }

    [Fact]
    public void Clients_see_client_fields_and_the_transaction_id_only_on_the_sending_device()
    {
        var builder = PublicRoom();
        var sent = builder.Add(Message(Alice, "hi") with { Transaction = new ClientTransactionInfo("DEV", "txn1") });

        var own = Parse(ClientEventWriter.WriteOne(sent, ClientEventOptions.For(new Reader(Alice, "DEV"))));
        var otherDevice = Parse(ClientEventWriter.WriteOne(sent, ClientEventOptions.For(new Reader(Alice, "OTHER"))));
        var shared = Parse(ClientEventWriter.WriteOne(sent, ClientEventOptions.Shared));

        Assert.Equal("txn1", own.GetProperty("unsigned").GetProperty("transaction_id").GetString());
        Assert.True(own.GetProperty("unsigned").GetProperty("age").GetInt64() >= 0);
        Assert.Equal(["age"], otherDevice.GetProperty("unsigned").EnumerateObject().Select(p => p.Name));
        Assert.False(shared.TryGetProperty("unsigned", out _));
        Assert.Equal(["content", "origin_server_ts", "room_id", "sender", "type", "event_id"], shared.EnumerateObject().Select(p => p.Name));
        Assert.Equal(sent.EventId.Value, shared.GetProperty("event_id").GetString());
    }

    [Fact]
    public void Prev_content_is_dropped_before_the_event_would_exceed_the_size_limit()
    {
        var canonical = Encoding.UTF8.GetBytes("{\"content\":{\"body\":\"" + new string('x', 65_000) + "\"},\"type\":\"t\"}");
        var big = JsonDocument.Parse("{\"body\":\"" + new string('y', 60_000) + "\"}").RootElement;

        var stored = StoredEventJson.Compose(canonical, new StoredExtras(ReplacesState: "$previous", PrevContent: big, PrevSender: "@a:t"));

        var unsigned = Parse(stored).GetProperty("unsigned");
        Assert.Equal("$previous", unsigned.GetProperty("replaces_state").GetString());
        Assert.False(unsigned.TryGetProperty("prev_content", out _));
        Assert.True(stored.Length <= EventBuilder.MaxEventBytes);
        var full = StoredEventJson.Compose("{\"type\":\"t\"}"u8.ToArray(), new StoredExtras(ReplacesState: "$p", PrevContent: big));
        Assert.True(Parse(full).GetProperty("unsigned").TryGetProperty("prev_content", out _));

        var tooLarge = Encoding.UTF8.GetBytes("{\"content\":{\"body\":\"" + new string('x', 65_500) + "\"},\"type\":\"t\"}");
        Assert.Equal("M_TOO_LARGE", Assert.Throws<MatrixRequestException>(() =>
            StoredEventJson.Compose(tooLarge, new StoredExtras(ReplacesState: "$previous-event-with-a-long-identifier"))).ErrCode);
    }
}
