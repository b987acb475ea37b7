namespace HomeServer.Server.Tests.Infrastructure;

/// <summary>Tests that set process-wide environment variables run alone, after all the others.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class EnvironmentVariableCollection
{
    public const string Name = "Environment variables";
}
