using System.Buffers.Text;
using System.Globalization;
using System.Text;
using HomeServer.Storage;

namespace HomeServer.Grains.Search;

/// <summary>
/// The <c>next_batch</c> of a search: where the previous page stopped in the order it used, and the group (a room or a
/// sender) it was restricted to, if any. Opaque to clients (base64url).
/// </summary>
internal sealed record SearchBatchToken(EventSearchOrder Order, EventSearchCursor Cursor, string? GroupKey, string? GroupValue)
{
    private const string Version = "s1";

    public string Format()
    {
        var text = string.Join('|', Version, Order == EventSearchOrder.Rank ? "rank" : "recent",
            Cursor.Rank.ToString("R", CultureInfo.InvariantCulture), Cursor.GlobalPosition.ToString(CultureInfo.InvariantCulture),
            GroupKey ?? "", GroupValue ?? "");
        return Base64Url.EncodeToString(Encoding.UTF8.GetBytes(text));
    }

    public static bool TryParse(string value, out SearchBatchToken token)
    {
        token = null!;
        byte[] bytes;
        try
        {
            bytes = Base64Url.DecodeFromChars(value);
        }
        catch (FormatException)
        {
            return false;
        }
        string text;
        try
        {
            text = new UTF8Encoding(false, true).GetString(bytes);
        }
        catch (ArgumentException)
        {
            return false;
        }
        var parts = text.Split('|', 6);
        if (parts.Length != 6 || parts[0] != Version) return false;
        EventSearchOrder order;
        if (parts[1] == "rank") order = EventSearchOrder.Rank;
        else if (parts[1] == "recent") order = EventSearchOrder.Recent;
        else return false;
        if (!double.TryParse(parts[2], NumberStyles.Float, CultureInfo.InvariantCulture, out var rank) || !double.IsFinite(rank)) return false;
        if (!long.TryParse(parts[3], NumberStyles.None, CultureInfo.InvariantCulture, out var position)) return false;
        var (groupKey, groupValue) = (parts[4], parts[5]);
        if (groupKey is not ("" or SearchGroups.RoomId or SearchGroups.Sender) || (groupKey == "") != (groupValue == "")) return false;
        token = new SearchBatchToken(order, new EventSearchCursor(rank, position), groupKey == "" ? null : groupKey, groupValue == "" ? null : groupValue);
        return true;
    }
}
