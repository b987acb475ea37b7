namespace HomeServer.Storage;

/// <summary>
/// Per-user account data, global (room id null) or per room. Every write takes the next position of the
/// account-data stream, so sync can ask for what changed since a position.
/// </summary>
public interface IAccountDataStore
{
    /// <summary>Stores the content (a JSON object) and returns its stream position. Throws <see cref="EntityNotFoundException"/> for an unknown user.</summary>
    Task<long> SetAccountDataAsync(
        string userId, string? roomId, string dataType, byte[] content, CancellationToken cancellationToken);

    Task<AccountDataEntry?> GetAccountDataAsync(string userId, string? roomId, string dataType, CancellationToken cancellationToken);

    /// <summary>The user's entries written after <paramref name="sincePosition"/> (0: all), ascending by position.</summary>
    Task<IReadOnlyList<AccountDataEntry>> GetAccountDataChangesAsync(string userId, long sincePosition, CancellationToken cancellationToken);

    /// <summary>The highest account-data stream position written so far (0 when none).</summary>
    Task<long> GetMaxStreamPositionAsync(CancellationToken cancellationToken);
}

/// <param name="RoomId">Null for global account data.</param>
public sealed record AccountDataEntry(string? RoomId, string DataType, byte[] Content, long StreamPosition);
