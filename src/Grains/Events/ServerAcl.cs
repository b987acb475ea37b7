using System.Text.Json;
using System.Text.RegularExpressions;
using HomeServer.Grains.PushRules;

namespace HomeServer.Grains.Events;

/// <summary>
/// A room's server access control list (<c>m.room.server_acl</c>), applied to the server that makes a federation request
/// about the room, in the spec's order: no ACL allows; an IP literal is denied when <c>allow_ip_literals</c> is
/// <c>false</c>; a <c>deny</c> match denies; an <c>allow</c> match allows; anything else is denied. Patterns are
/// case-insensitive globs matched against the server name without its port. Entries that are not strings are ignored.
/// </summary>
public static partial class ServerAcl
{
    public const string EventType = "m.room.server_acl";

    private static readonly StateEventKey Key = new(EventType, "");

    public static bool Allows(IReadOnlyDictionary<StateEventKey, Pdu> state, string serverName) =>
        state.Get(Key) is not { } acl || Allows(acl.Content, serverName);

    public static bool Allows(JsonElement content, string serverName)
    {
        if (content.ValueKind != JsonValueKind.Object) return false;
        var host = HostOf(serverName);
        if (IsIpLiteral(host) && content.TryGetProperty("allow_ip_literals", out var literals) && literals.ValueKind == JsonValueKind.False)
            return false;
        if (Patterns(content, "deny").Any(pattern => Glob.Of(pattern).MatchesWhole(host))) return false;
        return Patterns(content, "allow").Any(pattern => Glob.Of(pattern).MatchesWhole(host));
    }

    /// <summary>The host of a server name: an IPv6 literal keeps its brackets, a port is dropped.</summary>
    public static string HostOf(string serverName)
    {
        if (serverName.StartsWith('['))
        {
            var close = serverName.IndexOf(']');
            return close < 0 ? serverName : serverName[..(close + 1)];
        }
        var colon = serverName.IndexOf(':');
        return colon < 0 ? serverName : serverName[..colon];
    }

    private static bool IsIpLiteral(string host) => host.StartsWith('[') || Ipv4Literal().IsMatch(host);

    private static IEnumerable<string> Patterns(JsonElement content, string property) =>
        content.TryGetProperty(property, out var list) && list.ValueKind == JsonValueKind.Array
            ? list.EnumerateArray().Where(entry => entry.ValueKind == JsonValueKind.String).Select(entry => entry.GetString()!)
            : [];

    [GeneratedRegex(@"^[0-9]{1,3}(\.[0-9]{1,3}){3}$")]
    private static partial Regex Ipv4Literal();
}
