using HomeServer.Grains.Sync;
using HomeServer.Runtime;
using HomeServer.Runtime.Membership;

namespace HomeServer.Grains.Delivery;

internal static class SyncSilos
{
    /// <summary>The local users among <paramref name="members"/>, grouped by the silo that owns their sync grain under the current view.</summary>
    public static List<IGrouping<SiloAddress, string>> GroupBySyncSilo(this IGrainLocator locator, LocalServer server, IEnumerable<string> members) =>
        members.Where(server.IsLocal)
            .Select(userId => (UserId: userId, Silo: locator.OwnerOf<ISyncGrain>(userId)))
            .Where(member => member.Silo is not null)
            .GroupBy(member => member.Silo!, member => member.UserId)
            .ToList();
}
