using System.Collections.Concurrent;
using HomeServer.Grains.Sync;
using HomeServer.Server.Tests.Infrastructure;
using Orleans;

namespace HomeServer.Server.Tests.Rooms;

/// <summary>Stands in for the sync grain and remembers every notice, so tests can see whom a room told what.</summary>
[GrainType("sync")]
public sealed class RecordingSyncGrain : SyncGrainStandIn
{
    private static readonly ConcurrentDictionary<string, ConcurrentQueue<SyncNotice>> Received = new();

    public override Task NotifyAsync(SyncNotice notice)
    {
        Received.GetOrAdd(Key, _ => new ConcurrentQueue<SyncNotice>()).Enqueue(notice);
        return Task.CompletedTask;
    }

    public static IReadOnlyList<SyncNotice> NoticesOf(string userId) =>
        Received.TryGetValue(userId, out var notices) ? notices.ToArray() : [];

    /// <summary>Waits until the user received a notice matching <paramref name="match"/>; notices are sent asynchronously.</summary>
    public static async Task<SyncNotice> WaitForAsync(string userId, Func<SyncNotice, bool> match)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            var found = NoticesOf(userId).FirstOrDefault(match);
            if (found is not null) return found;
            Assert.True(DateTime.UtcNow < deadline, $"{userId} received no matching notice; got: {string.Join(", ", NoticesOf(userId))}");
            await Task.Delay(20);
        }
    }
}
