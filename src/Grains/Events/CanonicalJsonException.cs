namespace HomeServer.Grains.Events;

/// <summary>The value cannot be represented as canonical JSON (maps to <c>M_BAD_JSON</c>).</summary>
public sealed class CanonicalJsonException(string message, Exception? innerException = null)
    : FormatException(message, innerException);
