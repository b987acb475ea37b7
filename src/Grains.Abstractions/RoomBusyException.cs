using Orleans;

namespace HomeServer.Grains;

/// <summary>
/// A room could not take the request now (another writer kept changing it); nothing was written and the same request
/// may be sent again. The gateway answers it as temporarily unavailable.
/// </summary>
[GenerateSerializer, Alias("hs.RoomBusyException")]
public sealed class RoomBusyException(string message) : Exception(message);
