using System.Text.Json;
using HomeServer.Grains.Identifiers;

namespace HomeServer.Grains.ThirdPartyInvites;

/// <summary>Which server built an invite made from a third-party invite, whose sender's server need not sign it.</summary>
public static class ThirdPartyInviteOrigin
{
    /// <summary>
    /// True for an invite with <c>third_party_invite</c> signed by <paramref name="server"/> and not by its sender's
    /// server: <paramref name="server"/> built it from the identity server's proof, so it alone can send it on.
    /// </summary>
    public static bool IsBuiltBy(byte[] eventJson, string server)
    {
        using var document = JsonDocument.Parse(eventJson);
        var pdu = document.RootElement;
        if (!pdu.TryGetProperty("content", out var content) || content.ValueKind != JsonValueKind.Object
            || !content.TryGetProperty("third_party_invite", out _)
            || !pdu.TryGetProperty("sender", out var sender) || !UserId.TryParse(sender.GetString(), out var senderId)
            || !pdu.TryGetProperty("signatures", out var signatures) || signatures.ValueKind != JsonValueKind.Object)
            return false;
        return signatures.TryGetProperty(server, out _) && !signatures.TryGetProperty(senderId.Server.ToString(), out _);
    }
}
