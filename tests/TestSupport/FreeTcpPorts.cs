using System.Net;
using System.Net.Sockets;

namespace HomeServer.TestSupport;

public static class FreeTcpPorts
{
    /// <summary>Loopback ports free right now, all different.</summary>
    public static int[] Take(int count)
    {
        // All listeners stay open until every port is chosen, so no port is handed out twice.
        var listeners = Enumerable.Range(0, count).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToList();
        foreach (var listener in listeners) listener.Start();
        var ports = listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).ToArray();
        foreach (var listener in listeners) listener.Stop();
        return ports;
    }
}
