using HomeServer.Storage;

namespace HomeServer.Grains.Sync;

/// <summary>
/// The store's newest stream positions, read for all of a silo's sync grains at once: a herd of activations or store
/// computations costs one set of six position queries at a time instead of six per grain (docs/adr/0032).
/// </summary>
public sealed class StreamPositionsReader
{
    private readonly FreshSharedRead<StreamPositions> _read;

    public StreamPositionsReader(IHomeServerStore store) => _read = new(() => ReadAsync(store));

    /// <summary>Positions read after this call began.</summary>
    internal Task<StreamPositions> ReadAsync(CancellationToken cancellationToken) => _read.ReadAsync(cancellationToken);

    private static async Task<StreamPositions> ReadAsync(IHomeServerStore store) =>
        new(await store.Events.GetMaxGlobalPositionAsync(CancellationToken.None),
            await store.AccountData.GetMaxStreamPositionAsync(CancellationToken.None),
            await store.Receipts.GetMaxStreamPositionAsync(CancellationToken.None),
            await store.Presence.GetMaxStreamPositionAsync(CancellationToken.None),
            await store.ToDevice.GetMaxStreamPositionAsync(CancellationToken.None),
            await store.Keys.GetMaxDeviceListPositionAsync(CancellationToken.None));
}
