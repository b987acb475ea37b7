using HomeServer.Runtime.Invocation;

namespace HomeServer.Runtime.Messaging;

/// <summary>A decoded request frame: which grain and method, with arguments already deserialised to their parameter types.</summary>
internal sealed record IncomingRequest(long Id, GrainId Target, GrainMethod Method, object?[] Arguments, int TimeoutMs, int Hops);
