using Orleans;
using Orleans.Concurrency;

namespace HomeServer.Grains.Rooms;

/// <summary>
/// The room grain (key: the room id) as resident server for knocks of other servers' users: <c>make_knock</c> and
/// <c>send_knock</c>. See docs/adr/0045-federated-knocks-restricted-joins-presence.md.
/// </summary>
[Alias("room-federated-knocks")]
public interface IRoomFederatedKnocks : IGrainWithStringKey
{
    /// <summary>
    /// <c>GET /_matrix/federation/v1/make_knock</c> for a user of <paramref name="origin"/>: the knock template and room
    /// version, or no template when the room's version is not in <paramref name="supportedVersions"/>.
    /// </summary>
    [Idempotent]
    [AlwaysInterleave]
    [return: Immutable]
    Task<MakeJoinResult> MakeKnockAsync(string origin, string userId, IReadOnlyList<string> supportedVersions);

    /// <summary>
    /// <c>PUT /_matrix/federation/v1/send_knock</c>: checks the knock another server built and signed, co-signs and
    /// appends it; the answer is <c>{"knock_room_state": [...]}</c> (UTF-8 JSON).
    /// </summary>
    [AlwaysInterleave]
    [return: Immutable]
    Task<byte[]> SendKnockAsync(SendJoinRequest request);
}
