namespace HomeServer.Grains.Events;

public enum EventBuildError
{
    /// <summary>A field is missing, malformed or too long (<c>M_INVALID_PARAM</c> / <c>M_BAD_JSON</c>).</summary>
    InvalidField,

    /// <summary>The content cannot be canonical JSON, e.g. it holds a float (<c>M_BAD_JSON</c>).</summary>
    BadJson,

    /// <summary>The event exceeds 65536 bytes of canonical JSON (<c>M_TOO_LARGE</c>).</summary>
    TooLarge,
}

public sealed class EventBuildException(EventBuildError error, string message, Exception? innerException = null)
    : Exception(message, innerException)
{
    public EventBuildError Error { get; } = error;
}
