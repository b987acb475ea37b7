using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;
using HomeServer.Runtime.Messaging;
using HomeServer.Runtime.Testing;

namespace HomeServer.Runtime.Tests;

public sealed class TransportTests : IAsyncLifetime
{
    private TestCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await Clusters.StartAsync(1, new SharedStore());

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    private async Task<Socket> ConnectAsync()
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(_cluster.Silos[0].Address.EndPoint);
        return socket;
    }

    private static byte[] Frame(FrameType type, string json)
    {
        var payload = Encoding.UTF8.GetBytes(json);
        var frame = new byte[5 + payload.Length];
        BinaryPrimitives.WriteInt32LittleEndian(frame, payload.Length + 1);
        frame[4] = (byte)type;
        payload.CopyTo(frame, 5);
        return frame;
    }

    private static async Task AssertClosedByPeerAsync(Socket socket)
    {
        var buffer = new byte[4096];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        while (true)
        {
            int read;
            try
            {
                read = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
            }
            catch (SocketException)
            {
                return; // reset by the silo
            }
            if (read == 0) return;
        }
    }

    private async Task AssertSiloStillServesAsync() =>
        Assert.Equal(7, await _cluster.Client.GetGrain<IProbeGrain>("alive").AddAsync(3, 4));

    [Fact]
    public async Task Garbage_closes_only_that_connection()
    {
        using var socket = await ConnectAsync();
        await socket.SendAsync(Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
        await AssertClosedByPeerAsync(socket);
        await AssertSiloStillServesAsync();
    }

    [Fact]
    public async Task A_frame_with_invalid_json_closes_the_connection()
    {
        using var socket = await ConnectAsync();
        await socket.SendAsync(Frame(FrameType.Hello, """{"protocol":1,"build":"t"}"""));
        await socket.SendAsync(Frame(FrameType.Request, "{not json"));
        await AssertClosedByPeerAsync(socket);
        await AssertSiloStillServesAsync();
    }

    [Fact]
    public async Task A_truncated_frame_is_dropped_with_its_connection()
    {
        using var socket = await ConnectAsync();
        var frame = Frame(FrameType.Hello, """{"protocol":1,"build":"t"}""");
        await socket.SendAsync(frame.AsMemory(0, frame.Length - 3));
        socket.Shutdown(SocketShutdown.Send);
        await AssertClosedByPeerAsync(socket);
        await AssertSiloStillServesAsync();
    }

    [Fact]
    public async Task A_request_before_the_hello_is_refused()
    {
        using var socket = await ConnectAsync();
        await socket.SendAsync(Frame(FrameType.Request, """{"id":1,"type":"probe","key":"k","method":"PingAsync","timeout":1000,"hops":0,"args":[]}"""));
        await AssertClosedByPeerAsync(socket);
        await AssertSiloStillServesAsync();
    }

    [Fact]
    public async Task An_unsupported_protocol_version_is_refused_and_a_different_build_is_accepted()
    {
        await using var future = new RawConnection(_cluster.Silos[0].Address, protocolVersion: WireProtocol.CurrentVersion + 1);
        await future.Closed.WaitAsync(TimeSpan.FromSeconds(5)); // the silo hung up on it
        await Assert.ThrowsAsync<SiloUnavailableException>(() => future.CallAsync<IProbeGrain, int>("k", nameof(IProbeGrain.AddAsync), 2, 3));

        await using var otherBuild = new RawConnection(_cluster.Silos[0].Address, build: "2.0.0-upgrade");
        Assert.Equal(5, await otherBuild.CallAsync<IProbeGrain, int>("k", nameof(IProbeGrain.AddAsync), 2, 3));
        await AssertSiloStillServesAsync();
    }

    [Fact]
    public async Task Arguments_of_the_wrong_type_fail_that_call_only()
    {
        using var socket = await ConnectAsync();
        await socket.SendAsync(Frame(FrameType.Hello, """{"protocol":1,"build":"t"}"""));
        await socket.SendAsync(Frame(FrameType.Request, """{"id":1,"type":"probe","key":"k","method":"AddAsync","timeout":1000,"hops":0,"args":["x",2]}"""));
        var buffer = new byte[8192];
        var received = new StringBuilder();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        while (!received.ToString().Contains("\"status\":1"))
        {
            var read = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
            Assert.NotEqual(0, read);
            received.Append(Encoding.UTF8.GetString(buffer, 0, read));
        }
        Assert.Contains("Could not deserialise the arguments", received.ToString());
        await AssertSiloStillServesAsync();
    }
}
