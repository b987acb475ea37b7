using HomeServer.Runtime.Messaging;

namespace HomeServer.Runtime.Transport;

/// <summary>What a silo (or client) does with frames that are not answers to its own requests.</summary>
internal interface IConnectionHandler
{
    void OnRequest(Connection connection, IncomingRequest request);

    void OnCancel(Connection connection, long requestId);

    void OnClosed(Connection connection);

    /// <summary>MembershipChanged or Release; a Release must be answered with <see cref="Connection.Reply"/>.</summary>
    void OnControl(Connection connection, FrameType type, long id, string? text);
}
