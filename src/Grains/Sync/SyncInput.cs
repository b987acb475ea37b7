using HomeServer.Grains.Sync.Filtering;

namespace HomeServer.Grains.Sync;

/// <summary>The newest positions of the durable streams, read from the store at the start of a computation.</summary>
internal sealed record StreamPositions(long Events, long AccountData, long Receipts, long Presence = 0, long ToDevice = 0, long DeviceLists = 0);

/// <summary>Everything one computation of a sync response depends on besides the store and the user's rooms.</summary>
/// <param name="Typing">
/// The typing lists to send: those read for the rooms whose typing changed since the since token (every joined room for
/// a token of another activation), and a room sent in full (e.g. newly joined) reads its own.
/// </param>
internal sealed record SyncInput(
    string UserId,
    string DeviceId,
    SyncFilter Filter,
    SyncToken? Since,
    bool FullState,
    StreamPositions Upper,
    ResponseTyping Typing,
    int TypingEpoch,
    long TypingSequence);
