using Orleans;

namespace HomeServer.Grains;

/// <summary>
/// A grain could not reach the durable store (connection refused, lost or timed out) and failed fast instead of
/// waiting. Nothing was acknowledged; retrying later is safe for idempotent requests. The gateway answers it with 503.
/// </summary>
[GenerateSerializer, Alias("hs.StoreUnavailableError")]
public sealed class StoreUnavailableError(string message, Exception? inner = null) : Exception(message, inner);
