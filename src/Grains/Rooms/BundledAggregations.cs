using System.Text.Json;
using HomeServer.Grains.Events;
using HomeServer.Storage;

namespace HomeServer.Grains.Rooms;

/// <summary>
/// The relation of an event to its parent as the store records it: <c>content.m.relates_to</c> with a string
/// <c>rel_type</c> and <c>event_id</c> (a reply's <c>m.in_reply_to</c> alone is no relation).
/// </summary>
internal static class Relations
{
    public const string Thread = "m.thread";
    public const string Replace = "m.replace";
    public const string Reference = "m.reference";

    public static EventRelation? Of(Pdu pdu)
    {
        if (pdu.Type == EventTypes.Redaction
            || !pdu.Content.TryGetProperty("m.relates_to", out var relatesTo) || relatesTo.ValueKind != JsonValueKind.Object
            || !relatesTo.TryGetProperty("rel_type", out var relType) || relType.ValueKind != JsonValueKind.String
            || !relatesTo.TryGetProperty("event_id", out var parent) || parent.ValueKind != JsonValueKind.String)
            return null;
        var parentId = parent.GetString()!;
        var type = relType.GetString()!;
        return Identifiers.EventId.IsValid(parentId) && type.Length is > 0 and <= 255 ? new EventRelation(parentId, type) : null;
    }
}

/// <summary>
/// The server-side aggregations bundled into <c>unsigned.m.relations</c> of the events of one response, for one reader:
/// the thread summary (<c>m.thread</c>), the most recent edit (<c>m.replace</c>, the whole edit event; the original's
/// content is served unchanged, as the spec asks since v1.7) and the references (<c>m.reference</c>). Annotations are
/// not bundled: the spec leaves them to clients. Loaded with one store read for a page without relations.
/// </summary>
internal sealed class BundledAggregations
{
    public static BundledAggregations None { get; } = new(new Dictionary<string, RelationAggregation>(), "");

    private readonly IReadOnlyDictionary<string, RelationAggregation> _byParent;
    private readonly string _userId;

    private BundledAggregations(IReadOnlyDictionary<string, RelationAggregation> byParent, string userId)
    {
        _byParent = byParent;
        _userId = userId;
    }

    public static async Task<BundledAggregations> LoadAsync(IHomeServerStore store, string roomId, string userId, IEnumerable<Pdu> events)
    {
        var ids = events.Where(e => !e.IsState).Select(e => e.EventId.Value).Distinct().ToList();
        if (ids.Count == 0) return None;
        var found = await store.Relations.GetAggregationsAsync(roomId, ids, userId, CancellationToken.None);
        // A thread's latest event comes with its own aggregations (its latest edit above all).
        var latest = found.Values.Select(a => a.LatestThreadEvent?.EventId).OfType<string>().Where(id => !found.ContainsKey(id)).ToList();
        if (latest.Count == 0) return found.Count == 0 ? None : new BundledAggregations(found, userId);
        var nested = await store.Relations.GetAggregationsAsync(roomId, latest, userId, CancellationToken.None);
        var all = new Dictionary<string, RelationAggregation>(found);
        foreach (var (id, aggregation) in nested) all.TryAdd(id, aggregation);
        return new BundledAggregations(all, userId);
    }

    /// <summary>Whether the event has anything to bundle.</summary>
    public bool Has(Pdu pdu, JsonElement storedUnsigned) =>
        _byParent.TryGetValue(pdu.EventId.Value, out var aggregation)
        && (HasThread(aggregation) || EditOf(aggregation, storedUnsigned) is not null || aggregation.References.Count > 0);

    private static bool HasThread(RelationAggregation aggregation) => aggregation is { ThreadCount: > 0, LatestThreadEvent: not null };

    /// <summary>The spec bundles no edit with a redacted original.</summary>
    private static StoredEvent? EditOf(RelationAggregation aggregation, JsonElement storedUnsigned) =>
        storedUnsigned.ValueKind == JsonValueKind.Object && storedUnsigned.TryGetProperty("redacted_because", out _) ? null : aggregation.LatestEdit;

    /// <summary>Writes <c>"m.relations": {...}</c>; only for an event <see cref="Has"/> accepts.</summary>
    public void Write(Utf8JsonWriter writer, Pdu pdu, JsonElement storedUnsigned, ClientEventOptions options)
    {
        var aggregation = _byParent[pdu.EventId.Value];
        var edit = EditOf(aggregation, storedUnsigned);
        var thread = HasThread(aggregation);

        writer.WriteStartObject("m.relations");
        if (thread)
        {
            writer.WriteStartObject(Relations.Thread);
            writer.WritePropertyName("latest_event");
            ClientEventWriter.Write(writer, ToPdu(aggregation.LatestThreadEvent!), options);
            writer.WriteNumber("count", aggregation.ThreadCount);
            writer.WriteBoolean("current_user_participated", aggregation.UserRepliedInThread || pdu.Sender.Value == _userId);
            writer.WriteEndObject();
        }
        if (edit is not null)
        {
            writer.WritePropertyName(Relations.Replace);
            ClientEventWriter.Write(writer, ToPdu(edit), options);
        }
        if (aggregation.References.Count > 0)
        {
            writer.WriteStartObject(Relations.Reference);
            writer.WriteStartArray("chunk");
            foreach (var id in aggregation.References)
            {
                writer.WriteStartObject();
                writer.WriteString("event_id", id);
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
            writer.WriteEndObject();
        }
        writer.WriteEndObject();
    }

    /// <summary>
    /// The stored event with its aggregations added to <c>unsigned</c>, for the /sync paths that serve stored JSON as it
    /// is (the writer keeps every public key of <c>unsigned</c>); the event itself when it has none.
    /// </summary>
    public StoredEvent AddTo(StoredEvent stored)
    {
        if (!_byParent.ContainsKey(stored.EventId)) return stored;
        var pdu = ToPdu(stored);
        var hasStored = pdu.Json.TryGetProperty("unsigned", out var unsigned) && unsigned.ValueKind == JsonValueKind.Object;
        if (!Has(pdu, hasStored ? unsigned : default)) return stored;
        var options = ClientEventOptions.SharedForSync with { Aggregations = this };
        var json = JsonOutput.Write(writer =>
        {
            writer.WriteStartObject();
            foreach (var property in pdu.Json.EnumerateObject())
            {
                if (property.Name != "unsigned") property.WriteTo(writer);
            }
            writer.WriteStartObject("unsigned");
            if (hasStored)
            {
                foreach (var property in unsigned.EnumerateObject()) property.WriteTo(writer);
            }
            Write(writer, pdu, unsigned, options);
            writer.WriteEndObject();
            writer.WriteEndObject();
        });
        return stored with { Json = json };
    }

    private static Pdu ToPdu(StoredEvent stored) => Pdu.Parse(Identifiers.EventId.Parse(stored.EventId), stored.Json);
}
