using System.Globalization;

namespace HomeServer.Grains.Sync;

/// <summary>
/// A since / next_batch token: <c>s{events}_{accountData}_{receipts}_{typingEpoch}.{typingSequence}</c>, e.g.
/// <c>s1042_17_96_1839201.4</c>. The first three are positions of the store's three durable streams (every change up
/// to them has been delivered), so a token stays valid across restarts and grain moves.
/// Typing is not persisted: each room keeps its typing set in memory with a serial of its own, so there is no single
/// durable typing position to put in a token. Instead each sync grain activation numbers the typing changes it is
/// told about (the sequence) and names itself with a random epoch. A token of the same activation asks exactly for
/// the rooms whose typing changed after its sequence; a token of another activation (after a restart or move) gets
/// the typing of every room this activation knows, so a client never misses a change made while it was connected
/// to this activation, at the price of repeating some typing lists (which replace, not add, on the client).
/// A fifth part, present when not empty, lists the events above <see cref="Events"/> the client already received from
/// the rooms' shared fragments (<see cref="DeliveredEvents"/>), e.g. <c>s1042_17_96_1839201.4_3.1</c> for 1045 and 1046.
/// Tagged last parts, each present when not 0, carry the positions of the presence (<c>p</c>), device-list (<c>d</c>)
/// and to-device (<c>t</c>) streams.
/// </summary>
public sealed record SyncToken(long Events, long AccountData, long Receipts, int TypingEpoch, long TypingSequence)
{
    /// <summary>Events above <see cref="Events"/> the client already has; a store read skips them.</summary>
    public DeliveredEvents Delivered { get; init; } = DeliveredEvents.None;

    /// <summary>
    /// The presence stream's position: every presence change up to it has been delivered. Written as a tagged last part
    /// <c>_p{position}</c> when not 0, so tokens issued before presence existed still parse (as position 0: the next
    /// response then carries the current presence of everyone the user shares a room with).
    /// </summary>
    public long Presence { get; init; }

    /// <summary>The device-list change stream's position (tagged part <c>_d{position}</c>, omitted when 0).</summary>
    public long DeviceLists { get; init; }

    /// <summary>The to-device message stream's position (tagged part <c>_t{position}</c>, omitted when 0).</summary>
    public long ToDevice { get; init; }

    /// <summary>The tagged stream positions after the fixed parts, in the order they are written.</summary>
    private static readonly char[] Tags = ['p', 'd', 't'];

    public override string ToString()
    {
        var token = Delivered.Count == 0
            ? string.Create(CultureInfo.InvariantCulture, $"s{Events}_{AccountData}_{Receipts}_{TypingEpoch}.{TypingSequence}")
            : string.Create(CultureInfo.InvariantCulture, $"s{Events}_{AccountData}_{Receipts}_{TypingEpoch}.{TypingSequence}_{Delivered.Format(Events)}");
        if (Presence != 0) token += string.Create(CultureInfo.InvariantCulture, $"_p{Presence}");
        if (DeviceLists != 0) token += string.Create(CultureInfo.InvariantCulture, $"_d{DeviceLists}");
        if (ToDevice != 0) token += string.Create(CultureInfo.InvariantCulture, $"_t{ToDevice}");
        return token;
    }

    /// <summary>The token, or null when <paramref name="value"/> is not one this server issues.</summary>
    public static SyncToken? TryParse(string? value)
    {
        if (value is null || value.Length is < 9 or > 1000 || value[0] != 's') return null;
        var parts = value[1..].Split('_');
        // Tagged parts come last, each at most once and in the order of Tags, never 0 (0 is written by leaving it out).
        var tagged = new long[Tags.Length];
        var fixedParts = parts.Length;
        var nextTag = Tags.Length;
        while (fixedParts > 1 && parts[fixedParts - 1] is [var tag, ..] && Array.IndexOf(Tags, tag) is var index and >= 0)
        {
            if (index >= nextTag || !TryParseNumber(parts[fixedParts - 1][1..], out var position) || position == 0) return null;
            tagged[index] = position;
            nextTag = index;
            fixedParts--;
        }
        parts = parts[..fixedParts];
        if (parts.Length is not (4 or 5)) return null;
        var typing = parts[3].Split('.');
        if (typing.Length != 2) return null;
        if (!TryParseNumber(parts[0], out var events)
            || !TryParseNumber(parts[1], out var accountData)
            || !TryParseNumber(parts[2], out var receipts)
            || !TryParseNumber(typing[0], out var epoch) || epoch > int.MaxValue
            || !TryParseNumber(typing[1], out var sequence))
        {
            return null;
        }
        var delivered = parts.Length == 5 ? DeliveredEvents.Parse(parts[4], events) : DeliveredEvents.None;
        return delivered is null
            ? null
            : new SyncToken(events, accountData, receipts, (int)epoch, sequence)
            {
                Delivered = delivered, Presence = tagged[0], DeviceLists = tagged[1], ToDevice = tagged[2],
            };
    }

    private static bool TryParseNumber(string text, out long value)
    {
        value = 0;
        // Digits only: no sign, no whitespace, no leading zeros, so every position has exactly one spelling.
        if (text.Length == 0 || text.Length > 18 || (text.Length > 1 && text[0] == '0')) return false;
        foreach (var c in text)
        {
            if (c is < '0' or > '9') return false;
        }
        value = long.Parse(text, NumberStyles.None, CultureInfo.InvariantCulture);
        return true;
    }
}
