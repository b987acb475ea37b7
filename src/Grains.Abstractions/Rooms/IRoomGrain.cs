using Orleans;
using Orleans.Concurrency;

namespace HomeServer.Grains.Rooms;

/// <summary>The users typing in a room now. <paramref name="Serial"/> increases with every change, also across activations.</summary>
[GenerateSerializer, Alias("hs.TypingState")]
public sealed record TypingState(long Serial, IReadOnlyList<string> UserIds);

/// <summary>
/// One room (key: the room id): owns its timeline order and current state, authorises and persists each event,
/// then tells the sync grains of the users concerned.
/// </summary>
/// <remarks>
/// Writes are interleaved on purpose: they queue into the room's group commit, which alone changes the room's
/// state, so events requested while a batch is being written go into the next batch. Reads work on immutable
/// snapshots. Methods returning <c>byte[]</c> return the UTF-8 JSON body of the matching Client-Server API
/// response. Refusals are <see cref="MatrixRequestException"/>s; rooms that do not exist are refused like rooms
/// the user is not in (M_FORBIDDEN), except where the API defines M_NOT_FOUND.
/// </remarks>
[Alias("room")]
public interface IRoomGrain : IGrainWithStringKey
{
    /// <summary>Creates this room (its key is a fresh room id) with the events of <c>POST /createRoom</c>, in one batch.</summary>
    [AlwaysInterleave]
    Task CreateAsync(CreateRoomRequest request);

    /// <summary>Joins the user (a no-op when already joined). M_NOT_FOUND for an unknown room.</summary>
    [AlwaysInterleave]
    Task JoinAsync(string userId, string? reason);

    /// <summary>Joins the user with the member content of their request (custom keys kept); the same content again is a no-op.</summary>
    [AlwaysInterleave]
    Task JoinWithContentAsync(JoinRequest request);

    /// <summary>Knocks (room versions 7+, join rule knock or knock_restricted); M_FORBIDDEN where not allowed.</summary>
    [AlwaysInterleave]
    Task KnockAsync(string userId, string? reason);

    /// <summary>A no-op when the target is already invited.</summary>
    [AlwaysInterleave]
    Task InviteAsync(MembershipRequest request);

    /// <summary>Leaves, or rejects an invite (a no-op when already left).</summary>
    [AlwaysInterleave]
    Task LeaveAsync(string userId, string? reason);

    [AlwaysInterleave]
    Task KickAsync(MembershipRequest request);

    [AlwaysInterleave]
    Task BanAsync(MembershipRequest request);

    [AlwaysInterleave]
    Task UnbanAsync(MembershipRequest request);

    /// <summary>Forgets the room for a user who is not joined (M_UNKNOWN when joined, M_NOT_FOUND when never a member).</summary>
    [AlwaysInterleave]
    Task ForgetAsync(string userId);

    /// <summary>Re-sends the member event of a joined user with a new display name and avatar (after a profile change).</summary>
    [AlwaysInterleave]
    Task UpdateMemberProfileAsync(string userId, string? displayName, string? avatarUrl);

    /// <summary>Sends a message event (m.room.redaction included); the same transaction id returns the same event id.</summary>
    [Idempotent]
    [AlwaysInterleave]
    Task<string> SendMessageAsync(MessageRequest request);

    /// <summary>Sends a state event (PUT /state; m.room.member included) and returns its event id.</summary>
    [AlwaysInterleave]
    Task<string> SetStateAsync(StateRequest request);

    /// <summary>Redacts an event of this room; the same transaction id returns the same redaction event id.</summary>
    [Idempotent]
    [AlwaysInterleave]
    Task<string> RedactAsync(RedactionRequest request);

    /// <summary>The JSON array of GET /rooms/{roomId}/state.</summary>
    [Idempotent]
    [AlwaysInterleave]
    [return: Immutable]
    Task<byte[]> GetStateAsync(string userId);

    /// <summary>The content (or, with <paramref name="asEvent"/>, the client event) of one state event; M_NOT_FOUND when unset.</summary>
    [Idempotent]
    [AlwaysInterleave]
    [return: Immutable]
    Task<byte[]> GetStateEventAsync(string userId, string eventType, string stateKey, bool asEvent);

    /// <summary>One event in client format; M_NOT_FOUND when unknown, elsewhere or not visible to the user.</summary>
    [Idempotent]
    [AlwaysInterleave]
    [return: Immutable]
    Task<byte[]> GetEventAsync(Reader reader, string eventId);

    [Idempotent]
    [AlwaysInterleave]
    [return: Immutable]
    Task<byte[]> GetMembersAsync(string userId, MembersQuery query);

    /// <summary>
    /// The state at the start of a sync timeline, from the room's pre-serialised snapshot of that state version
    /// (built once however many ask); null when the room does not know the timeline yet (the caller reads the store).
    /// </summary>
    [Idempotent]
    [AlwaysInterleave]
    Task<SyncStateSection?> GetSyncStateAsync(SyncStateQuery query);

    [Idempotent]
    [AlwaysInterleave]
    [return: Immutable]
    Task<byte[]> GetJoinedMembersAsync(string userId);

    [Idempotent]
    [AlwaysInterleave]
    [return: Immutable]
    Task<byte[]> GetMessagesAsync(Reader reader, MessagesQuery query);

    [Idempotent]
    [AlwaysInterleave]
    [return: Immutable]
    Task<byte[]> GetContextAsync(Reader reader, ContextQuery query);

    /// <summary>The events relating to a parent event (/relations); M_NOT_FOUND when the parent is unknown or not visible.</summary>
    [Idempotent]
    [AlwaysInterleave]
    [return: Immutable]
    Task<byte[]> GetRelationsAsync(Reader reader, RelationsQuery query);

    /// <summary>The room's thread roots, latest reply first (/threads).</summary>
    [Idempotent]
    [AlwaysInterleave]
    [return: Immutable]
    Task<byte[]> GetThreadsAsync(Reader reader, ThreadsQuery query);

    /// <summary>
    /// <c>GET /_matrix/federation/v1/make_join</c> for a user of <paramref name="origin"/>: the join template, when the
    /// join would be allowed now. M_NOT_FOUND for an unknown room, M_FORBIDDEN when refused (docs/adr/0034).
    /// </summary>
    [Idempotent]
    [AlwaysInterleave]
    Task<MakeJoinResult> MakeJoinAsync(string origin, string userId, IReadOnlyList<string> supportedVersions);

    /// <summary>
    /// <c>PUT /_matrix/federation/v2/send_join</c>: checks the join event another server built and signed, co-signs and
    /// appends it, and returns the response body (state before the join, auth chain, the event). Sending the same event
    /// again answers again without a second event.
    /// </summary>
    [AlwaysInterleave]
    [return: Immutable]
    Task<byte[]> SendJoinAsync(SendJoinRequest request);

    /// <summary>
    /// <c>GET /_matrix/federation/v1/make_leave</c> for a user of <paramref name="origin"/>: the response body (the leave
    /// template and the room version). M_NOT_FOUND for an unknown room, M_FORBIDDEN when the leave would be refused (docs/adr/0038).
    /// </summary>
    [Idempotent]
    [AlwaysInterleave]
    [return: Immutable]
    Task<byte[]> MakeLeaveAsync(string origin, string userId);

    /// <summary>
    /// <c>PUT /_matrix/federation/v2/send_leave</c>: checks the leave event another server built and signed, co-signs and
    /// appends it. Sending the same event again changes nothing.
    /// </summary>
    [AlwaysInterleave]
    Task SendLeaveAsync(SendJoinRequest request);

    /// <summary>
    /// <c>GET /_matrix/federation/v1/event/{eventId}</c> for a server with a member joined in the room (M_FORBIDDEN
    /// otherwise): the event as a one-PDU transaction, redacted when history visibility hides it from that server.
    /// </summary>
    [Idempotent]
    [AlwaysInterleave]
    [return: Immutable]
    Task<byte[]> GetEventForServerAsync(string origin, string eventId);

    /// <summary>
    /// <c>GET /_matrix/federation/v1/state_ids</c> (<paramref name="idsOnly"/>) or <c>/state</c> for a server with a member
    /// joined in the room: the room state before the event and its auth chain.
    /// </summary>
    [Idempotent]
    [AlwaysInterleave]
    [return: Immutable]
    Task<byte[]> GetStateForServerAsync(string origin, string eventId, bool idsOnly);

    /// <summary>
    /// One PDU of a transaction from <paramref name="origin"/> (<c>PUT /_matrix/federation/v1/send</c>): checked as the
    /// spec's "Checks performed on receipt of a PDU" for a linear room, and appended when it extends the newest event.
    /// Never throws for a refused PDU: the refusal is the result's error (docs/adr/0036-inbound-transactions.md).
    /// </summary>
    [AlwaysInterleave]
    Task<ReceivedPduResult> ReceivePduAsync(string origin, [Immutable] byte[] pdu);

    /// <summary>An <c>m.typing</c> EDU: a joined user of <paramref name="origin"/> starts or stops typing; ignored otherwise.</summary>
    [AlwaysInterleave]
    Task ReceiveTypingAsync(string origin, string userId, bool typing);

    /// <summary>An <c>m.receipt</c> EDU's receipts for this room; those of users not of the origin or not joined are ignored.</summary>
    [AlwaysInterleave]
    Task ReceiveReceiptsAsync(string origin, IReadOnlyList<RemoteReceipt> receipts);

    /// <summary>Whether the room's <c>m.room.server_acl</c> lets <paramref name="server"/> take part; M_NOT_FOUND for an unknown room.</summary>
    [Idempotent]
    [AlwaysInterleave]
    Task<bool> AllowsServerAsync(string server);

    /// <summary>Whether the user is joined; M_NOT_FOUND for an unknown room.</summary>
    [Idempotent]
    [AlwaysInterleave]
    Task<bool> IsJoinedAsync(string userId);

    /// <summary>Whether the user is joined and has the power to send this state event type; M_NOT_FOUND for an unknown room.</summary>
    [Idempotent]
    [AlwaysInterleave]
    Task<bool> CanSendStateAsync(string userId, string eventType);

    /// <summary>
    /// After <paramref name="alias"/> was deleted from the directory: drops it from m.room.canonical_alias (alias and
    /// alt_aliases) with a state event sent by <paramref name="userId"/>, when they may; otherwise leaves the state.
    /// </summary>
    [AlwaysInterleave]
    Task RemoveCanonicalAliasAsync(string alias, string userId);

    /// <summary>The local aliases of the room (GET /rooms/{roomId}/aliases).</summary>
    [Idempotent]
    [AlwaysInterleave]
    Task<IReadOnlyList<string>> GetLocalAliasesAsync(string userId);

    /// <summary>Whether the room is in the published room directory; M_NOT_FOUND for an unknown room.</summary>
    [Idempotent]
    [AlwaysInterleave]
    Task<bool> IsPublishedAsync();

    /// <summary>Publishes or unpublishes the room; needs a server admin or a member allowed to set m.room.canonical_alias.</summary>
    [AlwaysInterleave]
    Task SetPublishedAsync(string userId, bool isAdmin, bool published);

    /// <summary>The room's entry in the published room directory, or null when the room does not exist.</summary>
    [Idempotent]
    [AlwaysInterleave]
    Task<PublicRoomSummary?> GetPublicSummaryAsync();

    /// <summary>Marks a joined user as typing for <paramref name="timeoutMs"/>, or not typing.</summary>
    [AlwaysInterleave]
    Task SetTypingAsync(string userId, bool typing, long timeoutMs);

    [Idempotent]
    [AlwaysInterleave]
    Task<TypingState> GetTypingAsync();

    /// <summary>m.read, m.read.private (receipts) or m.fully_read (the read marker in room account data).</summary>
    [AlwaysInterleave]
    Task SetReceiptAsync(ReceiptRequest request);

    [AlwaysInterleave]
    Task SetReadMarkersAsync(ReadMarkersRequest request);

    // Room previews (peeking) and the legacy per-room reads.

    /// <summary>
    /// The JSON of GET /rooms/{roomId}/initialSync: the newest <paramref name="limit"/> events the reader may see,
    /// the state and the reader's room account data; for a member who left, as the room was when they left.
    /// M_FORBIDDEN for a non-member unless the room is world_readable.
    /// </summary>
    [Idempotent]
    [AlwaysInterleave]
    [return: Immutable]
    Task<byte[]> GetInitialSyncAsync(Reader reader, int limit);

    /// <summary>
    /// The JSON of GET /events?room_id= (start, end, chunk): the events after the room token <paramref name="from"/>
    /// (null: from now) that the reader may see, at most <paramref name="limit"/> of them, waiting up to
    /// <paramref name="wait"/> for one when there are none yet.
    /// </summary>
    [Idempotent]
    [AlwaysInterleave]
    [return: Immutable]
    Task<byte[]> GetEventsAfterAsync(Reader reader, string? from, int limit, TimeSpan wait);

    /// <summary>
    /// Of the given events of this room (search hits), those the user may see and the filter lets through, in the same
    /// order, with their context when asked for; none when the user may not read the room.
    /// </summary>
    [Idempotent]
    [AlwaysInterleave]
    [return: Immutable]
    Task<IReadOnlyList<Search.SearchResultView>> GetSearchResultsAsync(Reader reader, Search.SearchResultsQuery query);

    /// <summary>Whether the user may read some of the room's history (joined, once joined and not forgotten, or world readable).</summary>
    [Idempotent]
    [AlwaysInterleave]
    Task<bool> CanReadAsync(string userId);

    /// <summary>
    /// The JSON body of <c>GET /timestamp_to_event</c>: the event the user may see nearest to the timestamp in the
    /// direction (at or after it forwards, at or before it backwards); M_NOT_FOUND when there is none.
    /// </summary>
    [Idempotent]
    [AlwaysInterleave]
    [return: Immutable]
    Task<byte[]> GetEventByTimestampAsync(string userId, long timestamp, bool forward);

    /// <summary>
    /// <c>GET /_matrix/federation/v1/backfill</c> for a server with a member joined in the room: up to
    /// <paramref name="limit"/> events from the newest of <paramref name="fromEventIds"/> backwards, newest first, those
    /// history visibility hides from the server left out; a transaction (docs/adr/0039-federation-reads.md).
    /// </summary>
    [Idempotent]
    [AlwaysInterleave]
    [return: Immutable]
    Task<byte[]> BackfillForServerAsync(string origin, IReadOnlyList<string> fromEventIds, int limit);

    /// <summary><c>POST /_matrix/federation/v1/get_missing_events</c>: the events before the latest and after the earliest, oldest first.</summary>
    [Idempotent]
    [AlwaysInterleave]
    [return: Immutable]
    Task<byte[]> GetMissingEventsForServerAsync(string origin, MissingEventsQuery query);

    /// <summary><c>GET /_matrix/federation/v1/event_auth</c>: the event's full auth chain.</summary>
    [Idempotent]
    [AlwaysInterleave]
    [return: Immutable]
    Task<byte[]> GetEventAuthForServerAsync(string origin, string eventId);

    /// <summary><c>GET /_matrix/federation/v1/timestamp_to_event</c>: the closest event the server may see, or M_NOT_FOUND.</summary>
    [Idempotent]
    [AlwaysInterleave]
    [return: Immutable]
    Task<byte[]> GetEventByTimestampForServerAsync(string origin, long timestamp, bool forward);

    /// <summary>The room for another server's space hierarchy; null when the room does not exist here.</summary>
    [Idempotent]
    [AlwaysInterleave]
    Task<ServerRoomPreview?> GetPreviewForServerAsync(string origin);

    /// <summary>
    /// The room as <paramref name="userId"/> (null: anonymous) may preview it, or null when the room does not exist or
    /// they may not: joined or invited, a public or knockable join rule, a restricted one they meet, or world_readable
    /// history (anonymous: only the join rules public, knock, knock_restricted and world_readable history).
    /// </summary>
    [Idempotent]
    [AlwaysInterleave]
    Task<RoomPreview?> GetPreviewAsync(string? userId);

    /// <summary>
    /// Upgrades the room to <paramref name="newVersion"/> for a joined user who may send m.room.tombstone and returns
    /// the replacement room's id; M_UNSUPPORTED_ROOM_VERSION for a version this server does not know.
    /// </summary>
    [AlwaysInterleave]
    Task<string> UpgradeAsync(string userId, string newVersion);
}
