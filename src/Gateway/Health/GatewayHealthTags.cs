namespace HomeServer.Gateway.Health;

public static class GatewayHealthTags
{
    /// <summary>Health checks with this tag decide <c>/health/ready</c>; all checks decide <c>/health</c>.</summary>
    public const string Ready = "ready";
}
