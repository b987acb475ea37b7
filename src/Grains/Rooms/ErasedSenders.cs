using System.Text.Json;
using HomeServer.Grains.Events;
using HomeServer.Grains.Identifiers;
using HomeServer.Storage;

namespace HomeServer.Grains.Rooms;

/// <summary>
/// Erasure (account deactivation with <c>erase: true</c>), as Synapse applies it: the events of an erased sender are
/// served pruned by the room version's redaction algorithm to every reader who was not joined to the room when the event
/// was sent; readers who were joined then keep seeing them whole. No redaction event is sent. The store is asked only
/// when a reader gets events they were not joined for, so members reading their own history pay nothing.
/// </summary>
internal static class ErasedSenders
{
    /// <summary>
    /// <paramref name="events"/> with the erased senders' events pruned where <paramref name="readerWasJoined"/> says
    /// the reader was not joined when they were sent; the same list when nothing is pruned.
    /// </summary>
    /// <param name="prune">A pruned copy of an event, in the room's version.</param>
    public static async Task<IReadOnlyList<T>> PruneAsync<T>(
        IHomeServerStore store, IReadOnlyList<T> events, Func<T, string> sender, Func<T, bool> readerWasJoined,
        Func<T, ValueTask<T>> prune, CancellationToken cancellationToken)
    {
        var candidates = events.Where(e => !readerWasJoined(e)).Select(sender).Distinct(StringComparer.Ordinal).ToList();
        if (candidates.Count == 0) return events;
        var erased = await store.Accounts.GetErasedUsersAsync(candidates, cancellationToken);
        if (erased.Count == 0) return events;
        var served = new List<T>(events.Count);
        foreach (var e in events) served.Add(erased.Contains(sender(e)) && !readerWasJoined(e) ? await prune(e) : e);
        return served;
    }

    /// <summary>
    /// The event as <paramref name="reader"/> is served it: pruned when its sender is erased and the reader was not
    /// joined when it was sent (<paramref name="position"/> is its room position).
    /// </summary>
    public static async Task<Pdu> ServeAsync(
        IHomeServerStore store, RoomVersion version, RoomHistory history, string reader, Pdu pdu, long position)
    {
        var served = await PruneAsync(store, [pdu], e => e.Sender.Value, _ => history.WasJoinedWhenSent(reader, position),
            e => ValueTask.FromResult(Pruned(version, e)), CancellationToken.None);
        return served[0];
    }

    public static Pdu Pruned(RoomVersion version, Pdu pdu) => Pdu.Parse(pdu.EventId, Pruned(version, pdu.Json));

    /// <summary>
    /// The stored event as the redaction algorithm of <paramref name="version"/> leaves it. Of the server's extras only
    /// replaces_state stays, which readers need to walk state back; prev_content would show the pruned content again.
    /// </summary>
    public static byte[] Pruned(RoomVersion version, JsonElement storedEvent) =>
        StoredEventJson.Compose(
            CanonicalJson.Encode(EventRedactor.Redact(version, storedEvent), version.StrictCanonicalJson),
            new StoredExtras(ReplacesState: StoredEventJson.ReplacesState(storedEvent)));
}
