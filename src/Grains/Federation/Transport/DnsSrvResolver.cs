using DnsClient;
using Microsoft.Extensions.Logging;

namespace HomeServer.Grains.Federation.Transport;

/// <summary>
/// SRV lookups through the system's name servers with DnsClient, whose cache keeps each answer for its TTL, so
/// discovery does not cache SRV answers again.
/// </summary>
public sealed class DnsSrvResolver(ILogger<DnsSrvResolver> logger) : ISrvResolver
{
    private readonly Lazy<LookupClient> _client = new(() => new LookupClient(new LookupClientOptions
    {
        UseCache = true,
        Timeout = TimeSpan.FromSeconds(5),
        Retries = 1,
        ThrowDnsErrors = false,
    }));

    public async Task<IReadOnlyList<SrvTarget>> ResolveAsync(string name, CancellationToken cancellationToken)
    {
        try
        {
            var response = await _client.Value.QueryAsync(name, QueryType.SRV, QueryClass.IN, cancellationToken);
            if (response.HasError) return [];
            return response.Answers.SrvRecords()
                .Select(record => new SrvTarget(record.Target.Value.TrimEnd('.'), record.Port, record.Priority, record.Weight))
                .ToList();
        }
        catch (DnsResponseException exception)
        {
            logger.LogInformation("SRV lookup of {Name} failed: {Message}", name, exception.Message);
            return [];
        }
    }
}
