namespace HomeServer.Storage;

/// <summary>Room aliases (<c>#name:server</c>).</summary>
public interface IRoomAliasStore
{
    /// <summary>Creates the alias; false when it is taken. Throws <see cref="EntityNotFoundException"/> for an unknown room.</summary>
    Task<bool> CreateAliasAsync(RoomAlias alias, CancellationToken cancellationToken);

    Task<RoomAlias?> GetAliasAsync(string alias, CancellationToken cancellationToken);

    /// <summary>The room's aliases in ascending order.</summary>
    Task<IReadOnlyList<string>> GetAliasesOfRoomAsync(string roomId, CancellationToken cancellationToken);

    Task<bool> DeleteAliasAsync(string alias, CancellationToken cancellationToken);

    /// <summary>Points every alias of one room at another (a room upgrade) and returns how many moved.</summary>
    Task<int> MoveAliasesAsync(string fromRoomId, string toRoomId, CancellationToken cancellationToken);
}
