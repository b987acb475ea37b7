using System.Diagnostics.CodeAnalysis;
using HomeServer.Grains.Identifiers;

namespace HomeServer.Grains.Events.StateResolution;

/// <summary>
/// Where state resolution looks up the events it names by ID: the events of the state sets and their auth chains.
/// An event the source does not know is treated as absent (see <see cref="StateResolver"/>), never as an error.
/// </summary>
public interface IEventSource
{
    bool TryGet(EventId eventId, [NotNullWhen(true)] out Pdu? pdu);

    /// <summary>
    /// True when the event was rejected by the authorization rules. The iterative auth checks never fall back on a
    /// rejected auth event.
    /// </summary>
    bool IsRejected(EventId eventId);
}
