namespace HomeServer.Grains;

/// <summary>
/// A call argument that lets its grain hold the call for up to <see cref="Timeout"/> before answering (a long poll), so
/// a caller judging whether an answer is overdue knows how long to allow.
/// </summary>
public interface ILongPollRequest
{
    TimeSpan Timeout { get; }
}
