using Npgsql;

namespace HomeServer.Storage.Postgres;

/// <summary>
/// Makes the position claims of concurrent appends together (ADR 0026): while one claim statement runs, the appends
/// that arrive wait, and the next statement advances the counter once for all of them and inserts one claim per append,
/// owned by that append's own connection. The counter row is then locked once per group instead of once per append,
/// which made every append of every room queue on that one row. The statements run on a connection kept for them (taken
/// from the pool once): rented per statement, as many waiting appends as the pool has connections would leave none for
/// the claim, and all would time out together. While that connection cannot be had (at the start, after it broke), a
/// group's statement runs on the connection of one of its appends, idle while it waits for its claim.
/// </summary>
internal sealed class GroupedPositionClaims(NpgsqlDataSource dataSource) : IAsyncDisposable
{
    private readonly Lock _lock = new();
    private List<Request> _waiting = [];
    private bool _claiming;
    private NpgsqlConnection? _claimConnection; // Used by one claim loop at a time (see _claiming).
    private bool _disposed;

    /// <summary>
    /// Claims <paramref name="count"/> positions for the append on <paramref name="connection"/> (not in a transaction, and
    /// not used by the caller until the task ends); returns the last one.
    /// </summary>
    public Task<long> ClaimAsync(int count, NpgsqlConnection connection)
    {
        var request = new Request(count, connection);
        lock (_lock)
        {
            _waiting.Add(request);
            if (_claiming) return request.Claimed.Task;
            _claiming = true;
        }
        _ = ClaimWhileWaitingAsync();
        return request.Claimed.Task;
    }

    private async Task ClaimWhileWaitingAsync()
    {
        while (true)
        {
            List<Request> group;
            lock (_lock)
            {
                if (_waiting.Count == 0)
                {
                    _claiming = false;
                    return;
                }
                (group, _waiting) = (_waiting, []);
            }
            var connection = await ClaimConnectionAsync() ?? group[0].Connection;
            try
            {
                var lastPositions = await PositionClaims.ClaimGroupAsync(
                    connection, group.Select(r => r.Count).ToArray(), group.Select(r => r.BackendPid).ToArray());
                for (var i = 0; i < group.Count; i++) group[i].Claimed.TrySetResult(lastPositions[i]);
            }
            catch (Exception exception)
            {
                if (connection == _claimConnection) await DropClaimConnectionAsync();
                // The statement may have committed before it failed: its claims would hold readers back until reaped.
                await PositionClaims.ReleaseClaimsOfAsync(dataSource, group.Select(r => r.BackendPid).ToArray());
                foreach (var request in group) request.Claimed.TrySetException(exception);
            }
        }
    }

    /// <summary>The kept connection, opened if need be; null if the pool has none to give at once.</summary>
    private async Task<NpgsqlConnection?> ClaimConnectionAsync()
    {
        if (_claimConnection is not null || _disposed) return _claimConnection;
        try
        {
            using var noWait = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
            _claimConnection = await dataSource.OpenConnectionAsync(noWait.Token);
        }
        catch (Exception exception) when (exception is NpgsqlException or OperationCanceledException or TimeoutException)
        {
        }
        return _claimConnection;
    }

    private async Task DropClaimConnectionAsync()
    {
        var broken = _claimConnection;
        _claimConnection = null;
        if (broken is not null) await broken.DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        lock (_lock) _disposed = true;
        // A claim loop still running keeps its connection until its statement ends; the pool's disposal closes it.
        if (!_claiming) await DropClaimConnectionAsync();
    }

    private sealed record Request(int Count, NpgsqlConnection Connection)
    {
        public int BackendPid { get; } = Connection.ProcessID;

        public TaskCompletionSource<long> Claimed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
