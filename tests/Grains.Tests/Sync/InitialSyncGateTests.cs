using HomeServer.Grains.Sync;
using Microsoft.Extensions.Options;

namespace HomeServer.Grains.Tests.Sync;

public sealed class InitialSyncGateTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private static InitialSyncGate Gate(int places) => new(Options.Create(new InitialSyncOptions { MaxConcurrentInitialSyncs = places }));

    [Fact]
    public async Task No_more_than_the_bound_build_at_once_and_every_waiting_build_completes()
    {
        var gate = Gate(3);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var running = 0;
        var mostAtOnce = 0;
        var builds = Enumerable.Range(0, 20).Select(_ => Task.Run(async () =>
        {
            using var place = await gate.EnterAsync(CancellationToken.None);
            var now = Interlocked.Increment(ref running);
            InterlockedMax(ref mostAtOnce, now);
            await release.Task;
            Interlocked.Decrement(ref running);
        })).ToList();

        await Until(() => gate.Building == 3 && gate.Waiting == 17);
        Assert.Equal(3, Volatile.Read(ref running));
        release.SetResult();
        await Task.WhenAll(builds).WaitAsync(Patience);

        Assert.Equal(3, mostAtOnce);
        Assert.Equal(0, gate.Building);
        Assert.Equal(0, gate.Waiting);
    }

    [Fact]
    public async Task A_waiting_request_whose_caller_gives_up_leaves_the_queue_and_takes_no_place()
    {
        var gate = Gate(1);
        var held = await gate.EnterAsync(CancellationToken.None);
        using var giveUp = new CancellationTokenSource();
        var abandoned = gate.EnterAsync(giveUp.Token);
        var next = gate.EnterAsync(CancellationToken.None);
        await Until(() => gate.Waiting == 2);

        giveUp.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => abandoned);
        Assert.Equal(1, gate.Waiting);

        held.Dispose();
        held.Dispose();
        using var place = await next.WaitAsync(Patience);
        Assert.Equal(1, gate.Building);
        Assert.Equal(0, gate.Waiting);
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen)
        {
        }
    }

    private static async Task Until(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "The gate did not reach the expected state in time.");
            await Task.Delay(10);
        }
    }
}
