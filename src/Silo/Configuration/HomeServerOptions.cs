using Microsoft.AspNetCore.Http;

namespace HomeServer.Silo.Configuration;

/// <summary>The host's own settings, bound from the root of the configuration.</summary>
public sealed class HomeServerOptions
{
    public const string DefaultUrls = "http://localhost:8008";

    /// <summary>Semicolon-separated listen URLs; the same <c>urls</c> key ASP.NET Core itself reads.</summary>
    public string Urls { get; set; } = DefaultUrls;

    /// <summary>The domain in user ids and room aliases (<c>@alice:ServerName</c>).</summary>
    public string ServerName { get; set; } = "localhost";

    /// <summary>Where the SQLite database and media live; relative paths start at the working directory.</summary>
    public string DataDirectory { get; set; } = "./data";

    /// <summary>How long a graceful shutdown may take before the host gives up waiting.</summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// On stop, how long the process keeps serving with readiness already false before it stops accepting
    /// requests, so load balancers move traffic away first. Part of <see cref="ShutdownTimeout"/>.
    /// </summary>
    public TimeSpan DrainGracePeriod { get; set; } = TimeSpan.Zero;

    public IReadOnlyList<BindingAddress> ParseListenUrls() => ListenUrls.Parse(Urls);
}
