namespace HomeServer.Runtime.Messaging;

/// <summary>
/// The framing shared by silos and clients. Each frame is a 4-byte little-endian length, a 1-byte
/// <see cref="FrameType"/>, then a UTF-8 JSON payload. The first frame each way is a hello carrying the
/// protocol version; peers accept any version in [<see cref="MinSupportedVersion"/>, <see cref="CurrentVersion"/>],
/// so two builds can talk during a rolling upgrade.
/// </summary>
public static class WireProtocol
{
    public const int CurrentVersion = 1;
    public const int MinSupportedVersion = 1;

    /// <summary>Frames larger than this are treated as corrupt and close the connection.</summary>
    public const int MaxFrameLength = 16 * 1024 * 1024;

    public const int HeaderLength = 5;
}

public enum FrameType : byte
{
    Hello = 1,
    Request = 2,
    Response = 3,
    Cancel = 4,
    Ping = 5,
    Pong = 6,
    /// <summary>The sender changed the membership table; the receiver should re-read it.</summary>
    MembershipChanged = 7,
    /// <summary>Asks the receiver to deactivate a grain it may host because the sender now owns it.</summary>
    Release = 8,
    Released = 9,
    /// <summary>Asks the receiving silo to drain and stop (an operator's request relayed by a gateway).</summary>
    Drain = 10,
    DrainAccepted = 11,
}

/// <summary>How a call ended, as carried in a response frame.</summary>
public enum ResponseStatus
{
    Ok = 0,
    /// <summary>The grain method threw.</summary>
    Error = 1,
    /// <summary>Rejected before running (not the owner, shutting down, too many hops): safe to retry.</summary>
    TransientRejection = 2,
}
