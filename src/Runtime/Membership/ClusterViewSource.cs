using Microsoft.Extensions.Logging;

namespace HomeServer.Runtime.Membership;

/// <summary>
/// Keeps the latest view of the membership table: re-read periodically, on demand (after a failed call or a
/// pushed change notice), and never moving back to an older version.
/// </summary>
public class ClusterViewSource(IMembershipTable table, ILogger logger) : IAsyncDisposable
{
    private readonly SemaphoreSlim _refreshing = new(1, 1);
    private readonly CancellationTokenSource _stopping = new();
    private ClusterView _current = ClusterView.Empty;
    private Task _refreshLoop = Task.CompletedTask;

    protected IMembershipTable Table { get; } = table;
    protected ILogger Logger { get; } = logger;
    protected CancellationToken Stopping => _stopping.Token;

    public ClusterView Current => Volatile.Read(ref _current);

    /// <summary>Raised after the view moved to a newer version.</summary>
    public event Action<ClusterView>? Changed;

    public void StartPeriodicRefresh(TimeSpan period) => _refreshLoop = RefreshLoopAsync(period);

    private async Task RefreshLoopAsync(TimeSpan period)
    {
        using var timer = new PeriodicTimer(period);
        try
        {
            while (await timer.WaitForNextTickAsync(_stopping.Token).ConfigureAwait(false))
            {
                try
                {
                    await RefreshAsync(_stopping.Token).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    Logger.LogWarning(ex, "Reading the membership table failed; keeping view {Version}", Current.Version);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Reads the table and adopts it if newer. Concurrent callers share one read.</summary>
    public async Task<ClusterView> RefreshAsync(CancellationToken cancellationToken)
    {
        var before = Current.Version;
        await _refreshing.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (Current.Version != before) return Current; // someone refreshed while we waited
            var snapshot = await Table.ReadAllAsync(cancellationToken).ConfigureAwait(false);
            Adopt(snapshot);
            return Current;
        }
        finally
        {
            _refreshing.Release();
        }
    }

    protected void Adopt(MembershipSnapshot snapshot)
    {
        ClusterView view;
        lock (_refreshing)
        {
            if (snapshot.Version <= _current.Version && _current != ClusterView.Empty) return;
            view = new ClusterView(snapshot);
            Volatile.Write(ref _current, view);
        }
        OnViewChanged(view);
        Changed?.Invoke(view);
    }

    protected virtual void OnViewChanged(ClusterView view)
    {
    }

    public virtual async ValueTask DisposeAsync()
    {
        _stopping.Cancel();
        await _refreshLoop.ConfigureAwait(false);
        GC.SuppressFinalize(this);
    }
}
