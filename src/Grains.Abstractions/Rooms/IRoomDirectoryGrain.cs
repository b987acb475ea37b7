using Orleans;
using Orleans.Concurrency;

namespace HomeServer.Grains.Rooms;

/// <summary>
/// Room aliases and the published room directory of this server (key: the server name). Holds no state of its
/// own; the store is the source of truth, so every method interleaves.
/// </summary>
[Alias("room-directory")]
public interface IRoomDirectoryGrain : IGrainWithStringKey
{
    /// <summary>The room id the alias points to, or null.</summary>
    [Idempotent]
    [AlwaysInterleave]
    Task<string?> ResolveAliasAsync(string alias);

    /// <summary>
    /// The room an alias of any server points to and servers to join it through: a local alias from the store, another
    /// server's by asking it (<c>/query/directory</c>). Null when the alias's server knows no such alias.
    /// </summary>
    [AlwaysInterleave]
    [return: Immutable]
    Task<AliasLookup?> LookUpAliasAsync(string alias);

    /// <summary>Maps a local alias to a room the user is joined to; M_ROOM_IN_USE when the alias exists (the API answers 409).</summary>
    [AlwaysInterleave]
    Task CreateAliasAsync(string alias, string roomId, string userId);

    /// <summary>Allowed for the alias's creator, server admins and members who may set m.room.canonical_alias.</summary>
    [AlwaysInterleave]
    Task DeleteAliasAsync(string alias, string userId, bool isAdmin);

    /// <summary>The JSON body of GET/POST /publicRooms.</summary>
    [Idempotent]
    [AlwaysInterleave]
    [return: Immutable]
    Task<byte[]> GetPublicRoomsAsync(PublicRoomsQuery query);
}
