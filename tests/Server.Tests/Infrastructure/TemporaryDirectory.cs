namespace HomeServer.Server.Tests.Infrastructure;

public static class TemporaryDirectory
{
    /// <summary>A path under the temp folder that does not exist yet.</summary>
    public static string NewPath() => Path.Combine(Path.GetTempPath(), "homeserver-tests", Guid.NewGuid().ToString("N"));

    public static void Delete(string path)
    {
        if (Directory.Exists(path))
        {
            Directory.Delete(path, recursive: true);
        }
    }
}
