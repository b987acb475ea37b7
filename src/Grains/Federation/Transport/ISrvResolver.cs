namespace HomeServer.Grains.Federation.Transport;

/// <summary>One answer of an SRV lookup: the host and port a service runs on.</summary>
public sealed record SrvTarget(string Host, int Port, int Priority, int Weight);

/// <summary>DNS SRV lookups for server discovery (<c>_matrix-fed._tcp.</c> and <c>_matrix._tcp.</c>).</summary>
public interface ISrvResolver
{
    /// <summary>The SRV records of <paramref name="name"/>; empty when there are none or the lookup failed.</summary>
    Task<IReadOnlyList<SrvTarget>> ResolveAsync(string name, CancellationToken cancellationToken);
}
