using Npgsql;

namespace HomeServer.Storage.Postgres;

/// <summary>
/// Makes the position claims of concurrent appends together (ADR 0026): while one claim statement runs, the appends
/// that arrive wait, and the next statement advances the counter once for all of them and inserts one claim per append,
/// owned by that append's own connection. The counter row is then locked once per group instead of once per append,
/// which made every append of every room queue on that one row. The statement runs on the connection of one of the
/// group's appends, idle while it waits for its claim: with a connection of its own from the pool, as many waiting
/// appends as the pool has connections would leave none for the claim, and all would time out together.
/// </summary>
internal sealed class GroupedPositionClaims(NpgsqlDataSource dataSource)
{
    private readonly Lock _lock = new();
    private List<Request> _waiting = [];
    private bool _claiming;

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
            try
            {
                var lastPositions = await PositionClaims.ClaimGroupAsync(
                    group[0].Connection, group.Select(r => r.Count).ToArray(), group.Select(r => r.BackendPid).ToArray());
                for (var i = 0; i < group.Count; i++) group[i].Claimed.TrySetResult(lastPositions[i]);
            }
            catch (Exception exception)
            {
                // The statement may have committed before it failed: its claims would hold readers back until reaped.
                await PositionClaims.ReleaseClaimsOfAsync(dataSource, group.Select(r => r.BackendPid).ToArray());
                foreach (var request in group) request.Claimed.TrySetException(exception);
            }
        }
    }

    private sealed record Request(int Count, NpgsqlConnection Connection)
    {
        public int BackendPid { get; } = Connection.ProcessID;

        public TaskCompletionSource<long> Claimed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
