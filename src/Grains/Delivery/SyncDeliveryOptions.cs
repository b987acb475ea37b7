namespace HomeServer.Grains.Delivery;

/// <summary>How new room events reach the users' /sync (configuration section <c>SyncDelivery</c>).</summary>
public sealed class SyncDeliveryOptions
{
    public const string SectionName = "SyncDelivery";

    /// <summary>
    /// <see cref="SyncDeliveryMode.Shared"/> (default): one serialisation per event, one message per silo, cached
    /// state snapshots. <see cref="SyncDeliveryMode.Naive"/>: per-client work, kept only to measure the difference.
    /// </summary>
    public SyncDeliveryMode Mode { get; set; } = SyncDeliveryMode.Shared;

    public bool IsNaive => Mode == SyncDeliveryMode.Naive;
}

public enum SyncDeliveryMode
{
    Shared,
    Naive,
}
