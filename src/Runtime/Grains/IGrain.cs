namespace HomeServer.Runtime;

/// <summary>Marker for grain interfaces. Every method of a grain interface returns Task, Task&lt;T&gt;, ValueTask or ValueTask&lt;T&gt;.</summary>
public interface IGrain;
