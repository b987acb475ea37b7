namespace HomeServer.Storage;

/// <summary>
/// Invites of local users to rooms of other servers (rooms not on this server, so not in the event log), and their
/// rejections. Each change takes a position of the account-data stream, which /sync already keeps in its tokens.
/// </summary>
public interface IRemoteInviteStore
{
    /// <summary>
    /// Stores the invite, or a knock (<see cref="RemoteInvite.Membership"/> <c>knock</c>, docs/adr/0045), replacing an
    /// earlier invite, knock or rejection of the same user and room, and returns its position. The same event again
    /// changes nothing and returns its first position.
    /// </summary>
    Task<long> SaveInviteAsync(RemoteInvite invite, CancellationToken cancellationToken);

    /// <summary>Records the rejection of the current invite (or knock) <paramref name="inviteEventId"/>; its position, or null when it is not pending.</summary>
    Task<long?> SaveRejectionAsync(string userId, string roomId, string inviteEventId, byte[] leaveEvent, CancellationToken cancellationToken);

    Task<RemoteInvite?> GetAsync(string userId, string roomId, CancellationToken cancellationToken);

    /// <summary>The user's invites and rejections, each at its latest position, for positions in (<paramref name="after"/>, <paramref name="upTo"/>].</summary>
    Task<IReadOnlyList<RemoteInvite>> GetOfUserAsync(string userId, long after, long upTo, CancellationToken cancellationToken);
}

/// <param name="Membership"><c>invite</c> (or <c>knock</c> for a knock of the user), <c>leave</c> once rejected or rescinded.</param>
/// <param name="InviteEvent">The invite as signed by both servers, its <c>unsigned.invite_room_state</c> the stripped state sent with it.</param>
/// <param name="LeaveEvent">The rejection as the room's server accepted it, once rejected.</param>
public sealed record RemoteInvite(
    string UserId, string RoomId, string EventId, string RoomVersion, string Membership, byte[] InviteEvent, byte[]? LeaveEvent, long StreamPosition);
