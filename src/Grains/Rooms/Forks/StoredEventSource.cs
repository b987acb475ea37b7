using System.Diagnostics.CodeAnalysis;
using HomeServer.Grains.Events;
using HomeServer.Grains.Events.StateResolution;
using HomeServer.Grains.Identifiers;

namespace HomeServer.Grains.Rooms.Forks;

/// <summary>
/// The events state resolution may look at, read from the room's stored events before it runs (the resolver is
/// synchronous): the events of the state sets and, through <c>auth_events</c>, their whole auth chains. An event the
/// lookup does not find stays absent, as <see cref="IEventSource"/> allows. Rejected events are never stored here,
/// so none is reported rejected.
/// </summary>
internal sealed class StoredEventSource : IEventSource
{
    private readonly Dictionary<EventId, Pdu> _events = [];

    private StoredEventSource()
    {
    }

    public int Count => _events.Count;

    /// <param name="lookup">An event of the room by id (stored, soft-failed or already in memory), or null.</param>
    public static async Task<StoredEventSource> LoadAsync(
        IEnumerable<EventId> roots, IEnumerable<Pdu> known, Func<string, Task<Pdu?>> lookup)
    {
        var source = new StoredEventSource();
        var inMemory = new Dictionary<string, Pdu>(StringComparer.Ordinal);
        foreach (var pdu in known) inMemory.TryAdd(pdu.EventId.Value, pdu);
        var missing = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Stack<string>(roots.Select(id => id.Value));
        while (pending.TryPop(out var id))
        {
            if (!EventId.TryParse(id, out var eventId) || source._events.ContainsKey(eventId) || missing.Contains(id)) continue;
            var pdu = inMemory.GetValueOrDefault(id) ?? await lookup(id);
            if (pdu is null)
            {
                missing.Add(id);
                continue;
            }
            source._events[eventId] = pdu;
            foreach (var authId in pdu.AuthEvents) pending.Push(authId);
        }
        return source;
    }

    public bool TryGet(EventId eventId, [NotNullWhen(true)] out Pdu? pdu) => _events.TryGetValue(eventId, out pdu);

    public bool IsRejected(EventId eventId) => false;
}
