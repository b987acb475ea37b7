using System.Text.Json;
using HomeServer.Grains.Identifiers;

namespace HomeServer.Grains.Events;

/// <summary>
/// Whether a redaction may take effect. Redactions pass the authorization rules like any message;
/// applying one additionally needs the redact level, or the redaction to come from the original sender.
/// </summary>
/// <remarks>
/// The spec's "handling redactions" accepts a sender from the same server as the original sender,
/// which is meant for remote servers vouching for their users. For events sent by local clients the
/// sender must be the same user, as in the client-server API.
/// </remarks>
public static class RedactionAuthorizer
{
    /// <summary>The redacted event's ID: top-level <c>redacts</c> in v10, <c>content.redacts</c> in v11.</summary>
    public static EventId? GetRedactedEventId(RoomVersion version, Pdu redaction)
    {
        var source = version.RedactsInContent ? redaction.Content : redaction.Json;
        return source.TryGetProperty("redacts", out var value)
               && value.ValueKind == JsonValueKind.String
               && EventId.TryParse(value.GetString(), out var eventId)
            ? eventId
            : null;
    }

    /// <param name="original">The redacted event when the caller has it; without it only the redact
    /// level can allow the redaction.</param>
    public static AuthResult Authorize(RoomVersion version, Pdu redaction, Pdu? original,
        IReadOnlyDictionary<StateEventKey, Pdu> state)
    {
        if (redaction.Type != EventTypes.Redaction)
            return AuthResult.Reject($"Not an {EventTypes.Redaction} event.");
        if (GetRedactedEventId(version, redaction) is not { } target)
            return AuthResult.Reject("The redaction does not name a valid event ID to redact.");
        if (original is not null)
        {
            if (original.EventId != target)
                return AuthResult.Reject("The given original event is not the one being redacted.");
            if (original.RoomId != redaction.RoomId)
                return AuthResult.Reject("The redacted event belongs to another room.");
        }

        var powerLevels = PowerLevels.FromState(version, state);
        var senderLevel = powerLevels.UserLevel(redaction.Sender.Value);
        if (senderLevel >= powerLevels.Redact)
            return AuthResult.Allow;
        if (original is not null && original.Sender == redaction.Sender)
            return AuthResult.Allow;
        return AuthResult.Reject(
            $"Redacting other users' events needs power level {powerLevels.Redact}; the sender has {senderLevel}.");
    }
}
