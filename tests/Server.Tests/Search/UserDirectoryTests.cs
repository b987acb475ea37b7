using System.Net;
using System.Text.Json;
using HomeServer.Server.Tests.Infrastructure;
using HomeServer.Server.Tests.Rooms;
using HomeServer.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace HomeServer.Server.Tests.Search;

/// <summary>POST /user_directory/search (client-server/users.yaml): who can be found, by what, and bad input.</summary>
public abstract class UserDirectoryTests(BackendServerFixture fixture) : RoomTestBase(fixture)
{
    private static string Tag() => "t" + Guid.NewGuid().ToString("N")[..10];

    private static async Task<JsonElement> SearchAsync(RoomsClient user, string term, int? limit = null) =>
        await user.OkAsync(Post, "/user_directory/search", limit is null ? new { search_term = term } : new { search_term = term, limit });

    private static string[] UserIds(JsonElement response) =>
        response.GetProperty("results").EnumerateArray().Select(r => r.GetProperty("user_id").GetString()!).Order().ToArray();

    [Fact]
    public async Task Users_sharing_a_room_and_members_of_public_rooms_are_found_by_name_and_id()
    {
        var tag = Tag();
        var searcher = await UserAsync("searcher");
        var roommate = await UserAsync("roommate", displayName: $"Roommate {tag.ToUpperInvariant()}");
        var publicMember = await UserAsync("public", displayName: $"Public {tag}");
        var stranger = await UserAsync("stranger", displayName: $"Stranger {tag}");
        var worldReadableMember = await UserAsync("reader", displayName: $"Reader {tag}");
        var byId = await UserAsync(tag);

        var privateRoom = await roommate.CreateRoomAsync(new { preset = "private_chat" });
        await roommate.InviteAsync(privateRoom, searcher.UserId);
        await searcher.JoinAsync(privateRoom);
        await publicMember.CreateRoomAsync(new { preset = "public_chat" });
        await stranger.CreateRoomAsync(new { preset = "private_chat" });
        var readable = await worldReadableMember.CreateRoomAsync(new { preset = "private_chat" });
        await worldReadableMember.SetStateAsync(readable, "m.room.history_visibility", new { history_visibility = "world_readable" });
        await byId.CreateRoomAsync(new { preset = "public_chat" });

        var found = await SearchAsync(searcher, tag);
        Assert.Equal(new[] { roommate.UserId, publicMember.UserId, worldReadableMember.UserId, byId.UserId }.Order(), UserIds(found));
        Assert.False(found.GetProperty("limited").GetBoolean());
        var roommateResult = found.GetProperty("results").EnumerateArray().Single(r => r.GetProperty("user_id").GetString() == roommate.UserId);
        Assert.Equal($"Roommate {tag.ToUpperInvariant()}", roommateResult.GetProperty("display_name").GetString());
        Assert.False(found.GetProperty("results").EnumerateArray().Single(r => r.GetProperty("user_id").GetString() == byId.UserId)
            .TryGetProperty("display_name", out _));

        // Case does not matter; part of a name or id is enough.
        Assert.Equal([roommate.UserId], UserIds(await SearchAsync(searcher, $"ROOMMATE {tag}")));
        // The part of the user id after the test tag is this user's alone.
        Assert.Equal([byId.UserId], UserIds(await SearchAsync(searcher, byId.UserId.Split('-')[1].ToUpperInvariant()[..8])));
        Assert.Empty(UserIds(await SearchAsync(searcher, $"{tag}%")));

        var limited = await SearchAsync(searcher, tag, limit: 2);
        Assert.Equal(2, limited.GetProperty("results").GetArrayLength());
        Assert.True(limited.GetProperty("limited").GetBoolean());
    }

    [Fact]
    public async Task Deactivated_users_and_users_who_left_are_not_found()
    {
        var tag = Tag();
        var searcher = await UserAsync("searcher");
        var gone = await UserAsync("gone", displayName: $"Gone {tag}");
        var left = await UserAsync("left", displayName: $"Left {tag}");
        var owner = await UserAsync("owner", displayName: $"Owner {tag}");
        var room = await owner.CreateRoomAsync(new { preset = "public_chat" });
        await gone.JoinAsync(room);
        await left.JoinAsync(room);
        Assert.Equal(new[] { gone.UserId, left.UserId, owner.UserId }.Order(), UserIds(await SearchAsync(searcher, tag)));

        await left.LeaveAsync(room);
        var store = Server.App.Services.GetRequiredService<IHomeServerStore>();
        Assert.True(await store.Accounts.DeactivateAsync(gone.UserId, erase: false, CancellationToken.None));
        Assert.Equal([owner.UserId], UserIds(await SearchAsync(searcher, tag)));
    }

    [Fact]
    public async Task Bad_requests_are_refused()
    {
        var user = await UserAsync("user");
        await user.FailsAsync(Post, "/user_directory/search", new { }, HttpStatusCode.BadRequest, "M_BAD_JSON");
        await user.FailsAsync(Post, "/user_directory/search", new { search_term = 1 }, HttpStatusCode.BadRequest, "M_BAD_JSON");
        await user.FailsAsync(Post, "/user_directory/search", new { search_term = "x", limit = "ten" }, HttpStatusCode.BadRequest, "M_BAD_JSON");
        await user.FailsAsync(Post, "/user_directory/search", new { search_term = "x", limit = -1 }, HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        using (var notJson = await user.RawAsync(Post, "/user_directory/search", "nope"))
            await notJson.AssertErrorAsync(HttpStatusCode.BadRequest, "M_NOT_JSON");
        using (var anonymous = await user.RawAsync(Post, "/user_directory/search", "{\"search_term\":\"x\"}", authenticated: false))
            await anonymous.AssertErrorAsync(HttpStatusCode.Unauthorized, "M_MISSING_TOKEN");
    }
}

public sealed class SqliteUserDirectoryTests(SqliteServerFixture fixture) : UserDirectoryTests(fixture), IClassFixture<SqliteServerFixture>;

public sealed class PostgresUserDirectoryTests(PostgresServerFixture fixture) : UserDirectoryTests(fixture), IClassFixture<PostgresServerFixture>;
