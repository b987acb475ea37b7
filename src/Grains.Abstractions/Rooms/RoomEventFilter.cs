using Orleans;

namespace HomeServer.Grains.Rooms;

/// <summary>
/// The parts of a RoomEventFilter that apply to one room's timeline. In type patterns <c>*</c> matches any
/// sequence of characters; an exclusion wins over an inclusion.
/// </summary>
[GenerateSerializer, Alias("hs.RoomEventFilter")]
public sealed record RoomEventFilter
{
    [Id(0)]
    public IReadOnlyList<string>? Types { get; init; }

    [Id(1)]
    public IReadOnlyList<string>? NotTypes { get; init; }

    [Id(2)]
    public IReadOnlyList<string>? Senders { get; init; }

    [Id(3)]
    public IReadOnlyList<string>? NotSenders { get; init; }

    /// <summary>True: only events whose content has a <c>url</c>; false: only events without; null: either.</summary>
    [Id(4)]
    public bool? ContainsUrl { get; init; }

    [Id(5)]
    public bool LazyLoadMembers { get; init; }

    [Id(6)]
    public bool IncludeRedundantMembers { get; init; }

    public bool Matches(string type, string sender, bool hasUrl)
    {
        if (NotTypes is not null && NotTypes.Any(pattern => TypePatternMatches(pattern, type))) return false;
        if (Types is not null && !Types.Any(pattern => TypePatternMatches(pattern, type))) return false;
        if (NotSenders is not null && NotSenders.Contains(sender)) return false;
        if (Senders is not null && !Senders.Contains(sender)) return false;
        return ContainsUrl is not { } wanted || wanted == hasUrl;
    }

    public static bool TypePatternMatches(string pattern, string type) =>
        pattern.Contains('*') ? GlobMatches(pattern, type) : pattern == type;

    // Iterative glob with backtracking to the last '*': linear in practice, no regex to build per pattern.
    private static bool GlobMatches(string pattern, string text)
    {
        int p = 0, t = 0, star = -1, starText = 0;
        while (t < text.Length)
        {
            if (p < pattern.Length && pattern[p] == '*')
            {
                star = p++;
                starText = t;
            }
            else if (p < pattern.Length && pattern[p] == text[t])
            {
                p++;
                t++;
            }
            else if (star >= 0)
            {
                p = star + 1;
                t = ++starText;
            }
            else
            {
                return false;
            }
        }
        while (p < pattern.Length && pattern[p] == '*') p++;
        return p == pattern.Length;
    }
}
