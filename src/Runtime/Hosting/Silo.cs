using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using HomeServer.Runtime.Activation;
using HomeServer.Runtime.Invocation;
using HomeServer.Runtime.Membership;
using HomeServer.Runtime.Messaging;
using HomeServer.Runtime.Placement;
using HomeServer.Runtime.Transport;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace HomeServer.Runtime.Hosting;

/// <summary>
/// One silo: hosts activations, listens for silos and clients, takes part in membership, and routes calls.
/// <see cref="StopAsync"/> drains gracefully; <see cref="Kill"/> vanishes as a crashed process would.
/// </summary>
public sealed class Silo : IGrainFactory, IClusterControl, IConnectionHandler, IAsyncDisposable
{
    private readonly SiloOptions _options;
    private readonly GrainTypeRegistry _registry;
    private readonly IMembershipTable _table;
    private readonly IServiceProvider _services;
    private readonly WireSerializer _serializer;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<(Connection, long), CancellationTokenSource> _inflight = new();
    private readonly SemaphoreSlim _rebalanceSignal = new(0);
    private readonly CancellationTokenSource _stopping = new();
    private ConnectionListener? _listener;
    private ConnectionPool? _pool;
    private Catalog? _catalog;
    private MembershipAgent? _membership;
    private GrainCallRouter? _router;
    private Task _rebalancer = Task.CompletedTask;
    private int _stopped;

    public Silo(SiloOptions options, GrainTypeRegistry registry, IMembershipTable table, IServiceProvider services,
        WireSerializer? serializer = null, ILoggerFactory? loggerFactory = null)
    {
        _options = options;
        _registry = registry;
        _table = table;
        _services = services;
        _serializer = serializer ?? new WireSerializer();
        LoggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        _logger = LoggerFactory.CreateLogger($"HomeServer.Runtime.Silo.{options.SiloName}");
    }

    internal ILoggerFactory LoggerFactory { get; }

    public SiloAddress Address { get; private set; } = null!;

    public IGrainFactory GrainFactory { get; private set; } = null!;

    public TGrain GetGrain<TGrain>(string key) where TGrain : IGrain =>
        (GrainFactory ?? throw new InvalidOperationException("The silo has not started.")).GetGrain<TGrain>(key);

    public SiloStatus Status => _membership?.Status ?? SiloStatus.None;

    public ClusterViewSource Membership => _membership ?? throw new InvalidOperationException("The silo has not started.");

    public int ActivationCount => _catalog?.Count ?? 0;

    /// <summary>Raised when the silo stops by itself because its peers declared it dead.</summary>
    public event Action? DeclaredDead;

    /// <summary>Raised when an operator asked this silo to drain; the host should stop as on SIGTERM.</summary>
    public event Action? DrainRequested;

    public Task<ClusterView> ReadMembershipAsync(CancellationToken cancellationToken) => Membership.RefreshAsync(cancellationToken);

    public async Task RequestDrainAsync(SiloAddress silo, CancellationToken cancellationToken)
    {
        if (silo == Address)
        {
            OnDrainRequested();
            return;
        }
        var connection = await _pool!.GetAsync(silo, cancellationToken).ConfigureAwait(false);
        await connection.SendControlAsync(FrameType.Drain, null, _options.ConnectTimeout, cancellationToken).ConfigureAwait(false);
    }

    private void OnDrainRequested()
    {
        _logger.LogWarning("Silo {Silo} was asked to drain", Address);
        DrainRequested?.Invoke();
    }

    public bool IsHosting(GrainId grainId) => _catalog?.IsActive(grainId) ?? false;

    /// <summary>Placement questions about this silo's grains, as grains see them (<see cref="Grain.GrainLocator"/>).</summary>
    public IGrainLocator Locator { get; private set; } = null!;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _listener = new ConnectionListener(new IPEndPoint(IPAddress.Parse(_options.Host), _options.Port), AcceptConnection, _logger);
        Address = new SiloAddress(_options.Host, _listener.LocalEndPoint.Port, SiloAddress.NewGeneration());
        _pool = new ConnectionPool((socket, silo) => NewConnection(socket, silo.ToString()), _options.ConnectTimeout);
        _catalog = new Catalog(_registry, _services, _options.Catalog, _logger) { BeforeActivate = ReleaseFromPreviousOwnerAsync };
        _membership = new MembershipAgent(_table, Address, _options.SiloName, _options.Membership, PingAsync, NotifyPeers, OnDeclaredDead, _logger);
        Locator = new GrainLocator(Address, _registry, _catalog, _membership);
        _catalog.Locator = Locator;
        _router = new GrainCallRouter(Address, _catalog, _membership, _pool, _options.ResponseTimeout);
        GrainFactory = new GrainFactory(_registry, _router);
        _catalog.GrainFactory = GrainFactory;
        _membership.Changed += _ => _rebalanceSignal.Release();

        _listener.Start();
        await _membership.JoinAsync(cancellationToken).ConfigureAwait(false);
        _rebalancer = RebalanceLoopAsync();
        RuntimeMetrics.Observe(this);
        _logger.LogInformation("Silo {Silo} is active", Address);
    }

    private Connection AcceptConnection(Socket socket) => NewConnection(socket, null);

    private Connection NewConnection(Socket socket, string? peer) =>
        new(socket, new ConnectionContext(new HelloMessage(WireProtocol.CurrentVersion, _options.BuildVersion, Address.ToString()), _registry, _serializer, _logger)
        {
            PeerDescription = peer,
        }, this);

    private async Task PingAsync(SiloAddress silo, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        var connection = await _pool!.GetAsync(silo, deadline.Token).ConfigureAwait(false);
        await connection.SendControlAsync(FrameType.Ping, null, timeout, deadline.Token).ConfigureAwait(false);
    }

    private void NotifyPeers(ClusterView view)
    {
        foreach (var entry in view.Snapshot.Entries.Where(e => e.Address != Address && e.Status != SiloStatus.Dead))
        {
            _ = NotifyAsync(entry.Address);
        }
        foreach (var client in _listener!.Connections.Where(c => c.PeerHello.IsCompletedSuccessfully && c.PeerHello.Result.Silo is null))
        {
            client.Post(new ControlFrame(FrameType.MembershipChanged, view.Version));
        }

        async Task NotifyAsync(SiloAddress silo)
        {
            try
            {
                var connection = await _pool!.GetAsync(silo, _stopping.Token).ConfigureAwait(false);
                connection.Post(new ControlFrame(FrameType.MembershipChanged, view.Version));
            }
            catch (Exception ex)
            {
                _logger.LogDebug(ex, "Could not tell {Silo} about membership change", silo);
            }
        }
    }

    private void OnDeclaredDead()
    {
        Kill();
        DeclaredDead?.Invoke();
    }

    /// <summary>
    /// Before activating a grain, asks the silo that owned it before this one (the highest-weight other silo that
    /// is Active or ShuttingDown) to deactivate its copy, so there is at most one activation during view changes.
    /// </summary>
    private async Task ReleaseFromPreviousOwnerAsync(GrainId grainId)
    {
        if (_registry.GetInterface(grainId.Type).IsSiloLocal) return;
        var others = _membership!.Current.Snapshot.Entries
            .Where(e => e.Address != Address && e.Status is SiloStatus.Active or SiloStatus.ShuttingDown)
            .Select(e => e.Address)
            .ToArray();
        var previous = RendezvousPlacement.SelectOwner(grainId, others);
        if (previous is null) return;
        try
        {
            var connection = await _pool!.GetAsync(previous, _stopping.Token).ConfigureAwait(false);
            await connection.SendControlAsync(FrameType.Release, grainId.ToString(), _options.Catalog.DeactivationTimeout, _stopping.Token)
                .ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is SiloUnavailableException or TimeoutException or OperationCanceledException)
        {
            _logger.LogDebug("Previous owner {Previous} of {Grain} did not confirm release: {Reason}", previous, grainId, ex.Message);
        }
    }

    void IConnectionHandler.OnRequest(Connection connection, IncomingRequest request) =>
        ThreadPool.UnsafeQueueUserWorkItem(static state => _ = state.Silo.HandleRequestAsync(state.Connection, state.Request),
            (Silo: this, Connection: connection, Request: request), preferLocal: false);

    private async Task HandleRequestAsync(Connection connection, IncomingRequest request)
    {
        CancellationTokenSource? cancellation = null;
        if (request.Method.CancellationTokenIndex >= 0)
        {
            cancellation = new CancellationTokenSource();
            _inflight[(connection, request.Id)] = cancellation;
            request.Arguments[request.Method.CancellationTokenIndex] = cancellation.Token;
        }
        var token = cancellation?.Token ?? CancellationToken.None;
        try
        {
            var timeout = TimeSpan.FromMilliseconds(Math.Max(1, request.TimeoutMs));
            var owner = GrainPlacement.SelectOwner(request.Method.Interface, request.Target, _membership!.Current.ActiveSilos);
            if (owner is null && request.Method.Interface.IsSiloLocal) throw GrainPlacement.NoOwner(request.Method.Interface, request.Target);
            object? result;
            if (owner == Address)
            {
                result = await _router!.InvokeWithRetriesAsync(request.Target, request.Method, request.Arguments, request.Hops, timeout, token)
                    .ConfigureAwait(false);
            }
            else if (owner is not null && request.Hops < GrainCallRouter.MaxHops)
            {
                RuntimeMetrics.ForwardedCalls.Add(1);
                result = await _router!.InvokeWithRetriesAsync(request.Target, request.Method, request.Arguments, request.Hops + 1, timeout, token)
                    .ConfigureAwait(false);
            }
            else
            {
                throw new TransientRejectionException($"Silo {Address} does not own {request.Target} and it was forwarded {request.Hops} times.");
            }
            connection.Post(ResponseFrame.Success(request.Id, result, request.Method.ResultType));
        }
        catch (Exception ex)
        {
            connection.Post(ResponseFrame.Failure(request.Id, ex));
        }
        finally
        {
            if (cancellation is not null)
            {
                _inflight.TryRemove((connection, request.Id), out _);
                cancellation.Dispose();
            }
        }
    }

    void IConnectionHandler.OnCancel(Connection connection, long requestId)
    {
        if (_inflight.TryRemove((connection, requestId), out var cancellation)) cancellation.Cancel();
    }

    void IConnectionHandler.OnClosed(Connection connection)
    {
        foreach (var key in _inflight.Keys.Where(k => k.Item1 == connection))
        {
            if (_inflight.TryRemove(key, out var cancellation)) cancellation.Cancel();
        }
    }

    void IConnectionHandler.OnControl(Connection connection, FrameType type, long id, string? text)
    {
        switch (type)
        {
            case FrameType.MembershipChanged when id > (_membership?.Current.Version ?? long.MaxValue):
                _ = RefreshQuietlyAsync();
                break;
            case FrameType.Release when text is not null:
                _ = ReleaseAsync(connection, id, text);
                break;
            case FrameType.Drain:
                connection.Reply(FrameType.DrainAccepted, id);
                OnDrainRequested();
                break;
        }
    }

    private async Task RefreshQuietlyAsync()
    {
        try
        {
            await _membership!.RefreshAsync(_stopping.Token).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            _logger.LogDebug(ex, "Membership refresh after a change notice failed");
        }
    }

    private async Task ReleaseAsync(Connection connection, long id, string grain)
    {
        try
        {
            var slash = grain.IndexOf('/');
            var grainId = new GrainId(grain[..slash], grain[(slash + 1)..]);
            var requester = connection.PeerHello.IsCompletedSuccessfully ? connection.PeerHello.Result.Silo : null;
            if (requester is not null && !_membership!.Current.ActiveSilos.Any(s => s.ToString() == requester))
                await _membership.RefreshAsync(_stopping.Token).ConfigureAwait(false);
            await _catalog!.DeactivateAsync([grainId], DeactivationReason.Requested).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            _logger.LogWarning(ex, "Releasing {Grain} failed", grain);
        }
        connection.Reply(FrameType.Released, id);
    }

    /// <summary>After each view change, deactivates (throttled) the activations whose owner is now another silo.</summary>
    private async Task RebalanceLoopAsync()
    {
        try
        {
            while (true)
            {
                await _rebalanceSignal.WaitAsync(_stopping.Token).ConfigureAwait(false);
                while (_rebalanceSignal.CurrentCount > 0) await _rebalanceSignal.WaitAsync(_stopping.Token).ConfigureAwait(false);
                var active = _membership!.Current.ActiveSilos;
                if (!active.Contains(Address)) continue;
                var moving = _catalog!.GrainIds.Where(id => GrainPlacement.SelectOwner(_registry.GetInterface(id.Type), id, active) != Address).ToList();
                if (moving.Count == 0) continue;
                _logger.LogInformation("Moving {Count} activations to their new owners", moving.Count);
                var batch = Math.Max(1, _options.RebalanceActivationsPerSecond / 10);
                foreach (var chunk in moving.Chunk(batch))
                {
                    var pace = Task.Delay(100, _stopping.Token);
                    await _catalog.DeactivateAsync(chunk, DeactivationReason.Requested).ConfigureAwait(false);
                    await pace.ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>
    /// Drains: ShuttingDown is written and pushed (peers stop placing here), every activation is deactivated
    /// (queued calls are handed to the new owners), then Dead is written and connections close.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 1) return;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_options.ShutdownTimeout);
        _logger.LogInformation("Silo {Silo} is draining", Address);
        try
        {
            await _membership!.SetStatusAsync(SiloStatus.ShuttingDown, deadline.Token).ConfigureAwait(false);
            await _catalog!.DeactivateAllAsync(_options.ShutdownTimeout / 2).ConfigureAwait(false);
            await _membership.SetStatusAsync(SiloStatus.Dead, deadline.Token).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            _logger.LogWarning(ex, "Graceful stop of {Silo} did not finish; closing anyway", Address);
        }
        await CloseAsync().ConfigureAwait(false);
        _logger.LogInformation("Silo {Silo} stopped", Address);
    }

    /// <summary>Stops at once without telling anyone, like a killed process: peers must detect it.</summary>
    public void Kill()
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 1) return;
        _logger.LogWarning("Silo {Silo} killed", Address);
        _ = CloseAsync();
    }

    private async Task CloseAsync()
    {
        RuntimeMetrics.Forget(this);
        _stopping.Cancel();
        _listener?.StopAccepting();
        _listener?.CloseAll();
        if (_membership is not null) await _membership.DisposeAsync().ConfigureAwait(false);
        if (_pool is not null) await _pool.DisposeAsync().ConfigureAwait(false);
        if (_catalog is not null) await _catalog.DisposeAsync().ConfigureAwait(false);
        await _rebalancer.ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None).ConfigureAwait(false);
    }
}
