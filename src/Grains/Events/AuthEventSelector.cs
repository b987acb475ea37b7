using System.Text.Json;
using System.Text.Json.Nodes;
using HomeServer.Grains.Identifiers;

namespace HomeServer.Grains.Events;

/// <summary>The spec's auth events selection: which state events a new event cites as <c>auth_events</c>.</summary>
public static class AuthEventSelector
{
    /// <summary>The state slots to cite, in a stable order, without duplicates.</summary>
    public static IReadOnlyList<StateEventKey> RequiredStateKeys(string type, string? stateKey, UserId sender, JsonObject content)
    {
        if (type == EventTypes.Create)
            return [];

        var keys = new List<StateEventKey> { StateEventKey.Create, StateEventKey.PowerLevels, StateEventKey.Member(sender.Value) };
        if (type == EventTypes.Member && stateKey is not null)
        {
            keys.Add(StateEventKey.Member(stateKey));
            var membership = StringAt(content, "membership");
            if (membership is Membership.Join or Membership.Invite or Membership.Knock)
                keys.Add(StateEventKey.JoinRules);
            if (membership == Membership.Invite
                && content["third_party_invite"] is JsonObject thirdPartyInvite
                && thirdPartyInvite["signed"] is JsonObject signed
                && StringAt(signed, "token") is { } token)
                keys.Add(new StateEventKey(EventTypes.ThirdPartyInvite, token));
            if (membership == Membership.Join && StringAt(content, "join_authorised_via_users_server") is { } authoriser)
                keys.Add(StateEventKey.Member(authoriser));
        }
        return keys.Distinct().ToList();
    }

    /// <summary>The IDs of those state events that exist in <paramref name="state"/>.</summary>
    public static IReadOnlyList<EventId> Select(string type, string? stateKey, UserId sender, JsonObject content,
        IReadOnlyDictionary<StateEventKey, Pdu> state) =>
        RequiredStateKeys(type, stateKey, sender, content)
            .Select(key => state.Get(key)?.EventId)
            .OfType<EventId>()
            .ToList();

    private static string? StringAt(JsonObject obj, string key) =>
        obj[key] is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : null;
}
