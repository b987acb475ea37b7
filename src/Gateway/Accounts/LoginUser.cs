using HomeServer.Grains;
using HomeServer.Grains.Identifiers;
using HomeServer.Gateway.Errors;
using Microsoft.AspNetCore.Http;

namespace HomeServer.Gateway.Accounts;

/// <summary>Finds the user a login or a password stage names.</summary>
internal static class LoginUser
{
    public const string UserIdentifierType = "m.id.user";

    /// <summary>
    /// The local user id named by an <c>m.id.user</c> identifier or the deprecated <c>user</c> field: a full user id
    /// or a localpart, compared without case since registered localparts are lower case. Null when it cannot be a
    /// local user; 400 for an identifier type other than <c>m.id.user</c>.
    /// </summary>
    public static string? Resolve(UserIdentifier? identifier, string? legacyUser, LocalServer server)
    {
        string user;
        if (identifier is not null)
        {
            if (identifier.Type != UserIdentifierType)
                throw new MatrixException(StatusCodes.Status400BadRequest, "M_UNKNOWN", "Unknown login identifier type.");
            user = identifier.User ?? throw AccountErrors.MissingParam("The identifier has no user.");
        }
        else
        {
            user = legacyUser ?? throw AccountErrors.MissingParam("Missing identifier.");
        }

        var localpart = user;
        if (user.StartsWith('@'))
        {
            if (!UserId.TryParse(user, out var parsed) || parsed.Server.Value != server.Name) return null;
            localpart = parsed.Localpart;
        }
        return UserId.TryParse(server.UserId(localpart.ToLowerInvariant()), out var userId) ? userId.Value : null;
    }
}
