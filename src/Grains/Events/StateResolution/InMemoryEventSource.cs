using System.Diagnostics.CodeAnalysis;
using HomeServer.Grains.Identifiers;

namespace HomeServer.Grains.Events.StateResolution;

/// <summary>An <see cref="IEventSource"/> over events held in memory, e.g. those just received in a transaction.</summary>
public sealed class InMemoryEventSource : IEventSource
{
    private readonly Dictionary<EventId, Pdu> events = [];
    private readonly HashSet<EventId> rejected = [];

    public InMemoryEventSource()
    {
    }

    public InMemoryEventSource(IEnumerable<Pdu> pdus)
    {
        foreach (var pdu in pdus)
            Add(pdu);
    }

    public int Count => events.Count;

    public void Add(Pdu pdu, bool isRejected = false)
    {
        events[pdu.EventId] = pdu;
        if (isRejected)
            rejected.Add(pdu.EventId);
        else
            rejected.Remove(pdu.EventId);
    }

    public bool TryGet(EventId eventId, [NotNullWhen(true)] out Pdu? pdu) => events.TryGetValue(eventId, out pdu);

    public bool IsRejected(EventId eventId) => rejected.Contains(eventId);
}
