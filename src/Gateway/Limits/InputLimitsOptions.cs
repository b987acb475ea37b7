namespace HomeServer.Gateway.Limits;

/// <summary>
/// How much a single request may carry, so no client can make the server parse, hold or store without bound
/// (docs/adr/0013-input-limits.md). Bound from the <c>InputLimits</c> configuration section; the largest body of all is
/// <see cref="MatrixGatewayOptions.MaxRequestBodyBytes"/>. The section's <c>MaxParkedSyncsPerUser</c> belongs to the sync
/// grains (<c>ParkedSyncOptions</c>).
/// </summary>
public sealed class InputLimitsOptions
{
    public const string SectionName = "InputLimits";

    /// <summary>Deepest nesting of objects and arrays in a JSON body or filter; deeper is 400 <c>M_BAD_JSON</c>.</summary>
    public int MaxJsonDepth { get; set; } = 64;

    /// <summary>Body of an event send, state event or redaction: the spec's limit of 65536 bytes for a whole event.</summary>
    public long MaxEventBodyBytes { get; set; } = 65_536;

    /// <summary>Body of the account and membership endpoints (login, register, password, devices, profile, join, …).</summary>
    public long MaxSmallBodyBytes { get; set; } = 16 * 1024;

    /// <summary>Users in the <c>invite</c> list of one createRoom.</summary>
    public int MaxInvitesPerRoomCreation { get; set; } = 100;

    /// <summary>Events in the <c>initial_state</c> list of one createRoom.</summary>
    public int MaxInitialStateEvents { get; set; } = 100;

    /// <summary>Entries of each list of a filter (rooms, not_rooms, types, senders, event_fields, …).</summary>
    public int MaxFilterListItems { get; set; } = 1000;

    /// <summary>Length in UTF-8 bytes of each string in a filter's lists.</summary>
    public int MaxFilterStringBytes { get; set; } = 255;

    /// <summary>Open connections from one IP address; further ones are closed at once. 0 turns the limit off.</summary>
    public int MaxConnectionsPerIp { get; set; } = 1000;
}
