using HomeServer.Grains.Identifiers;

namespace HomeServer.Grains.Events;

/// <summary>A newly built event: its ID, its canonical JSON bytes and a parsed view of them.</summary>
public sealed record BuiltEvent(EventId EventId, byte[] Json, Pdu Pdu);
