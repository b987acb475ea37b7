using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using HomeServer.Gateway.Accounts;
using HomeServer.Gateway.Auth;
using HomeServer.Gateway.Errors;
using HomeServer.Gateway.Json;
using HomeServer.Gateway.Limits;
using HomeServer.Gateway.RateLimiting;
using HomeServer.Grains;
using HomeServer.Grains.Accounts;
using HomeServer.Grains.Federation;
using HomeServer.Grains.Identifiers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Orleans;

namespace HomeServer.Gateway.Endpoints;

/// <summary>
/// Profiles: anyone may read a local user's (and, through their server, another server's user's), only the user may
/// change it. Of the profile fields, this server keeps <c>displayname</c> and <c>avatar_url</c> (as the
/// <c>m.profile_fields</c> capability says); changes reach the member events of the user's rooms.
/// </summary>
internal static partial class ProfileEndpoints
{
    public const string DisplayName = "displayname";
    public const string AvatarUrl = "avatar_url";
    private const int MaxKeyBytes = 255;

    public static void MapProfileEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/_matrix/client/v3/profile/{userId}", GetProfileAsync);
        endpoints.MapGet("/_matrix/client/v3/profile/{userId}/{keyName}", GetFieldAsync);
        endpoints.MapPut("/_matrix/client/v3/profile/{userId}/{keyName}", SetFieldAsync).WithBodySize(BodySize.Small);
        endpoints.MapDelete("/_matrix/client/v3/profile/{userId}/{keyName}", DeleteFieldAsync).WithBodySize(BodySize.Small);
    }

    private static async Task<IResult> GetProfileAsync(string userId, [FromServices] IGrainFactory grains, [FromServices] LocalServer server)
    {
        var profile = await ReadProfileAsync(userId, grains, server);
        return TypedResults.Json(
            new ProfileResponse { DisplayName = profile.DisplayName, AvatarUrl = profile.AvatarUrl },
            AccountsJsonContext.Default.ProfileResponse);
    }

    private static async Task<IResult> GetFieldAsync(string userId, string keyName, [FromServices] IGrainFactory grains, [FromServices] LocalServer server)
    {
        RequireValidKey(keyName);
        var profile = await ReadProfileAsync(userId, grains, server);
        var value = keyName switch
        {
            DisplayName => profile.DisplayName,
            AvatarUrl => profile.AvatarUrl,
            _ => null,
        } ?? throw AccountErrors.NotFound("Profile field not found");
        return TypedResults.Json(
            keyName == DisplayName ? new ProfileResponse { DisplayName = value } : new ProfileResponse { AvatarUrl = value },
            AccountsJsonContext.Default.ProfileResponse);
    }

    private static async Task<IResult> SetFieldAsync(HttpContext context, string userId, string keyName, [FromServices] IGrainFactory grains)
    {
        var user = await RequireOwnProfileAsync(context, userId, keyName, grains);
        var body = await AccountsJsonBody.ReadObjectAsync(context.Request);
        if (!body.TryGetProperty(keyName, out var value)) throw AccountErrors.MissingParam($"Missing key '{keyName}'.");
        if (value.ValueKind != JsonValueKind.String) throw MatrixException.BadJson($"{keyName} must be a string.");
        // An empty string removes the field, as clients have long done.
        var text = value.GetString() is { Length: > 0 } given ? given : null;
        await (keyName == DisplayName ? user.SetDisplayNameAsync(text) : user.SetAvatarUrlAsync(text));
        return AccountsJsonBody.Empty();
    }

    private static async Task<IResult> DeleteFieldAsync(HttpContext context, string userId, string keyName, [FromServices] IGrainFactory grains)
    {
        var user = await RequireOwnProfileAsync(context, userId, keyName, grains);
        await (keyName == DisplayName ? user.SetDisplayNameAsync(null) : user.SetAvatarUrlAsync(null));
        return AccountsJsonBody.Empty();
    }

    /// <summary>The profile of an existing local user, or of a user of another server as that server gives it.</summary>
    private static async Task<UserProfile> ReadProfileAsync(string userId, IGrainFactory grains, LocalServer server)
    {
        if (!UserId.TryParse(userId, out var parsed)) throw AccountErrors.InvalidUserId(userId);
        var profile = parsed.Server.Value == server.Name
            ? await grains.GetGrain<IUserGrain>(userId).GetProfileAsync()
            : await grains.GetGrain<IRemoteProfileGrain>(userId).GetAsync();
        return profile ?? throw AccountErrors.NotFound("Profile not found");
    }

    private static async Task<IUserGrain> RequireOwnProfileAsync(HttpContext context, string userId, string keyName, IGrainFactory grains)
    {
        var session = await context.RequireSessionAsync();
        if (!UserId.IsValid(userId)) throw AccountErrors.InvalidUserId(userId);
        if (userId != session.UserId) throw AccountErrors.Forbidden("Cannot change the profile of another user.");
        RequireValidKey(keyName);
        if (keyName is not (DisplayName or AvatarUrl)) throw AccountErrors.Forbidden($"The profile field {keyName} cannot be changed on this server.");
        await context.RateLimits().RequireForUserAsync(session, RateLimitBucket.Message);
        return grains.GetGrain<IUserGrain>(userId);
    }

    private static void RequireValidKey(string keyName)
    {
        if (Encoding.UTF8.GetByteCount(keyName) > MaxKeyBytes)
            throw new MatrixException(StatusCodes.Status400BadRequest, "M_KEY_TOO_LARGE", $"Profile keys are at most {MaxKeyBytes} bytes.");
        if (!ProfileKey().IsMatch(keyName)) throw AccountErrors.InvalidParam("Invalid profile key.");
    }

    // The keyName pattern of the spec's profile API.
    [GeneratedRegex(@"^(avatar_url|displayname|m\.tz|[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+)$")]
    private static partial Regex ProfileKey();
}
