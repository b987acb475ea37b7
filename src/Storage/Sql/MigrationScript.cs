using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace HomeServer.Storage.Sql;

/// <summary>A numbered schema migration, embedded as <c>Migrations/NNNN_name.sql</c> beside its backend.</summary>
internal sealed partial record MigrationScript(int Version, string Name, string Sql, string Checksum)
{
    /// <summary>Loads the embedded scripts whose resource names start with the prefix, ordered by version.</summary>
    public static IReadOnlyList<MigrationScript> LoadEmbedded(string resourcePrefix)
    {
        var assembly = typeof(MigrationScript).Assembly;
        var scripts = new List<MigrationScript>();
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith(resourcePrefix, StringComparison.Ordinal)))
        {
            var match = FileName().Match(resource[resourcePrefix.Length..]);
            if (!match.Success)
            {
                throw new InvalidOperationException($"Migration resource {resource} is not named NNNN_name.sql.");
            }
            scripts.Add(Create(int.Parse(match.Groups[1].Value), match.Groups[2].Value, Read(assembly, resource)));
        }
        scripts.Sort((a, b) => a.Version.CompareTo(b.Version));
        // Numbers are handed out to features as they start, so one may land before a lower one; the migrator applies
        // every script not applied yet, whatever its place. Two scripts with one number are a mistake, though.
        for (var i = 0; i < scripts.Count; i++)
        {
            if (scripts[i].Version < 1 || (i > 0 && scripts[i].Version == scripts[i - 1].Version))
            {
                throw new InvalidOperationException($"Migrations under {resourcePrefix} must have distinct positive numbers (see {scripts[i].Name}).");
            }
        }
        return scripts;
    }

    public static MigrationScript Create(int version, string name, string sql)
    {
        var normalized = sql.Replace("\r\n", "\n");
        var checksum = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(normalized)));
        return new MigrationScript(version, name, normalized, checksum);
    }

    private static string Read(Assembly assembly, string resource)
    {
        using var stream = assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"Missing embedded migration {resource}.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    [GeneratedRegex(@"^(\d{4})_([A-Za-z0-9_]+)\.sql$")]
    private static partial Regex FileName();
}
