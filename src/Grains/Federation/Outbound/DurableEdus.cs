using HomeServer.Grains.Federation;
using HomeServer.Storage;
using Orleans;

namespace HomeServer.Grains.Federation.Outbound;

/// <summary>
/// EDUs that must survive a crash or a long outage of their destination (docs/adr/0040): stored in the federation
/// outbox, all in one transaction, then each destination's sender is woken. The sender sends the outbox oldest first
/// and deletes what a destination accepted; the catch-up after a start wakes every destination with rows.
/// </summary>
internal static class DurableEdus
{
    public static async Task SendAsync(IHomeServerStore store, IGrainFactory grains, IReadOnlyList<NewOutboxEdu> edus)
    {
        if (edus.Count == 0) return;
        await store.FederationOutbox.EnqueueAsync(edus, CancellationToken.None);
        foreach (var destination in edus.Select(e => e.Destination).Distinct(StringComparer.Ordinal))
            await grains.GetGrain<IFederationDestinationGrain>(destination).WakeAsync();
    }

    /// <summary>The same EDU to each of the servers.</summary>
    public static Task SendToEachAsync(IHomeServerStore store, IGrainFactory grains, IEnumerable<string> servers, string eduType, byte[] content)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        return SendAsync(store, grains, [.. servers.Select(destination => new NewOutboxEdu(destination, eduType, content, now))]);
    }
}
