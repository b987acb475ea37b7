namespace HomeServer.Storage;

/// <summary>
/// Token buckets that must outlive the process counting them (failed logins per account). A bucket without a row
/// is full; the owner deletes the row once the bucket has refilled.
/// </summary>
public interface IRateLimitStore
{
    /// <summary>Every stored bucket of one subject (a user id, a room id).</summary>
    Task<IReadOnlyList<StoredTokenBucket>> GetBucketsAsync(string subject, CancellationToken cancellationToken);

    /// <summary>Inserts or replaces the bucket of <see cref="StoredTokenBucket.Subject"/> and <see cref="StoredTokenBucket.Action"/>.</summary>
    Task SaveBucketAsync(StoredTokenBucket bucket, CancellationToken cancellationToken);

    /// <summary>Forgets the bucket (it is full again); nothing happens when there is none.</summary>
    Task DeleteBucketAsync(string subject, string action, CancellationToken cancellationToken);
}
