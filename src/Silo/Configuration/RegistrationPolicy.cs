using Microsoft.AspNetCore.Http;

namespace HomeServer.Silo.Configuration;

/// <summary>The registration mode in effect and why, resolved once at start.</summary>
public sealed record RegistrationPolicy(RegistrationMode Mode, string Reason)
{
    public static RegistrationPolicy Resolve(RegistrationMode? configured, IReadOnlyList<BindingAddress> listenUrls)
    {
        if (configured is { } mode)
        {
            return new RegistrationPolicy(mode, "set by Registration:Mode");
        }

        // A server only this machine can reach is a developer's; anything reachable from outside
        // must not hand out accounts to strangers until an operator says so.
        var exposed = listenUrls.FirstOrDefault(url => !ListenUrls.IsLoopback(url));
        return exposed is null
            ? new RegistrationPolicy(RegistrationMode.Open, "default while every listen URL is loopback")
            : new RegistrationPolicy(RegistrationMode.Disabled, $"default because {exposed} is not a loopback address; set Registration:Mode to change it");
    }
}
