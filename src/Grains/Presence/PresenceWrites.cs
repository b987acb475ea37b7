using System.Threading.Channels;
using HomeServer.Storage;

namespace HomeServer.Grains.Presence;

/// <summary>
/// Writes the silo's presence changes in batches: every change takes the next position of the presence stream, whose
/// counter row is locked until the write commits, so 1,000 users coming online at once (a herd of clients reconnecting
/// to a big room) made 1,000 transactions queue on that lock and exhaust the connection pool. Changes that arrive while
/// a batch is being written go together into the next one: one transaction and one position allocation each, then one
/// announcement for the batch's changes that are to be told (<see cref="IPresenceAnnouncer"/>).
/// </summary>
public sealed class PresenceWrites : IDisposable
{
    private const int MaxBatch = 500;

    private readonly IHomeServerStore _store;
    private readonly IPresenceAnnouncer _announcer;
    private readonly Channel<Entry> _queue = Channel.CreateUnbounded<Entry>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _stopping = new();

    public PresenceWrites(IHomeServerStore store, IPresenceAnnouncer announcer)
    {
        _store = store;
        _announcer = announcer;
        _ = Task.Run(RunAsync);
    }

    /// <summary>
    /// Stores the presence (replacing the user's) and returns its stream position, once stored and, when
    /// <paramref name="announce"/>, announced to the user's peers.
    /// </summary>
    public Task<long> WriteAsync(NewPresence presence, bool announce)
    {
        var written = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_queue.Writer.TryWrite(new Entry(presence, announce, written))) written.SetException(new ObjectDisposedException(nameof(PresenceWrites)));
        return written.Task;
    }

    private sealed record Entry(NewPresence Presence, bool Announce, TaskCompletionSource<long> Written);

    private async Task RunAsync()
    {
        var batch = new List<Entry>(MaxBatch);
        try
        {
            while (await _queue.Reader.WaitToReadAsync(_stopping.Token))
            {
                batch.Clear();
                var users = new HashSet<string>(StringComparer.Ordinal);
                // A second change of a user already in the batch waits for the next one (each user once per write).
                while (batch.Count < MaxBatch && _queue.Reader.TryPeek(out var next) && users.Add(next.Presence.UserId)
                    && _queue.Reader.TryRead(out next))
                {
                    batch.Add(next);
                }
                await WriteAsync(batch);
            }
        }
        catch (OperationCanceledException)
        {
        }
        while (_queue.Reader.TryRead(out var left)) left.Written.TrySetException(new ObjectDisposedException(nameof(PresenceWrites)));
    }

    private async Task WriteAsync(List<Entry> batch)
    {
        try
        {
            var positions = await _store.Presence.SetPresencesAsync(batch.Select(entry => entry.Presence).ToList(), CancellationToken.None);
            var told = batch.Where(entry => entry.Announce).Select(entry => entry.Presence.UserId).ToList();
            // A failed announcement loses no change: the peers read it from the store at their next store read.
            if (told.Count > 0) await AnnounceAsync(told, positions[^1]);
            for (var i = 0; i < batch.Count; i++) batch[i].Written.SetResult(positions[i]);
        }
        catch (ArgumentException) when (batch.Count > 1)
        {
            // One bad change must not fail the others: write them one by one.
            foreach (var entry in batch) await WriteAsync([entry]);
        }
        catch (Exception e)
        {
            foreach (var entry in batch) entry.Written.TrySetException(e);
        }
    }

    private async Task AnnounceAsync(IReadOnlyCollection<string> userIds, long position)
    {
        try
        {
            await _announcer.AnnounceAsync(userIds, position);
        }
        catch (StoreUnavailableException)
        {
        }
    }

    public void Dispose()
    {
        _queue.Writer.TryComplete();
        _stopping.Cancel();
    }
}
