namespace HomeServer.Grains;

/// <summary>The server name of this homeserver (the part after the colon in its user and room ids).</summary>
public sealed record LocalServer(string Name)
{
    public string UserId(string localpart) => $"@{localpart}:{Name}";

    public bool IsLocal(string id) => id.EndsWith(":" + Name, StringComparison.Ordinal);
}
