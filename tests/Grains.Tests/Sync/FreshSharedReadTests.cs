using HomeServer.Grains.Sync;

namespace HomeServer.Grains.Tests.Sync;

public sealed class FreshSharedReadTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    /// <summary>A read that records when it started and waits to be let go.</summary>
    private sealed class GatedRead
    {
        private int _started;
        public TaskCompletionSource<int> Gate { get; private set; } = New();
        public TaskCompletionSource Started { get; private set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public int Count => Volatile.Read(ref _started);

        public Task<int> ReadAsync()
        {
            var number = Interlocked.Increment(ref _started);
            var gate = Gate;
            Started.TrySetResult();
            return gate.Task.ContinueWith(t => t.IsFaulted ? throw t.Exception!.InnerException! : number, TaskScheduler.Default);
        }

        public void Release(Exception? error = null)
        {
            var gate = Gate;
            Gate = New();
            Started = new(TaskCreationOptions.RunContinuationsAsynchronously);
            if (error is null) gate.SetResult(0);
            else gate.SetException(error);
        }

        private static TaskCompletionSource<int> New() => new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    [Fact]
    public async Task Callers_that_arrive_before_a_read_starts_share_it_and_those_during_it_get_the_next()
    {
        var gated = new GatedRead();
        var shared = new FreshSharedRead<int>(gated.ReadAsync);

        var first = Enumerable.Range(0, 5).Select(_ => shared.ReadAsync(CancellationToken.None)).ToList();
        await gated.Started.Task.WaitAsync(Patience);
        var during = Enumerable.Range(0, 5).Select(_ => shared.ReadAsync(CancellationToken.None)).ToList();
        gated.Release();

        Assert.All(await Task.WhenAll(first).WaitAsync(Patience), number => Assert.Equal(1, number));
        await gated.Started.Task.WaitAsync(Patience);
        gated.Release();
        // Those who asked while the first read ran are answered by a read that started after they asked.
        Assert.All(await Task.WhenAll(during).WaitAsync(Patience), number => Assert.Equal(2, number));
        Assert.Equal(2, gated.Count);
    }

    [Fact]
    public async Task A_failed_read_fails_its_callers_and_the_next_caller_reads_again()
    {
        var gated = new GatedRead();
        var shared = new FreshSharedRead<int>(gated.ReadAsync);

        var failing = shared.ReadAsync(CancellationToken.None);
        await gated.Started.Task.WaitAsync(Patience);
        gated.Release(new TimeoutException("store"));
        await Assert.ThrowsAsync<TimeoutException>(() => failing.WaitAsync(Patience));

        var next = shared.ReadAsync(CancellationToken.None);
        await gated.Started.Task.WaitAsync(Patience);
        gated.Release();
        Assert.Equal(2, await next.WaitAsync(Patience));
    }

    [Fact]
    public async Task A_caller_that_gives_up_leaves_the_read_to_the_others()
    {
        var gated = new GatedRead();
        var shared = new FreshSharedRead<int>(gated.ReadAsync);
        using var giveUp = new CancellationTokenSource();

        var impatient = shared.ReadAsync(giveUp.Token);
        var patient = shared.ReadAsync(CancellationToken.None);
        await gated.Started.Task.WaitAsync(Patience);
        giveUp.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => impatient);
        gated.Release();

        Assert.Equal(1, await patient.WaitAsync(Patience));
    }
}
