namespace HomeServer.Grains.Events;

/// <summary>Lookups the authorization rules make in a room state map.</summary>
internal static class RoomState
{
    public static Pdu? Get(this IReadOnlyDictionary<StateEventKey, Pdu> state, StateEventKey key) =>
        state.TryGetValue(key, out var pdu) ? pdu : null;

    /// <summary>A user without a member event has, in effect, left.</summary>
    public static string MembershipOf(this IReadOnlyDictionary<StateEventKey, Pdu> state, string userId) =>
        state.Get(StateEventKey.Member(userId))?.GetContentString("membership") ?? Membership.Leave;

    /// <summary>
    /// The spec leaves a room without <c>m.room.join_rules</c> undefined; like other servers we treat
    /// it as <c>invite</c>, which only matters in that invited users may then join.
    /// </summary>
    public static string JoinRuleOf(this IReadOnlyDictionary<StateEventKey, Pdu> state) =>
        state.Get(StateEventKey.JoinRules)?.GetContentString("join_rule") ?? JoinRules.Invite;
}
