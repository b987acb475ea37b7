using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using HomeServer.Grains.Events;

namespace HomeServer.Grains.Rooms;

/// <param name="Viewer">The reader; their own events sent from this device carry <c>unsigned.transaction_id</c>.</param>
/// <param name="NowMs">When set, <c>unsigned.age</c> is computed against it.</param>
internal sealed record ClientEventOptions(Reader? Viewer, long? NowMs)
{
    /// <summary>For bytes shared by every reader: no age, no transaction id.</summary>
    public static ClientEventOptions Shared { get; } = new(null, null);

    /// <summary>Shared bytes for /sync, whose events leave out the room_id the enclosing room already names.</summary>
    public static ClientEventOptions SharedForSync { get; } = new(null, null) { IncludeRoomId = false };

    public bool IncludeRoomId { get; init; } = true;

    /// <summary>The aggregations to bundle into <c>unsigned.m.relations</c>; none when not set.</summary>
    public BundledAggregations Aggregations { get; init; } = BundledAggregations.None;

    public static ClientEventOptions For(Reader viewer) => new(viewer, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
}

/// <summary>
/// Writes stored events (federation format plus our <c>unsigned</c> extras, see <see cref="StoredEventJson"/>) in
/// the ClientEvent format: only the client fields, <c>event_id</c> added, private extras removed.
/// </summary>
internal static class ClientEventWriter
{
    public static void Write(Utf8JsonWriter writer, Pdu pdu, ClientEventOptions options)
    {
        var json = pdu.Json;
        writer.WriteStartObject();
        foreach (var property in json.EnumerateObject())
        {
            switch (property.Name)
            {
                case "content" or "origin_server_ts" or "sender" or "state_key" or "type" or "redacts":
                case "room_id" when options.IncludeRoomId:
                    property.WriteTo(writer);
                    break;
            }
        }
        writer.WriteString("event_id", pdu.EventId.Value);
        WriteUnsigned(writer, pdu, json, options);
        writer.WriteEndObject();
    }

    public static byte[] WriteOne(Pdu pdu, ClientEventOptions options) =>
        JsonOutput.Write(writer => Write(writer, pdu, options));

    public static byte[] WriteArray(IEnumerable<Pdu> events, ClientEventOptions options) =>
        JsonOutput.Write(writer =>
        {
            writer.WriteStartArray();
            foreach (var pdu in events) Write(writer, pdu, options);
            writer.WriteEndArray();
        });

    private static void WriteUnsigned(Utf8JsonWriter writer, Pdu pdu, JsonElement json, ClientEventOptions options)
    {
        var hasStored = json.TryGetProperty("unsigned", out var stored) && stored.ValueKind == JsonValueKind.Object;
        var age = options.NowMs is { } now && json.TryGetProperty("origin_server_ts", out var ts) && ts.TryGetInt64(out var sent)
            ? Math.Max(0, now - sent)
            : (long?)null;
        var transactionId = options.Viewer is { } viewer && hasStored ? StoredEventJson.TransactionIdFor(json, stored, viewer) : null;
        var hasPublic = hasStored && stored.EnumerateObject().Any(property => !StoredEventJson.IsPrivateKey(property.Name));
        var hasBundled = options.Aggregations.Has(pdu, hasStored ? stored : default);
        if (!hasPublic && age is null && transactionId is null && !hasBundled) return;

        writer.WriteStartObject("unsigned");
        if (age is { } value) writer.WriteNumber("age", value);
        if (transactionId is not null) writer.WriteString("transaction_id", transactionId);
        if (hasPublic)
        {
            foreach (var property in stored.EnumerateObject())
            {
                if (!StoredEventJson.IsPrivateKey(property.Name)) property.WriteTo(writer);
            }
        }
        if (hasBundled) options.Aggregations.Write(writer, pdu, stored, options);
        writer.WriteEndObject();
    }
}

/// <summary>Builds JSON bodies with a Utf8JsonWriter into a right-sized array.</summary>
internal static class JsonOutput
{
    // Event text is mostly not ASCII in many rooms; the default encoder would escape every such character.
    private static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static byte[] Write(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var writer = new Utf8JsonWriter(buffer, Options))
        {
            write(writer);
        }
        return buffer.WrittenSpan.ToArray();
    }
}
