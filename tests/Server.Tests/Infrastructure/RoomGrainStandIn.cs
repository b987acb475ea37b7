using HomeServer.Grains;
using HomeServer.Grains.Rooms;
using Orleans;

namespace HomeServer.Server.Tests.Infrastructure;

/// <summary>
/// Base for test stand-ins of the room grain: every method throws until a subclass overrides the ones its test
/// observes, so stand-ins stay small as the room grain's interface grows.
/// </summary>
public abstract class RoomGrainStandIn : HomeServerGrain, IRoomGrain
{
    public virtual Task CreateAsync(CreateRoomRequest request) => throw new NotSupportedException();

    public virtual Task JoinAsync(string userId, string? reason) => throw new NotSupportedException();

    public virtual Task JoinWithContentAsync(JoinRequest request) => throw new NotSupportedException();

    public virtual Task RemoveCanonicalAliasAsync(string alias, string userId) => throw new NotSupportedException();

    public virtual Task KnockAsync(string userId, string? reason) => throw new NotSupportedException();

    public virtual Task InviteAsync(MembershipRequest request) => throw new NotSupportedException();

    public virtual Task LeaveAsync(string userId, string? reason) => throw new NotSupportedException();

    public virtual Task KickAsync(MembershipRequest request) => throw new NotSupportedException();

    public virtual Task BanAsync(MembershipRequest request) => throw new NotSupportedException();

    public virtual Task UnbanAsync(MembershipRequest request) => throw new NotSupportedException();

    public virtual Task ForgetAsync(string userId) => throw new NotSupportedException();

    public virtual Task<MakeJoinResult> MakeJoinAsync(string origin, string userId, IReadOnlyList<string> supportedVersions) => throw new NotSupportedException();

    public virtual Task<byte[]> SendJoinAsync(SendJoinRequest request) => throw new NotSupportedException();

    public virtual Task<byte[]> MakeLeaveAsync(string origin, string userId) => throw new NotSupportedException();

    public virtual Task SendLeaveAsync(SendJoinRequest request) => throw new NotSupportedException();

    public virtual Task<byte[]> GetEventForServerAsync(string origin, string eventId) => throw new NotSupportedException();

    public virtual Task<byte[]> GetStateForServerAsync(string origin, string eventId, bool idsOnly) => throw new NotSupportedException();

    public virtual Task<ReceivedPduResult> ReceivePduAsync(string origin, byte[] pdu) => throw new NotSupportedException();

    public virtual Task ReceiveTypingAsync(string origin, string userId, bool typing) => throw new NotSupportedException();

    public virtual Task ReceiveReceiptsAsync(string origin, IReadOnlyList<RemoteReceipt> receipts) => throw new NotSupportedException();

    public virtual Task UpdateMemberProfileAsync(string userId, string? displayName, string? avatarUrl) => throw new NotSupportedException();

    public virtual Task<string> SendMessageAsync(MessageRequest request) => throw new NotSupportedException();

    public virtual Task<string> SetStateAsync(StateRequest request) => throw new NotSupportedException();

    public virtual Task<string> RedactAsync(RedactionRequest request) => throw new NotSupportedException();

    public virtual Task<byte[]> GetStateAsync(string userId) => throw new NotSupportedException();

    public virtual Task<byte[]> GetStateEventAsync(string userId, string eventType, string stateKey, bool asEvent) => throw new NotSupportedException();

    public virtual Task<byte[]> GetEventAsync(Reader reader, string eventId) => throw new NotSupportedException();

    public virtual Task<byte[]> GetMembersAsync(string userId, MembersQuery query) => throw new NotSupportedException();

    public virtual Task<SyncStateSection?> GetSyncStateAsync(SyncStateQuery query) => throw new NotSupportedException();

    public virtual Task<byte[]> GetJoinedMembersAsync(string userId) => throw new NotSupportedException();

    public virtual Task<byte[]> GetMessagesAsync(Reader reader, MessagesQuery query) => throw new NotSupportedException();

    public virtual Task<byte[]> GetContextAsync(Reader reader, ContextQuery query) => throw new NotSupportedException();

    public virtual Task<byte[]> GetRelationsAsync(Reader reader, RelationsQuery query) => throw new NotSupportedException();

    public virtual Task<byte[]> GetThreadsAsync(Reader reader, ThreadsQuery query) => throw new NotSupportedException();

    public virtual Task<bool> AllowsServerAsync(string server) => throw new NotSupportedException();
    public virtual Task<bool> IsJoinedAsync(string userId) => throw new NotSupportedException();

    public virtual Task<bool> CanSendStateAsync(string userId, string eventType) => throw new NotSupportedException();

    public virtual Task<IReadOnlyList<string>> GetLocalAliasesAsync(string userId) => throw new NotSupportedException();

    public virtual Task<bool> IsPublishedAsync() => throw new NotSupportedException();

    public virtual Task SetPublishedAsync(string userId, bool isAdmin, bool published) => throw new NotSupportedException();

    public virtual Task<PublicRoomSummary?> GetPublicSummaryAsync() => throw new NotSupportedException();

    public virtual Task SetTypingAsync(string userId, bool typing, long timeoutMs) => throw new NotSupportedException();

    public virtual Task<TypingState> GetTypingAsync() => throw new NotSupportedException();

    public virtual Task SetReceiptAsync(ReceiptRequest request) => throw new NotSupportedException();

    public virtual Task SetReadMarkersAsync(ReadMarkersRequest request) => throw new NotSupportedException();

    public virtual Task<byte[]> GetInitialSyncAsync(Reader reader, int limit) => throw new NotSupportedException();

    public virtual Task<byte[]> GetEventsAfterAsync(Reader reader, string? from, int limit, TimeSpan wait) => throw new NotSupportedException();

    public virtual Task<IReadOnlyList<Grains.Search.SearchResultView>> GetSearchResultsAsync(Reader reader, Grains.Search.SearchResultsQuery query) =>
        throw new NotSupportedException();

    public virtual Task<bool> CanReadAsync(string userId) => throw new NotSupportedException();

    public virtual Task<byte[]> GetEventByTimestampAsync(string userId, long timestamp, bool forward) => throw new NotSupportedException();

    public virtual Task<byte[]> BackfillForServerAsync(string origin, IReadOnlyList<string> fromEventIds, int limit) => throw new NotSupportedException();

    public virtual Task<byte[]> GetMissingEventsForServerAsync(string origin, MissingEventsQuery query) => throw new NotSupportedException();

    public virtual Task<byte[]> GetEventAuthForServerAsync(string origin, string eventId) => throw new NotSupportedException();

    public virtual Task<byte[]> GetEventByTimestampForServerAsync(string origin, long timestamp, bool forward) => throw new NotSupportedException();

    public virtual Task<ServerRoomPreview?> GetPreviewForServerAsync(string origin) => throw new NotSupportedException();

    public virtual Task<RoomPreview?> GetPreviewAsync(string? userId) => throw new NotSupportedException();

    public virtual Task<string> UpgradeAsync(string userId, string newVersion) => throw new NotSupportedException();
}
