using System.Globalization;
using HomeServer.Gateway.Errors;
using HomeServer.Grains.Sync;
using Microsoft.AspNetCore.Http;

namespace HomeServer.Gateway.Endpoints;

/// <summary>What /sync and the legacy /events share as long-polls: their <c>timeout</c> and the waits that serve it.</summary>
internal static class LongPoll
{
    /// <summary>
    /// The longest single wait inside a grain. Grain calls time out after 30 s by default, so a longer client timeout is
    /// served as consecutive waits, each continuing from the previous empty answer.
    /// </summary>
    private static readonly TimeSpan GrainWaitSlice = TimeSpan.FromSeconds(20);

    /// <summary>The <c>timeout</c> query parameter in milliseconds: none or negative is 0, at most 5 minutes; else 400 M_INVALID_PARAM.</summary>
    public static TimeSpan Timeout(string? value)
    {
        if (string.IsNullOrEmpty(value)) return TimeSpan.Zero;
        if (!long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var milliseconds))
            throw new MatrixException(StatusCodes.Status400BadRequest, "M_INVALID_PARAM", "timeout must be an integer number of milliseconds.");
        return TimeSpan.FromMilliseconds(Math.Clamp(milliseconds, 0, (long)SyncRequest.MaxTimeout.TotalMilliseconds));
    }

    /// <summary>The next wait inside a grain on the way to <paramref name="deadline"/>: zero once it has passed.</summary>
    public static TimeSpan NextWait(DateTimeOffset deadline)
    {
        var remaining = deadline - DateTimeOffset.UtcNow;
        return remaining <= TimeSpan.Zero ? TimeSpan.Zero : remaining < GrainWaitSlice ? remaining : GrainWaitSlice;
    }
}
