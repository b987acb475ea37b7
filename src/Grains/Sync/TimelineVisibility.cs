using System.Text.Json;
using HomeServer.Grains.Events;
using HomeServer.Grains.Rooms;
using HomeServer.Grains.Serialization;
using HomeServer.Storage;

namespace HomeServer.Grains.Sync;

/// <summary>
/// History visibility (the spec's "Room History Visibility") for one user's sync timeline of one room, judged while the
/// timeline is read newest first. The user's membership at each event comes from their own member events met on the
/// way (each carries the membership before it in <c>unsigned.prev_content</c>); the room's visibility likewise from its
/// m.room.history_visibility events, and from the store only when an event the user was not joined for needs it, so a
/// timeline of a room the user was joined for throughout costs nothing. The rules:
/// <list type="bullet">
/// <item>world_readable: everyone; a joined member: everything; shared: every event the user joined at or after;
/// invited: also the events while the user was invited; joined: nothing more.</item>
/// <item>A visibility change is seen when the visibility before or after it allows, and the user's own member event
/// when the membership before or after it does (the spec's rules for the boundary).</item>
/// </list>
/// </summary>
internal sealed class TimelineVisibility(IHomeServerStore store, string userId, string roomId, long top)
{
    private bool _started;
    private string _membership = Membership.Join;
    private bool _joinedLater;
    private string? _visibility;
    private readonly HashSet<long> _notJoinedWhenSent = [];

    /// <summary>Whether the user may see <paramref name="e"/>; call with the room's events newest first, none skipped, up to <c>top</c>.</summary>
    public async ValueTask<bool> CanSeeAsync(StoredEvent e, CancellationToken cancellationToken)
    {
        var ownMember = e.Type == EventTypes.Member && e.StateKey == userId;
        if (!_started)
        {
            // A sync timeline ends either while the user is joined or at their own leave (or ban).
            _started = true;
            _membership = ownMember ? e.Membership ?? Membership.Leave : Membership.Join;
        }
        var after = ownMember ? e.Membership ?? Membership.Leave : _membership;
        var before = ownMember ? StoredEventFacts.PreviousMembership(e) ?? Membership.Leave : _membership;
        var joinedLater = _joinedLater || after == Membership.Join;
        var isVisibilityChange = e.Type == EventTypes.HistoryVisibility && e.StateKey == "";

        bool visible;
        if (before == Membership.Join || after == Membership.Join)
        {
            visible = true;
            if (isVisibilityChange) _visibility = PreviousVisibility(e);
        }
        else
        {
            var visibilityAfter = isVisibilityChange ? HistoryVisibilities.Normalize(ContentVisibility(e)) : await VisibilityAtTopAsync(cancellationToken);
            var visibilityBefore = isVisibilityChange ? PreviousVisibility(e) : visibilityAfter;
            visible = HistoryVisibilities.Allows(visibilityBefore, before, joinedLater) || HistoryVisibilities.Allows(visibilityBefore, after, joinedLater)
                || HistoryVisibilities.Allows(visibilityAfter, before, joinedLater) || HistoryVisibilities.Allows(visibilityAfter, after, joinedLater);
            if (isVisibilityChange) _visibility = visibilityBefore;
        }
        if (before != Membership.Join) _notJoinedWhenSent.Add(e.RoomPosition);
        _membership = before;
        _joinedLater = joinedLater;
        return visible;
    }

    /// <summary>Whether the user was joined just before an event <see cref="CanSeeAsync"/> has seen (erasure's rule).</summary>
    public bool WasJoinedWhenSent(StoredEvent e) => !_notJoinedWhenSent.Contains(e.RoomPosition);

    /// <summary>The visibility in force after the newest event of the timeline: the room's current one, walked back past later changes.</summary>
    private async ValueTask<string> VisibilityAtTopAsync(CancellationToken cancellationToken)
    {
        if (_visibility is not null) return _visibility;
        var candidate = await store.State.GetStateEventAsync(roomId, EventTypes.HistoryVisibility, "", cancellationToken);
        while (candidate is not null && candidate.GlobalPosition > top)
        {
            var replaced = StoredEventFacts.ReplacesState(candidate);
            candidate = replaced is null ? null : await store.Events.GetEventAsync(replaced, cancellationToken);
        }
        return _visibility = candidate is null ? HistoryVisibilities.Shared : HistoryVisibilities.Normalize(ContentVisibility(candidate));
    }

    /// <summary>The visibility before a change: its prev_content, else the spec's default when the room had none.</summary>
    private static string PreviousVisibility(StoredEvent change) => HistoryVisibilities.Normalize(ReadVisibility(change, "unsigned", "prev_content"));

    private static string? ContentVisibility(StoredEvent change) => ReadVisibility(change, "content");

    private static string? ReadVisibility(StoredEvent e, params string[] path)
    {
        using var document = JsonDocument.Parse(e.Json, StoredJson.DocumentOptions);
        var element = document.RootElement;
        foreach (var name in path)
        {
            if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty(name, out element)) return null;
        }
        return element.ValueKind == JsonValueKind.Object && element.TryGetProperty("history_visibility", out var value)
               && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;
    }
}
