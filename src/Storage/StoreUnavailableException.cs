namespace HomeServer.Storage;

/// <summary>
/// The durable store a grain needs could not be reached (connection refused, lost or timed out). The call
/// failed fast instead of waiting; retrying later is safe for idempotent requests.
/// </summary>
public sealed class StoreUnavailableException : Exception
{
    public StoreUnavailableException(string message) : base(message)
    {
    }

    public StoreUnavailableException(string message, Exception inner) : base(message, inner)
    {
    }
}
