using HomeServer.Storage;

namespace HomeServer.Grains.Sync;

/// <summary>What one /sync response carries, before it is written as JSON.</summary>
internal sealed class SyncResult(SyncToken nextBatch)
{
    public SyncToken NextBatch { get; } = nextBatch;
    public List<JoinedRoomResult> Joined { get; } = [];
    public List<StrippedRoomResult> Invited { get; } = [];
    public List<StrippedRoomResult> Knocked { get; } = [];
    public List<LeftRoomResult> Left { get; } = [];
    public List<AccountDataEntry> AccountData { get; } = [];

    /// <summary>The presence section (<see cref="SyncPresence"/>), in stream order.</summary>
    public List<StoredPresence> Presence { get; } = [];

    /// <summary>The requesting device's to-device messages (<see cref="SyncToDevice"/>), in stream order.</summary>
    public List<ToDeviceMessage> ToDevice { get; } = [];

    /// <summary>device_lists (<see cref="SyncDeviceLists"/>); a change wakes a long-poll.</summary>
    public List<string> DeviceListsChanged { get; } = [];
    public List<string> DeviceListsLeft { get; } = [];

    /// <summary>
    /// The requesting device's one-time key counts and unused fallback key algorithms, always written; they alone do
    /// not make a response non-empty (Synapse does not wake a long-poll for them). Null: written as none.
    /// </summary>
    public DeviceKeyCounts? DeviceKeys { get; set; }

    public bool IsEmpty => Joined.Count == 0 && Invited.Count == 0 && Knocked.Count == 0 && Left.Count == 0 && AccountData.Count == 0 && Presence.Count == 0
        && ToDevice.Count == 0 && DeviceListsChanged.Count == 0 && DeviceListsLeft.Count == 0;
}

internal sealed record TimelineResult(IReadOnlyList<StoredEvent> Events, bool Limited, string? PrevBatch);

/// <summary>A timeline assembled from the rooms' shared events: never limited (such responses come from the store).</summary>
internal sealed record SharedTimelineResult(IReadOnlyList<SharedEvent> Events, string PrevBatch);

/// <param name="Heroes">Null when the room has a name or canonical alias: clients need no heroes to name it.</param>
internal sealed record RoomSummary(IReadOnlyList<string>? Heroes, int JoinedMemberCount, int InvitedMemberCount);

internal sealed class JoinedRoomResult(string roomId)
{
    public string RoomId { get; } = roomId;
    public TimelineResult? Timeline { get; set; }

    /// <summary>Set instead of <see cref="Timeline"/> when the response is built from shared events.</summary>
    public SharedTimelineResult? SharedTimeline { get; set; }
    public List<StoredEvent> State { get; } = [];

    /// <summary>
    /// True when <see cref="State"/> came from the room's cached snapshot: each event's JSON is already the /sync
    /// client format and is copied as it is, not re-read.
    /// </summary>
    public bool StateIsPreSerialised { get; set; }

    /// <summary>
    /// When <see cref="State"/> is a snapshot's whole state on this silo: its events' JSON, comma-separated, shared by
    /// every response of that state version; the response references it instead of copying it (docs/adr/0027).
    /// </summary>
    public byte[]? SharedStateJson { get; set; }
    public RoomSummary? Summary { get; set; }

    /// <summary>The users typing now, when that changed since the since token (null: leave m.typing out).</summary>
    public IReadOnlyList<string>? Typing { get; set; }
    public List<Receipt> Receipts { get; } = [];
    public List<AccountDataEntry> AccountData { get; } = [];

    /// <summary>unread_notifications: the main timeline's counts, or all threads' when the filter does not split them.</summary>
    public (long Notifications, long Highlights) Unread { get; set; }

    /// <summary>unread_thread_notifications by thread root, when the filter asks for it (null: left out).</summary>
    public Dictionary<string, (long Notifications, long Highlights)>? ThreadUnread { get; set; }

    /// <summary>Whether the response must carry the room even without timeline, state or ephemeral events.</summary>
    public bool Forced { get; set; }

    public bool HasContent =>
        Forced || Timeline is { Events.Count: > 0 } || SharedTimeline is { Events.Count: > 0 } || State.Count > 0
        || Typing is not null || Receipts.Count > 0 || AccountData.Count > 0;
}

/// <summary>A room the user is invited to or knocked on: the stripped state the spec gives for both.</summary>
internal sealed class StrippedRoomResult(string roomId)
{
    public string RoomId { get; } = roomId;
    public List<StoredEvent> StrippedState { get; } = [];
}

internal sealed class LeftRoomResult(string roomId)
{
    public string RoomId { get; } = roomId;
    public TimelineResult? Timeline { get; set; }
    public List<StoredEvent> State { get; } = [];
    public List<AccountDataEntry> AccountData { get; } = [];
}
