namespace HomeServer.Grains.Tests.Delivery;

public abstract record PlannedStep;

/// <summary><paramref name="Count"/> messages sent at once by one member (more than one: a burst).</summary>
public sealed record SendStep(int Room, int Sender, int Count) : PlannedStep;

/// <param name="OlderToken">In [0, 1): which of the tokens issued to the user so far, oldest first, when <paramref name="Since"/> asks for one.</param>
/// <param name="Limit">The filter's timeline limit; null for the default filter.</param>
public sealed record SyncStep(int User, int Device, SinceChoice Since, double OlderToken, int? Limit, int TimeoutMilliseconds) : PlannedStep;

public enum SinceChoice
{
    /// <summary>The device's last next_batch (an initial sync when it has none).</summary>
    Continue,

    /// <summary>A token the user was issued earlier on any device: a retry, or a device that was offline.</summary>
    Older,

    Initial,
}

public sealed record JoinStep(int User, int Room) : PlannedStep;

public sealed record SiloFaultStep(SiloFault Fault, int Silo) : PlannedStep;

public enum SiloFault
{
    Kill,
    Restart,
    GracefulStop,
}

/// <summary>
/// A seeded random schedule: who is in which room at the start, then waves of steps that run concurrently (sends,
/// syncs, late joins, silo faults). The seed fixes the schedule; the interleaving inside a wave is the machine's.
/// </summary>
public sealed record SyncDeliveryPlan(
    int Seed, int Users, int Rooms, int DevicesPerUser, IReadOnlyList<(int Room, int User)> InitialMembers,
    IReadOnlyList<IReadOnlyList<PlannedStep>> Waves)
{
    public const int UserCount = 7;
    public const int RoomCount = 4;
    public const int Devices = 2;
    public const int WaveCount = 80;
    public const int FaultCount = 5;
    public const int LateJoinCount = 3;

    /// <summary>More than the backlog a sync delivers without a gap, so limited timelines are legitimately exercised.</summary>
    public const int FloodSize = DeliveryChecker.GaplessBacklog + 10;

    private static readonly int?[] Limits = [1, 3, 10, null];
    private static readonly int[] Timeouts = [0, 0, 50, 200];

    /// <summary>The room's creator is the user with the room's number; it stays a member.</summary>
    public static int CreatorOf(int room) => room;

    public static SyncDeliveryPlan Generate(int seed)
    {
        var random = new Random(seed);
        // joinedAt[room, user]: -1 for a member from the start, the wave of a late join, null for never.
        var joinedAt = new int?[RoomCount, UserCount];
        for (var room = 0; room < RoomCount; room++)
        {
            for (var user = 0; user < UserCount; user++)
                if (user == CreatorOf(room) || random.NextDouble() < 0.45) joinedAt[room, user] = -1;
        }
        for (var user = 0; user < UserCount; user++)
        {
            if (!Enumerable.Range(0, RoomCount).Any(room => joinedAt[room, user] is not null)) joinedAt[random.Next(RoomCount), user] = -1;
        }
        var initial = Pairs().Where(p => joinedAt[p.Room, p.User] == -1 && p.User != CreatorOf(p.Room)).ToList();
        var lateJoins = Pairs().Where(p => joinedAt[p.Room, p.User] is null).OrderBy(_ => random.Next()).Take(LateJoinCount)
            .Select(p => (p.Room, p.User, Wave: random.Next(3, WaveCount - 10))).ToList();
        var faults = Enumerable.Range(4, WaveCount - 10).OrderBy(_ => random.Next()).Take(FaultCount)
            .ToDictionary(wave => wave, _ => new SiloFaultStep((SiloFault)random.Next(3), random.Next(3)));
        var floodWave = random.Next(WaveCount / 3, 2 * WaveCount / 3);

        var waves = new List<IReadOnlyList<PlannedStep>>();
        for (var wave = 0; wave < WaveCount; wave++)
        {
            var steps = new List<PlannedStep>();
            if (faults.TryGetValue(wave, out var fault)) steps.Add(fault);
            foreach (var join in lateJoins.Where(j => j.Wave == wave))
            {
                steps.Add(new JoinStep(join.User, join.Room));
                joinedAt[join.Room, join.User] = wave;
            }
            if (wave == floodWave) steps.Add(RandomSend(random, joinedAt, wave, FloodSize));
            var devicesSyncing = new HashSet<(int, int)>();
            for (var i = 1 + random.Next(4); i > 0; i--)
            {
                if (random.NextDouble() < 0.55)
                {
                    var since = random.NextDouble() switch
                    {
                        < 0.7 => SinceChoice.Continue,
                        < 0.95 => SinceChoice.Older,
                        _ => SinceChoice.Initial,
                    };
                    var sync = new SyncStep(random.Next(UserCount), random.Next(Devices), since, random.NextDouble(),
                        Limits[random.Next(Limits.Length)], Timeouts[random.Next(Timeouts.Length)]);
                    if (devicesSyncing.Add((sync.User, sync.Device))) steps.Add(sync);
                }
                else
                {
                    steps.Add(RandomSend(random, joinedAt, wave, random.NextDouble() < 0.8 ? 1 : 2 + random.Next(11)));
                }
            }
            waves.Add(steps);
        }
        return new SyncDeliveryPlan(seed, UserCount, RoomCount, Devices, initial, waves);
    }

    /// <summary>Whether the user is in the room by the end of the run.</summary>
    public bool IsMemberAtEnd(int room, int user) =>
        user == CreatorOf(room) || InitialMembers.Contains((room, user))
        || Waves.Any(steps => steps.Any(step => step is JoinStep join && join.Room == room && join.User == user));

    public override string ToString()
    {
        var steps = Waves.SelectMany(w => w).ToList();
        return $"{Waves.Count} waves: {steps.OfType<SendStep>().Sum(s => s.Count)} messages in {steps.OfType<SendStep>().Count()} sends, " +
            $"{steps.OfType<SyncStep>().Count()} syncs, {steps.OfType<JoinStep>().Count()} late joins, " +
            $"faults {string.Join(", ", steps.OfType<SiloFaultStep>().Select(f => f.Fault))}";
    }

    private static IEnumerable<(int Room, int User)> Pairs() =>
        from room in Enumerable.Range(0, RoomCount) from user in Enumerable.Range(0, UserCount) select (room, user);

    /// <summary>A send by someone who joined before this wave (a join of the same wave may not have happened yet).</summary>
    private static SendStep RandomSend(Random random, int?[,] joinedAt, int wave, int count)
    {
        var room = random.Next(RoomCount);
        var members = Enumerable.Range(0, UserCount).Where(user => joinedAt[room, user] is { } at && at < wave).ToList();
        return new SendStep(room, members[random.Next(members.Count)], count);
    }
}
