using System.Security.Cryptography;
using Orleans;
using Orleans.Concurrency;

namespace HomeServer.Grains.Media;

/// <summary>What was uploaded to a media id.</summary>
/// <param name="ContentType">As the uploader declared it (application/octet-stream when it declared none).</param>
/// <param name="UploadName">The filename the uploader gave, or null.</param>
[GenerateSerializer, Immutable, Alias("hs.MediaContent")]
public sealed record MediaContent(string ContentType, string? UploadName, long SizeBytes);

/// <summary>A local media id's record.</summary>
/// <param name="UnusedExpiresAt">Set while pending (created, nothing uploaded yet).</param>
/// <param name="Content">Null while pending.</param>
[GenerateSerializer, Immutable, Alias("hs.MediaRecord")]
public sealed record MediaRecord(string MediaId, string UserId, long CreatedAt, long? UnusedExpiresAt, MediaContent? Content)
{
    public bool IsPending => Content is null;
}

/// <summary>How a PUT to a created media id went.</summary>
public enum MediaCompletion
{
    Stored,
    /// <summary>Never created, or expired while unused.</summary>
    NotFound,
    /// <summary>Created by another user.</summary>
    NotCreator,
    AlreadyUploaded,
}

/// <summary>
/// The content repository's records of local media (stateless: every call reads or writes the store). The bytes are
/// the gateway's (docs/adr/0019); this grain only says which ids exist, whose they are and what they hold.
/// </summary>
[Alias("media")]
public interface IMediaGrain : IGrainWithStringKey
{
    /// <summary>
    /// POST /media/v1/create: a new pending id for the user, usable until <paramref name="unusedExpiresAt"/>; null
    /// when the user already has <paramref name="maxPending"/> pending ids.
    /// </summary>
    Task<string?> CreatePendingAsync(string userId, long unusedExpiresAt, int maxPending);

    /// <summary>POST /media/v3/upload: records content whose bytes are stored under <paramref name="mediaId"/> already.</summary>
    Task RecordUploadAsync(string mediaId, string userId, MediaContent content);

    /// <summary>PUT /media/v3/upload/{serverName}/{mediaId}: records the content of a pending id, once.</summary>
    Task<MediaCompletion> CompletePendingAsync(string mediaId, string userId, MediaContent content);

    /// <summary>The record of a local media id; null when there is none.</summary>
    [Idempotent]
    Task<MediaRecord?> GetAsync(string mediaId);
}

/// <summary>Local media ids: opaque, unguessable, and safe as a file name and a URL path segment.</summary>
public static class MediaIds
{
    private const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    public const int Length = 24;

    public static string New() => RandomNumberGenerator.GetString(Alphabet, Length);

    /// <summary>True when <paramref name="mediaId"/> could have come from <see cref="New"/>.</summary>
    public static bool IsWellFormed(string? mediaId) =>
        mediaId is { Length: Length } && mediaId.All(c => c is >= 'A' and <= 'Z' or >= 'a' and <= 'z');
}
