using HomeServer.Silo;
using HomeServer.Silo.Configuration;

try
{
    var app = HomeServerHost.Build(args);
    await app.RunAsync();
    return 0;
}
catch (Exception exception) when (ConfigurationErrors.TryGetFailures(exception, out var failures))
{
    await Console.Error.WriteLineAsync("The server did not start: its configuration is invalid.");
    foreach (var failure in failures)
    {
        await Console.Error.WriteLineAsync($"  {failure}");
    }

    return 1;
}
