using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace HomeServer.Silo.Configuration;

internal sealed partial class HomeServerOptionsValidator : IValidateOptions<HomeServerOptions>
{
    private static readonly TimeSpan MaxShutdownTimeout = TimeSpan.FromHours(1);

    public ValidateOptionsResult Validate(string? name, HomeServerOptions options)
    {
        var failures = new List<string>();
        ValidateUrls(options.Urls, failures);

        if (!IsServerName(options.ServerName))
        {
            failures.Add($"ServerName '{options.ServerName}' is not a valid Matrix server name (a host name, IPv4 address or [IPv6] address, optionally followed by :port).");
        }

        if (string.IsNullOrWhiteSpace(options.DataDirectory))
        {
            failures.Add("DataDirectory must not be empty.");
        }

        // TimeSpan parses a bare "30" as 30 days, so an upper bound catches the likely mistake.
        if (options.ShutdownTimeout <= TimeSpan.Zero || options.ShutdownTimeout > MaxShutdownTimeout)
        {
            failures.Add($"ShutdownTimeout must be more than zero and at most {MaxShutdownTimeout:c}, written as hh:mm:ss (got {options.ShutdownTimeout:c}).");
        }

        if (options.DrainGracePeriod < TimeSpan.Zero || options.DrainGracePeriod >= options.ShutdownTimeout)
        {
            failures.Add($"DrainGracePeriod must be at least zero and shorter than ShutdownTimeout (got {options.DrainGracePeriod:c}).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void ValidateUrls(string urls, List<string> failures)
    {
        try
        {
            var addresses = ListenUrls.Parse(urls);
            if (addresses.Count == 0)
            {
                failures.Add("Urls must name at least one listen URL.");
            }

            foreach (var address in addresses.Where(a => a.Scheme is not ("http" or "https") || a.PathBase.Length > 0))
            {
                failures.Add($"Listen URL '{address}' must use http or https and have no path.");
            }
        }
        catch (FormatException exception)
        {
            failures.Add($"Urls '{urls}' cannot be parsed: {exception.Message}");
        }
    }

    // server_name = hostname [ ":" port ], hostname = IPv4address / "[" IPv6address "]" / dns-name
    private static bool IsServerName(string? serverName)
    {
        if (serverName is null)
        {
            return false;
        }

        var match = ServerNamePattern().Match(serverName);
        return match.Success && (!match.Groups["port"].Success || int.Parse(match.Groups["port"].Value) is > 0 and <= 65535);
    }

    [GeneratedRegex(@"^(\[[0-9A-Fa-f:.]{2,45}\]|[A-Za-z0-9.-]{1,255})(:(?<port>[0-9]{1,5}))?$")]
    private static partial Regex ServerNamePattern();
}
