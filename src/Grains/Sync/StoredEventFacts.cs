using System.Text.Json;
using HomeServer.Grains.Serialization;
using HomeServer.Storage;

namespace HomeServer.Grains.Sync;

/// <summary>The few properties of stored event JSON that sync needs beyond the stored columns.</summary>
internal static class StoredEventFacts
{
    /// <summary>The membership before this member event, when the room recorded it (<c>unsigned.prev_content.membership</c>).</summary>
    public static string? PreviousMembership(StoredEvent memberEvent)
    {
        using var document = JsonDocument.Parse(memberEvent.Json, StoredJson.DocumentOptions);
        return document.RootElement.TryGetProperty("unsigned", out var unsigned) && unsigned.ValueKind == JsonValueKind.Object
            && unsigned.TryGetProperty("prev_content", out var previous) && previous.ValueKind == JsonValueKind.Object
            && previous.TryGetProperty("membership", out var membership) && membership.ValueKind == JsonValueKind.String
                ? membership.GetString()
                : null;
    }

    /// <summary>The state event this one replaced, when the room recorded it (<c>unsigned.replaces_state</c>).</summary>
    public static string? ReplacesState(StoredEvent stateEvent)
    {
        using var document = JsonDocument.Parse(stateEvent.Json, StoredJson.DocumentOptions);
        return document.RootElement.TryGetProperty("unsigned", out var unsigned) && unsigned.ValueKind == JsonValueKind.Object
            && unsigned.TryGetProperty("replaces_state", out var replaces) && replaces.ValueKind == JsonValueKind.String
                ? replaces.GetString()
                : null;
    }

    /// <summary>Whether state resolution changed other slots with this event (<c>unsigned.hs.resolved_state</c>, docs/adr/0041).</summary>
    public static bool ResolvesOtherState(ReadOnlySpan<byte> storedJson) =>
        storedJson.IndexOf("\"hs.resolved_state\""u8) >= 0;

    /// <summary>The (type, state key) slots state resolution changed with this event; empty for nearly every event.</summary>
    public static IReadOnlyList<(string Type, string StateKey)> ResolvedSlots(StoredEvent storedEvent)
    {
        if (!ResolvesOtherState(storedEvent.Json)) return [];
        using var document = JsonDocument.Parse(storedEvent.Json, StoredJson.DocumentOptions);
        if (!document.RootElement.TryGetProperty("unsigned", out var unsigned) || unsigned.ValueKind != JsonValueKind.Object
            || !unsigned.TryGetProperty("hs.resolved_state", out var slots) || slots.ValueKind != JsonValueKind.Array) return [];
        return slots.EnumerateArray()
            .Where(slot => slot.ValueKind == JsonValueKind.Array && slot.GetArrayLength() == 2)
            .Select(slot => (slot[0].GetString()!, slot[1].GetString()!))
            .ToList();
    }

    public static bool ContentHasUrl(StoredEvent storedEvent)
    {
        using var document = JsonDocument.Parse(storedEvent.Json, StoredJson.DocumentOptions);
        return document.RootElement.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.Object
            && content.TryGetProperty("url", out _);
    }

    /// <summary>content.name, content.alias or similar string of a state event; null when absent or empty.</summary>
    public static string? ContentString(StoredEvent storedEvent, string property)
    {
        using var document = JsonDocument.Parse(storedEvent.Json, StoredJson.DocumentOptions);
        return document.RootElement.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.Object
            && content.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String
            && value.GetString() is { Length: > 0 } text
                ? text
                : null;
    }
}
