using HomeServer.Grains.Rooms;
using Orleans;

namespace HomeServer.Grains.Sync;

/// <summary>
/// The typing lists one response carries: each room's current typing, read from its room grain at most once per
/// response. The activation then records every state read (<see cref="TypingChanges.Record"/>).
/// </summary>
/// <param name="sendEmptyLists">
/// Whether a room nobody types in is sent as an empty list: yes when the client may show someone typing there (an
/// incremental sync), no for an initial sync, whose client knows of no typing yet.
/// </param>
internal sealed class ResponseTyping(IGrainFactory grains, bool sendEmptyLists)
{
    private readonly Dictionary<string, TypingState> _read = new(StringComparer.Ordinal);

    public IReadOnlyDictionary<string, TypingState> Read => _read;

    /// <summary>Reads the current typing of the rooms not read yet, all at once.</summary>
    public async Task ReadAsync(IEnumerable<string> roomIds)
    {
        var unread = roomIds.Where(roomId => !_read.ContainsKey(roomId)).Distinct(StringComparer.Ordinal).ToList();
        var states = await Task.WhenAll(unread.Select(roomId => grains.GetGrain<IRoomGrain>(roomId).GetTypingAsync()));
        for (var i = 0; i < unread.Count; i++) _read[unread[i]] = states[i];
    }

    /// <summary>The list to send for the room, or null to leave m.typing out.</summary>
    public IReadOnlyList<string>? For(string roomId) =>
        _read.TryGetValue(roomId, out var state) && (sendEmptyLists || state.UserIds.Count > 0) ? state.UserIds : null;

    /// <summary>The lists to send, by room.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> Lists() =>
        _read.Keys.Select(roomId => (roomId, Typing: For(roomId)))
            .Where(room => room.Typing is not null)
            .ToDictionary(room => room.roomId, room => room.Typing!, StringComparer.Ordinal);
}
