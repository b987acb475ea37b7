using System.Text.Json;
using System.Text.Json.Nodes;
using HomeServer.Grains.Identifiers;

namespace HomeServer.Grains.Accounts;

/// <summary>Room tags: the <c>m.tag</c> room account data, changed one tag at a time within the grain's turn.</summary>
public sealed partial class UserGrain
{
    private const string TagType = "m.tag";

    public async Task<byte[]> GetRoomTagsAsync(string roomId)
    {
        var tags = await ReadTagsAsync(roomId);
        return JsonSerializer.SerializeToUtf8Bytes(new JsonObject { ["tags"] = tags });
    }

    public async Task SetRoomTagAsync(string roomId, string tag, byte[] content)
    {
        RequireActiveAccount();
        RequireTagName(tag);
        var tagContent = JsonNode.Parse(content) as JsonObject ?? throw MatrixRequestException.BadJson("The tag content must be a JSON object.");
        if (tagContent["order"] is { } order
            && (order.GetValueKind() != JsonValueKind.Number || !order.AsValue().TryGetValue<double>(out var position) || position is < 0 or > 1))
            throw MatrixRequestException.InvalidParam("order must be a number between 0 and 1.");
        var tags = await ReadTagsAsync(roomId);
        tags[tag] = tagContent;
        await SetAccountDataAsync(roomId, TagType, JsonSerializer.SerializeToUtf8Bytes(new JsonObject { ["tags"] = tags }));
    }

    public async Task DeleteRoomTagAsync(string roomId, string tag)
    {
        RequireActiveAccount();
        RequireTagName(tag);
        var tags = await ReadTagsAsync(roomId);
        // Removing a tag the room does not have succeeds without a write, as removing twice should.
        if (!tags.Remove(tag)) return;
        await SetAccountDataAsync(roomId, TagType, JsonSerializer.SerializeToUtf8Bytes(new JsonObject { ["tags"] = tags }));
    }

    private async Task<JsonObject> ReadTagsAsync(string roomId)
    {
        if (!RoomId.IsValid(roomId)) throw MatrixRequestException.InvalidParam($"{roomId} is not a valid room ID.");
        var stored = await GetAccountDataAsync(roomId, TagType);
        if (stored is null) return [];
        return JsonNode.Parse(stored) is JsonObject { } content && content["tags"] is JsonObject tags ? (JsonObject)tags.DeepClone() : [];
    }

    private static void RequireTagName(string tag)
    {
        if (!AccountInput.IsIdentifier(tag))
            throw MatrixRequestException.InvalidParam("A tag must be 1 to 255 bytes of UTF-8 without NUL characters.");
    }
}
