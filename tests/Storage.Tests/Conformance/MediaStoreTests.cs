using HomeServer.Storage.Tests.Backends;

namespace HomeServer.Storage.Tests.Conformance;

/// <summary>Media records: pending ids with their limit and expiry, one-step uploads, and completing a pending id once.</summary>
public abstract class MediaStoreTests<TBackend> : StoreTestBase<TBackend>
    where TBackend : ITestStoreBackend, new()
{
    private const long Now = 1_000_000;
    private static readonly StoredMediaContent Text = new("text/plain", "a.txt", 5);

    protected override async Task SeedAsync()
    {
        await CreateAccountAsync(Alice);
        await CreateAccountAsync(Bob);
    }

    [Fact]
    public async Task A_pending_id_is_completed_once_by_its_creator_before_it_expires()
    {
        Assert.True(await Store.Media.CreatePendingAsync("pending1", Alice, Now, Now + 100, 5, Ct));
        var pending = await Store.Media.GetAsync("pending1", Ct);
        Assert.Equal(new StoredMedia("pending1", Alice, Now, Now + 100, null, null), pending);

        Assert.False(await Store.Media.CompletePendingAsync("pending1", Bob, Now + 1, Text, Ct));
        Assert.False(await Store.Media.CompletePendingAsync("unknown", Alice, Now + 1, Text, Ct));
        Assert.True(await Store.Media.CompletePendingAsync("pending1", Alice, Now + 1, Text, Ct));
        Assert.False(await Store.Media.CompletePendingAsync("pending1", Alice, Now + 2, new StoredMediaContent("image/png", null, 9), Ct));
        Assert.Equal(new StoredMedia("pending1", Alice, Now, null, Now + 1, Text), await Store.Media.GetAsync("pending1", Ct));

        // Past its expiry a pending id takes no content.
        Assert.True(await Store.Media.CreatePendingAsync("pending2", Alice, Now, Now + 100, 5, Ct));
        Assert.False(await Store.Media.CompletePendingAsync("pending2", Alice, Now + 100, Text, Ct));
        Assert.Null((await Store.Media.GetAsync("pending2", Ct))!.UploadedAt);
    }

    [Fact]
    public async Task Pending_ids_are_limited_per_user_and_expired_ones_do_not_count()
    {
        Assert.True(await Store.Media.CreatePendingAsync("a1", Alice, Now, Now + 10, 2, Ct));
        Assert.True(await Store.Media.CreatePendingAsync("a2", Alice, Now, Now + 1000, 2, Ct));
        Assert.False(await Store.Media.CreatePendingAsync("a3", Alice, Now, Now + 1000, 2, Ct));
        Assert.Null(await Store.Media.GetAsync("a3", Ct));
        Assert.True(await Store.Media.CreatePendingAsync("b1", Bob, Now, Now + 1000, 2, Ct));

        // a1 expires at Now + 10; uploading a2 frees its place too.
        Assert.True(await Store.Media.CreatePendingAsync("a3", Alice, Now + 10, Now + 1000, 2, Ct));
        Assert.False(await Store.Media.CreatePendingAsync("a4", Alice, Now + 10, Now + 1000, 2, Ct));
        Assert.True(await Store.Media.CompletePendingAsync("a2", Alice, Now + 11, Text, Ct));
        Assert.True(await Store.Media.CreatePendingAsync("a4", Alice, Now + 11, Now + 1000, 2, Ct));
    }

    [Fact]
    public async Task Uploaded_media_is_recorded_once_per_id()
    {
        Assert.True(await Store.Media.AddUploadedAsync("up1", Alice, Now, Text, Ct));
        Assert.False(await Store.Media.AddUploadedAsync("up1", Bob, Now, new StoredMediaContent("image/png", null, 1), Ct));
        Assert.Equal(new StoredMedia("up1", Alice, Now, null, Now, Text), await Store.Media.GetAsync("up1", Ct));
        Assert.False(await Store.Media.CompletePendingAsync("up1", Alice, Now, Text, Ct));
        Assert.False(await Store.Media.CreatePendingAsync("up1", Alice, Now, Now + 10, 5, Ct));
        Assert.Equal(1, await CountRowsAsync("media"));

        await Assert.ThrowsAsync<ArgumentException>(() => Store.Media.AddUploadedAsync("up2", Alice, Now, new StoredMediaContent("", null, 1), Ct));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Store.Media.AddUploadedAsync("up2", Alice, Now, new StoredMediaContent("a/b", null, -1), Ct));
        Assert.Null(await Store.Media.GetAsync("up2", Ct));
    }

    [Fact]
    public async Task Remote_media_is_recorded_once_per_server_and_id_and_the_first_record_wins()
    {
        var first = new StoredRemoteMedia("remote.example:8448", "abc-DEF_1", "fileAAAA", Text, Now);
        Assert.Null(await Store.Media.GetRemoteAsync("remote.example:8448", "abc-DEF_1", Ct));
        Assert.Equal(first, await Store.Media.AddRemoteAsync(first, Ct));

        // A second fetch of the same media (another silo, a race) keeps the first record and file.
        var second = first with { FileId = "fileBBBB", FetchedAt = Now + 5, Content = new StoredMediaContent("image/png", null, 9) };
        Assert.Equal(first, await Store.Media.AddRemoteAsync(second, Ct));
        Assert.Equal(first, await Store.Media.GetRemoteAsync("remote.example:8448", "abc-DEF_1", Ct));

        // The same media id on another server, or the id as local media, is something else.
        Assert.Null(await Store.Media.GetRemoteAsync("other.example", "abc-DEF_1", Ct));
        Assert.Null(await Store.Media.GetAsync("abc-DEF_1", Ct));
        var other = new StoredRemoteMedia("other.example", "abc-DEF_1", "fileCCCC", new StoredMediaContent("image/png", null, 9), Now);
        Assert.Equal(other, await Store.Media.AddRemoteAsync(other, Ct));
        Assert.Equal(2, await CountRowsAsync("remote_media"));
    }

    [Fact]
    public async Task Remote_thumbnails_are_recorded_once_per_media_size_method_and_animation()
    {
        var key = new RemoteThumbnailKey(320, 240, "scale", false);
        var first = new StoredRemoteThumbnail("remote.example", "media1", key, "thumbAAA", "image/jpeg", 1234, Now);
        Assert.Null(await Store.Media.GetRemoteThumbnailAsync("remote.example", "media1", key, Ct));
        Assert.Equal(first, await Store.Media.AddRemoteThumbnailAsync(first, Ct));
        Assert.Equal(first, await Store.Media.AddRemoteThumbnailAsync(first with { FileId = "thumbBBB", SizeBytes = 9 }, Ct));
        Assert.Equal(first, await Store.Media.GetRemoteThumbnailAsync("remote.example", "media1", key, Ct));

        // Any other part of the key is another thumbnail.
        foreach (var other in new[] { key with { Width = 321 }, key with { Height = 241 }, key with { Method = "crop" }, key with { Animated = true } })
            Assert.Null(await Store.Media.GetRemoteThumbnailAsync("remote.example", "media1", other, Ct));
        Assert.Null(await Store.Media.GetRemoteThumbnailAsync("remote.example", "media2", key, Ct));
        var animated = first with { Key = key with { Animated = true }, FileId = "thumbCCC", ContentType = "image/webp" };
        Assert.Equal(animated, await Store.Media.AddRemoteThumbnailAsync(animated, Ct));
        Assert.Equal(animated, await Store.Media.GetRemoteThumbnailAsync("remote.example", "media1", key with { Animated = true }, Ct));

        await Assert.ThrowsAsync<ArgumentException>(() => Store.Media.AddRemoteThumbnailAsync(first with { Key = key with { Method = "stretch" } }, Ct));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Store.Media.AddRemoteThumbnailAsync(first with { Key = key with { Width = 0 } }, Ct));
    }

    [Fact]
    public async Task The_remote_cache_counts_its_bytes_and_lists_files_least_recently_used_first()
    {
        Assert.Equal(0, await Store.Media.GetRemoteCacheBytesAsync(Ct));
        Assert.Empty(await Store.Media.GetLeastRecentlyUsedRemoteFilesAsync(10, Ct));

        await Store.Media.AddRemoteAsync(new StoredRemoteMedia("remote.example", "old", "fileOld", new StoredMediaContent("image/png", null, 100), Now), Ct);
        await Store.Media.AddRemoteAsync(new StoredRemoteMedia("remote.example", "new", "fileNew", new StoredMediaContent("image/png", null, 200), Now + 10), Ct);
        await Store.Media.AddRemoteThumbnailAsync(
            new StoredRemoteThumbnail("remote.example", "old", new RemoteThumbnailKey(32, 32, "crop", false), "thumbMid", "image/png", 7, Now + 5), Ct);
        Assert.Equal(307, await Store.Media.GetRemoteCacheBytesAsync(Ct));
        Assert.Equal(
            [new CachedRemoteFile("fileOld", 100, Now, false), new CachedRemoteFile("thumbMid", 7, Now + 5, true), new CachedRemoteFile("fileNew", 200, Now + 10, false)],
            await Store.Media.GetLeastRecentlyUsedRemoteFilesAsync(10, Ct));
        Assert.Equal(["fileOld"], (await Store.Media.GetLeastRecentlyUsedRemoteFilesAsync(1, Ct)).Select(f => f.FileId));

        // Serving a file makes it the most recent; an older time never moves it back.
        await Store.Media.MarkRemoteFileUsedAsync("fileOld", Now + 20, Ct);
        await Store.Media.MarkRemoteFileUsedAsync("thumbMid", Now + 15, Ct);
        await Store.Media.MarkRemoteFileUsedAsync("fileOld", Now + 1, Ct);
        Assert.Equal(
            [new CachedRemoteFile("fileNew", 200, Now + 10, false), new CachedRemoteFile("thumbMid", 7, Now + 15, true), new CachedRemoteFile("fileOld", 100, Now + 20, false)],
            await Store.Media.GetLeastRecentlyUsedRemoteFilesAsync(10, Ct));

        // Removing a file forgets its record, original or thumbnail; the rest stays.
        Assert.True(await Store.Media.RemoveRemoteFileAsync("fileNew", Ct));
        Assert.False(await Store.Media.RemoveRemoteFileAsync("fileNew", Ct));
        Assert.Null(await Store.Media.GetRemoteAsync("remote.example", "new", Ct));
        Assert.True(await Store.Media.RemoveRemoteFileAsync("thumbMid", Ct));
        Assert.Null(await Store.Media.GetRemoteThumbnailAsync("remote.example", "old", new RemoteThumbnailKey(32, 32, "crop", false), Ct));
        Assert.NotNull(await Store.Media.GetRemoteAsync("remote.example", "old", Ct));
        Assert.Equal(100, await Store.Media.GetRemoteCacheBytesAsync(Ct));

        // A media fetched again after eviction is recorded anew, recent.
        await Store.Media.AddRemoteAsync(new StoredRemoteMedia("remote.example", "new", "fileNew2", new StoredMediaContent("image/png", null, 50), Now + 30), Ct);
        Assert.Equal(["fileOld", "fileNew2"], (await Store.Media.GetLeastRecentlyUsedRemoteFilesAsync(10, Ct)).Select(f => f.FileId));
    }
}
