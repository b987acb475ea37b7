namespace HomeServer.Silo.Startup;

internal static class BuildVersion
{
    /// <summary>The default of <c>Cluster:BuildVersion</c>: this program's assembly version.</summary>
    public static string OfThisAssembly { get; } = typeof(BuildVersion).Assembly.GetName().Version?.ToString() ?? "0.0.0";
}
