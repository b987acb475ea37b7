namespace HomeServer.Runtime.Invocation;

/// <summary>Delivers a call to a grain wherever it lives. Implemented by the silo's and the client's router.</summary>
internal interface IGrainCallInvoker
{
    ValueTask<object?> InvokeAsync(GrainId target, GrainMethod method, object?[] arguments, CancellationToken cancellationToken);
}
