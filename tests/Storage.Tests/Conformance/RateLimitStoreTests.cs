namespace HomeServer.Storage.Tests.Conformance;

public abstract class RateLimitStoreTests<TBackend> : StoreTestBase<TBackend>
    where TBackend : Backends.ITestStoreBackend, new()
{
    [Fact]
    public async Task Buckets_are_saved_replaced_read_per_subject_and_deleted()
    {
        await Store.RateLimits.SaveBucketAsync(new StoredTokenBucket(Alice, "LoginFailedAttempts", 1.25, 1000), Ct);
        await Store.RateLimits.SaveBucketAsync(new StoredTokenBucket(Alice, "Other", 0, 2000), Ct);
        await Store.RateLimits.SaveBucketAsync(new StoredTokenBucket(Bob, "LoginFailedAttempts", 2, 3000), Ct);
        await Store.RateLimits.SaveBucketAsync(new StoredTokenBucket(Alice, "LoginFailedAttempts", 0.5, 4000), Ct);

        Assert.Equal(
            [new StoredTokenBucket(Alice, "LoginFailedAttempts", 0.5, 4000), new StoredTokenBucket(Alice, "Other", 0, 2000)],
            (await Store.RateLimits.GetBucketsAsync(Alice, Ct)).OrderBy(b => b.Action, StringComparer.Ordinal));

        await Store.RateLimits.DeleteBucketAsync(Alice, "LoginFailedAttempts", Ct);
        await Store.RateLimits.DeleteBucketAsync(Carol, "LoginFailedAttempts", Ct);

        Assert.Equal([new StoredTokenBucket(Alice, "Other", 0, 2000)], await Store.RateLimits.GetBucketsAsync(Alice, Ct));
        Assert.Single(await Store.RateLimits.GetBucketsAsync(Bob, Ct));
        Assert.Empty(await Store.RateLimits.GetBucketsAsync(Carol, Ct));
    }

    [Fact]
    public async Task Bad_buckets_are_refused_before_anything_is_written()
    {
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Store.RateLimits.SaveBucketAsync(new StoredTokenBucket("", "a", 1, 1), Ct));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Store.RateLimits.SaveBucketAsync(new StoredTokenBucket(Alice, "a\0b", 1, 1), Ct));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Store.RateLimits.SaveBucketAsync(new StoredTokenBucket(Alice, "a", double.NaN, 1), Ct));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Store.RateLimits.SaveBucketAsync(new StoredTokenBucket(Alice, "a", -1, 1), Ct));
        Assert.Empty(await Store.RateLimits.GetBucketsAsync(Alice, Ct));
    }
}
