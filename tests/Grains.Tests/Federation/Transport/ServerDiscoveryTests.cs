using System.Net;
using System.Net.Http.Headers;
using System.Text;
using HomeServer.Grains.Federation.Transport;

namespace HomeServer.Grains.Tests.Federation.Transport;

/// <summary>The spec's "Resolving server names", step by step, with a fake well-known server and fake DNS.</summary>
public sealed class ServerDiscoveryTests
{
    private readonly FakeWellKnownHandler _wellKnown = new();
    private readonly FakeSrvResolver _srv = new();
    private readonly ManualTime _time = new();

    private ServerDiscovery Discovery() => new(new HttpClient(_wellKnown), _srv, _time);

    [Theory]
    [InlineData("1.2.3.4", "1.2.3.4", 8448, "1.2.3.4")]
    [InlineData("1.2.3.4:1234", "1.2.3.4", 1234, "1.2.3.4:1234")]
    [InlineData("[1234:5678::abcd]", "[1234:5678::abcd]", 8448, "[1234:5678::abcd]")]
    [InlineData("[1234:5678::abcd]:5678", "[1234:5678::abcd]", 5678, "[1234:5678::abcd]:5678")]
    public async Task An_ip_literal_is_used_as_it_is_with_its_port_or_8448(string serverName, string host, int port, string hostHeader)
    {
        var destination = await Discovery().ResolveAsync(serverName, CancellationToken.None);

        Assert.Equal(new FederationDestination(host, port, hostHeader), destination);
        Assert.Empty(_wellKnown.Requests);
        Assert.Empty(_srv.Lookups);
    }

    [Fact]
    public async Task A_host_name_with_a_port_is_used_without_well_known_or_srv()
    {
        var destination = await Discovery().ResolveAsync("example.org:8449", CancellationToken.None);

        Assert.Equal(new FederationDestination("example.org", 8449, "example.org:8449"), destination);
        Assert.Empty(_wellKnown.Requests);
        Assert.Empty(_srv.Lookups);
    }

    [Theory]
    [InlineData("1.2.3.4", true)]
    [InlineData("[::1]", true)]
    [InlineData("1234", false)]
    [InlineData("1.2.3", false)]
    [InlineData("example.org", false)]
    public void Only_dotted_quads_and_bracketed_addresses_are_ip_literals(string host, bool literal)
    {
        Assert.Equal(literal, ServerDiscovery.IsIpLiteral(host));
    }

    [Fact]
    public async Task Well_known_delegation_with_a_port_goes_there_with_the_delegated_host_header()
    {
        _wellKnown.Respond("example.org", HttpStatusCode.OK, """{"m.server": "matrix.example.net:443"}""");

        var destination = await Discovery().ResolveAsync("example.org", CancellationToken.None);

        Assert.Equal(new FederationDestination("matrix.example.net", 443, "matrix.example.net:443"), destination);
        Assert.Empty(_srv.Lookups);
    }

    [Fact]
    public async Task Well_known_delegation_to_an_ip_literal_uses_it_with_8448()
    {
        _wellKnown.Respond("example.org", HttpStatusCode.OK, """{"m.server": "5.6.7.8"}""");

        var destination = await Discovery().ResolveAsync("example.org", CancellationToken.None);

        Assert.Equal(new FederationDestination("5.6.7.8", 8448, "5.6.7.8"), destination);
        Assert.Empty(_srv.Lookups);
    }

    [Fact]
    public async Task Well_known_delegation_without_a_port_looks_up_srv_of_the_delegated_name()
    {
        _wellKnown.Respond("example.org", HttpStatusCode.OK, """{"m.server": "matrix.example.net"}""");
        _srv.Records["_matrix-fed._tcp.matrix.example.net"] = [new SrvTarget("fed.example.net", 8000, 10, 0)];

        var destination = await Discovery().ResolveAsync("example.org", CancellationToken.None);

        // Host header and certificate: the delegated name, not the SRV target.
        Assert.Equal(new FederationDestination("fed.example.net", 8000, "matrix.example.net"), destination);
    }

    [Fact]
    public async Task Without_matrix_fed_srv_the_deprecated_matrix_srv_is_used()
    {
        _wellKnown.Respond("example.org", HttpStatusCode.OK, """{"m.server": "matrix.example.net"}""");
        _srv.Records["_matrix._tcp.matrix.example.net"] = [new SrvTarget("old.example.net", 8001, 10, 0)];

        var destination = await Discovery().ResolveAsync("example.org", CancellationToken.None);

        Assert.Equal(new FederationDestination("old.example.net", 8001, "matrix.example.net"), destination);
        Assert.Equal(["_matrix-fed._tcp.matrix.example.net", "_matrix._tcp.matrix.example.net"], _srv.Lookups);
    }

    [Fact]
    public async Task Delegation_without_port_or_srv_goes_to_the_delegated_name_on_8448()
    {
        _wellKnown.Respond("example.org", HttpStatusCode.OK, """{"m.server": "matrix.example.net"}""");

        var destination = await Discovery().ResolveAsync("example.org", CancellationToken.None);

        Assert.Equal(new FederationDestination("matrix.example.net", 8448, "matrix.example.net"), destination);
    }

    [Theory]
    [InlineData(HttpStatusCode.NotFound, """{"m.server": "matrix.example.net:443"}""")]
    [InlineData(HttpStatusCode.OK, "not json")]
    [InlineData(HttpStatusCode.OK, """["m.server"]""")]
    [InlineData(HttpStatusCode.OK, """{"server": "matrix.example.net:443"}""")]
    [InlineData(HttpStatusCode.OK, """{"m.server": 443}""")]
    [InlineData(HttpStatusCode.OK, """{"m.server": "https://matrix.example.net"}""")]
    public async Task An_unusable_well_known_answer_falls_back_to_srv_of_the_server_name(HttpStatusCode status, string body)
    {
        _wellKnown.Respond("example.org", status, body);
        _srv.Records["_matrix-fed._tcp.example.org"] = [new SrvTarget("fed.example.org", 8443, 10, 0)];

        var destination = await Discovery().ResolveAsync("example.org", CancellationToken.None);

        Assert.Equal(new FederationDestination("fed.example.org", 8443, "example.org"), destination);
    }

    [Fact]
    public async Task An_unreachable_well_known_falls_back_to_the_server_name_on_8448()
    {
        var destination = await Discovery().ResolveAsync("example.org", CancellationToken.None);

        Assert.Equal(new FederationDestination("example.org", 8448, "example.org"), destination);
        Assert.Single(_wellKnown.Requests);
    }

    [Fact]
    public async Task A_well_known_answer_without_cache_headers_is_kept_for_24_hours()
    {
        _wellKnown.Respond("example.org", HttpStatusCode.OK, """{"m.server": "a.example.net:1"}""");
        var discovery = Discovery();
        await discovery.ResolveAsync("example.org", CancellationToken.None);
        _wellKnown.Respond("example.org", HttpStatusCode.OK, """{"m.server": "b.example.net:2"}""");

        _time.Advance(TimeSpan.FromHours(23));
        Assert.Equal("a.example.net", (await discovery.ResolveAsync("example.org", CancellationToken.None)).ConnectHost);
        _time.Advance(TimeSpan.FromHours(1.5));
        Assert.Equal("b.example.net", (await discovery.ResolveAsync("example.org", CancellationToken.None)).ConnectHost);
        Assert.Equal(2, _wellKnown.Requests.Count);
    }

    [Fact]
    public async Task Cache_control_max_age_is_respected_up_to_48_hours()
    {
        _wellKnown.Respond("short.org", HttpStatusCode.OK, """{"m.server": "a.example.net:1"}""", maxAge: TimeSpan.FromHours(1));
        _wellKnown.Respond("long.org", HttpStatusCode.OK, """{"m.server": "a.example.net:1"}""", maxAge: TimeSpan.FromDays(30));
        var discovery = Discovery();
        await discovery.ResolveAsync("short.org", CancellationToken.None);
        await discovery.ResolveAsync("long.org", CancellationToken.None);

        _time.Advance(TimeSpan.FromMinutes(61));
        await discovery.ResolveAsync("short.org", CancellationToken.None);
        await discovery.ResolveAsync("long.org", CancellationToken.None);
        Assert.Equal(3, _wellKnown.Requests.Count);

        _time.Advance(TimeSpan.FromHours(47));
        await discovery.ResolveAsync("long.org", CancellationToken.None);
        Assert.Equal(4, _wellKnown.Requests.Count);
    }

    [Fact]
    public async Task Failures_are_cached_briefly_and_backed_off_exponentially_up_to_an_hour()
    {
        _wellKnown.Respond("example.org", HttpStatusCode.InternalServerError, "");
        var discovery = Discovery();

        await discovery.ResolveAsync("example.org", CancellationToken.None);
        _time.Advance(TimeSpan.FromSeconds(59));
        await discovery.ResolveAsync("example.org", CancellationToken.None);
        Assert.Single(_wellKnown.Requests);

        _time.Advance(TimeSpan.FromSeconds(2));
        await discovery.ResolveAsync("example.org", CancellationToken.None);
        Assert.Equal(2, _wellKnown.Requests.Count);
        // The second failure in a row is kept for 2 minutes.
        _time.Advance(TimeSpan.FromSeconds(90));
        await discovery.ResolveAsync("example.org", CancellationToken.None);
        Assert.Equal(2, _wellKnown.Requests.Count);

        for (var i = 0; i < 10; i++)
        {
            _time.Advance(TimeSpan.FromHours(2));
            await discovery.ResolveAsync("example.org", CancellationToken.None);
        }
        var before = _wellKnown.Requests.Count;
        _time.Advance(TimeSpan.FromMinutes(59));
        await discovery.ResolveAsync("example.org", CancellationToken.None);
        Assert.Equal(before, _wellKnown.Requests.Count);
        _time.Advance(TimeSpan.FromMinutes(2));
        await discovery.ResolveAsync("example.org", CancellationToken.None);
        Assert.Equal(before + 1, _wellKnown.Requests.Count);
    }

    [Fact]
    public async Task Srv_picks_the_lowest_priority()
    {
        _srv.Records["_matrix-fed._tcp.example.org"] =
        [
            new SrvTarget("backup.example.org", 2, 20, 100),
            new SrvTarget("primary.example.org", 1, 10, 0),
        ];

        var destination = await Discovery().ResolveAsync("example.org", CancellationToken.None);

        Assert.Equal(new FederationDestination("primary.example.org", 1, "example.org"), destination);
    }

    [Fact]
    public void Srv_target_dot_means_no_service()
    {
        Assert.Null(ServerDiscovery.PickSrvTarget([new SrvTarget("", 0, 0, 0)]));
    }

    [Fact]
    public async Task An_invalid_server_name_is_refused()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => Discovery().ResolveAsync("exa mple.org", CancellationToken.None));
    }

    private sealed class FakeWellKnownHandler : HttpMessageHandler
    {
        private readonly Dictionary<string, (HttpStatusCode Status, string Body, TimeSpan? MaxAge)> _responses = new();

        public List<string> Requests { get; } = [];

        public void Respond(string host, HttpStatusCode status, string body, TimeSpan? maxAge = null) => _responses[host] = (status, body, maxAge);

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Requests.Add(request.RequestUri!.ToString());
            if (request.RequestUri.AbsolutePath != "/.well-known/matrix/server" || !_responses.TryGetValue(request.RequestUri.Host, out var answer))
                throw new HttpRequestException("Connection refused");
            var response = new HttpResponseMessage(answer.Status) { Content = new StringContent(answer.Body, Encoding.UTF8, "text/plain") };
            if (answer.MaxAge is { } maxAge) response.Headers.CacheControl = new CacheControlHeaderValue { MaxAge = maxAge };
            return Task.FromResult(response);
        }
    }

    private sealed class FakeSrvResolver : ISrvResolver
    {
        public Dictionary<string, IReadOnlyList<SrvTarget>> Records { get; } = new();

        public List<string> Lookups { get; } = [];

        public Task<IReadOnlyList<SrvTarget>> ResolveAsync(string name, CancellationToken cancellationToken)
        {
            Lookups.Add(name);
            return Task.FromResult(Records.TryGetValue(name, out var records) ? records : Array.Empty<SrvTarget>());
        }
    }

    private sealed class ManualTime : TimeProvider
    {
        private DateTimeOffset _now = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }
}
