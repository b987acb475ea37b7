using System.Net.Sockets;
using HomeServer.Runtime.Invocation;
using HomeServer.Runtime.Membership;
using HomeServer.Runtime.Messaging;
using HomeServer.Runtime.Transport;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace HomeServer.Runtime.Hosting;

public sealed class ClusterClientOptions
{
    public TimeSpan ResponseTimeout { get; set; } = TimeSpan.FromSeconds(30);
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);
    public TimeSpan TableRefreshInterval { get; set; } = TimeSpan.FromSeconds(10);
    public string BuildVersion { get; set; } = typeof(ClusterClientOptions).Assembly.GetName().Version?.ToString() ?? "0";
}

/// <summary>
/// A process outside the silos (e.g. an HTTP gateway) that calls grains. It reads the membership table itself,
/// computes each grain's owner, and sends the call straight to that silo; silos push membership changes to it.
/// </summary>
public sealed class ClusterClient : IGrainFactory, IClusterControl, IConnectionHandler, IAsyncDisposable
{
    private readonly ClusterClientOptions _options;
    private readonly ClusterViewSource _views;
    private readonly ConnectionPool _pool;
    private readonly GrainFactory _factory;
    private readonly ILogger _logger;
    private readonly ConnectionContext _context;

    public ClusterClient(IMembershipTable table, ClusterClientOptions? options = null, GrainTypeRegistry? registry = null,
        WireSerializer? serializer = null, ILoggerFactory? loggerFactory = null)
    {
        _options = options ?? new ClusterClientOptions();
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<ClusterClient>();
        registry ??= new GrainTypeRegistry();
        _context = new ConnectionContext(new HelloMessage(WireProtocol.CurrentVersion, _options.BuildVersion, null), registry,
            serializer ?? new WireSerializer(), _logger);
        _views = new ClusterViewSource(table, _logger);
        _pool = new ConnectionPool(NewConnection, _options.ConnectTimeout);
        _factory = new GrainFactory(registry, new GrainCallRouter(null, null, _views, _pool, _options.ResponseTimeout));
    }

    public ClusterViewSource Membership => _views;

    /// <summary>Reads membership until at least one silo is Active, or fails after <paramref name="timeout"/>.</summary>
    public async Task ConnectAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        while (true)
        {
            try
            {
                var view = await _views.RefreshAsync(deadline.Token).ConfigureAwait(false);
                if (view.ActiveSilos.Count > 0) break;
                await Task.Delay(100, deadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new SiloUnavailableException($"No active silo appeared within {timeout}.");
            }
        }
        _views.StartPeriodicRefresh(_options.TableRefreshInterval);
    }

    public TGrain GetGrain<TGrain>(string key) where TGrain : IGrain => _factory.GetGrain<TGrain>(key);

    public Task<ClusterView> ReadMembershipAsync(CancellationToken cancellationToken) => _views.RefreshAsync(cancellationToken);

    public async Task RequestDrainAsync(SiloAddress silo, CancellationToken cancellationToken)
    {
        var connection = await _pool.GetAsync(silo, cancellationToken).ConfigureAwait(false);
        await connection.SendControlAsync(FrameType.Drain, null, _options.ConnectTimeout, cancellationToken).ConfigureAwait(false);
    }

    private Connection NewConnection(Socket socket, SiloAddress silo) =>
        new(socket, _context with { PeerDescription = silo.ToString() }, this);

    void IConnectionHandler.OnRequest(Connection connection, IncomingRequest request) =>
        connection.Post(ResponseFrame.Failure(request.Id, new UnknownGrainTypeException("A cluster client hosts no grains.")));

    void IConnectionHandler.OnCancel(Connection connection, long requestId)
    {
    }

    void IConnectionHandler.OnClosed(Connection connection)
    {
    }

    void IConnectionHandler.OnControl(Connection connection, FrameType type, long id, string? text)
    {
        if (type == FrameType.MembershipChanged && id > _views.Current.Version) _ = RefreshQuietlyAsync();
    }

    private async Task RefreshQuietlyAsync()
    {
        try
        {
            await _views.RefreshAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            _logger.LogDebug(ex, "Membership refresh after a change notice failed");
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _views.DisposeAsync().ConfigureAwait(false);
        await _pool.DisposeAsync().ConfigureAwait(false);
    }
}
