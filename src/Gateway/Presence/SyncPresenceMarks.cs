using Microsoft.Extensions.Caching.Memory;

namespace HomeServer.Gateway.Presence;

/// <summary>
/// The users this process marked present for a /sync in the last few seconds, and as what. A client long-polls again
/// as soon as a response arrives, up to ten times a second in a busy room, and each /sync marked the user's presence
/// with a grain call although the presence grain keeps activity only to the minute (docs/adr/0014). A mark that is
/// still fresh is not sent again. A presence set through the presence endpoint of this process forgets the user's
/// mark, so the next /sync marks again at once; one set through another process can be kept for up to
/// <see cref="Window"/> by this one.
/// </summary>
public sealed class SyncPresenceMarks : IDisposable
{
    public static readonly TimeSpan Window = TimeSpan.FromSeconds(10);

    private readonly MemoryCache _marked = new(new MemoryCacheOptions { ExpirationScanFrequency = TimeSpan.FromSeconds(30) });

    public bool IsFresh(string userId, string presence) =>
        _marked.TryGetValue(userId, out string? marked) && marked == presence;

    public void Marked(string userId, string presence) => _marked.Set(userId, presence, Window);

    public void Forget(string userId) => _marked.Remove(userId);

    public void Dispose() => _marked.Dispose();
}
