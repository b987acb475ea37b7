using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.CommandLine;
using Microsoft.Extensions.Configuration.EnvironmentVariables;
using Microsoft.Extensions.Configuration.Memory;

namespace HomeServer.Silo.Configuration;

public static class HomeServerConfigurationSources
{
    public const string EnvironmentVariablePrefix = "HOMESERVER_";

    /// <summary>
    /// Adjusts the sources WebApplication.CreateBuilder set up, lowest precedence first:
    /// defaults, appsettings.json, <c>HOMESERVER_</c> environment variables, command line.
    /// </summary>
    public static void Apply(ConfigurationManager configuration)
    {
        var sources = configuration.Sources;

        // Kestrel reads "urls" itself, so the default listen URL has to be configuration, not just an options default.
        sources.Insert(0, new MemoryConfigurationSource
        {
            InitialData = [new("urls", HomeServerOptions.DefaultUrls)],
        });

        // Unprefixed variables would let anything in the machine's environment reconfigure the server.
        foreach (var unprefixed in sources.OfType<EnvironmentVariablesConfigurationSource>().Where(s => string.IsNullOrEmpty(s.Prefix)).ToList())
        {
            sources.Remove(unprefixed);
        }

        var commandLine = sources.OfType<CommandLineConfigurationSource>().FirstOrDefault();
        sources.Insert(
            commandLine is null ? sources.Count : sources.IndexOf(commandLine),
            new EnvironmentVariablesConfigurationSource { Prefix = EnvironmentVariablePrefix });
    }
}
