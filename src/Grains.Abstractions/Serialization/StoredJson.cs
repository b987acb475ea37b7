using System.Text.Json;

namespace HomeServer.Grains.Serialization;

/// <summary>
/// Options for reading JSON the server itself made or already checked (events, stored content). Client bodies are
/// limited by the gateway to a much smaller depth (InputLimits:MaxJsonDepth, at most <see cref="MaxClientDepth"/>), but
/// an event wraps its content in further levels, and a sync response wraps the event again; with the framework's
/// default of 64 one deep but accepted event would make every later read of it fail.
/// </summary>
public static class StoredJson
{
    /// <summary>The same depth the store accepts when it checks what it writes.</summary>
    public const int MaxDepth = 512;

    /// <summary>The deepest client JSON the gateway may be configured to accept, leaving room for the wrapping levels.</summary>
    public const int MaxClientDepth = 256;

    public static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = MaxDepth };

    public static readonly JsonReaderOptions ReaderOptions = new() { MaxDepth = MaxDepth };
}
