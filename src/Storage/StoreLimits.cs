namespace HomeServer.Storage;

/// <summary>Sizes the store accepts; anything larger is rejected with an ArgumentException before any write.</summary>
public static class StoreLimits
{
    /// <summary>User, room and event ids, aliases, device ids, event and data types, state keys, transaction ids (UTF-8 bytes; the spec's 255 for ids).</summary>
    public const int MaxIdentifierBytes = 255;

    /// <summary>The spec's limit for a whole event.</summary>
    public const int MaxEventJsonBytes = 65_536;

    /// <summary>Account data content, receipt data and filters.</summary>
    public const int MaxContentJsonBytes = 65_536;

    public const int MaxPasswordHashBytes = 1_024;

    public const int MaxDisplayNameBytes = 1_024;

    public const int MaxUrlBytes = 2_048;

    /// <summary>A presence status message.</summary>
    public const int MaxStatusMessageBytes = 4_096;

    public const int MaxIpAddressBytes = 64;

    public const int MaxAccessTokenBytes = 1_024;

    public const int MaxEventsPerBatch = 1_000;

    /// <summary>Recipients (a user's device, or all its devices) of one to-device send.</summary>
    public const int MaxToDeviceRecipientsPerSend = 10_000;

    /// <summary>Largest page any query returns.</summary>
    public const int MaxQueryLimit = 10_000;

    /// <summary>Most rooms one cross-room query may name.</summary>
    public const int MaxRoomsPerQuery = 100_000;
}
