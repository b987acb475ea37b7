using System.Text.Json;
using System.Diagnostics;
using System.Globalization;
using HomeServer.Grains.PushRules;

// Usage: HomeServer.PushRulesBench [members] [iterations]. Each scenario is warmed up, then timed event by event;
// the table gives the time to evaluate one event for all members together.
var members = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 1000;
var iterations = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 5000;
var bench = new PushEvaluationBenchmarks { Members = members };
bench.Setup();
Console.WriteLine($"members={members} iterations={iterations} (per event, all members together)");
// On a shared machine the wall-clock columns include time the process waited for a core; CPU µs/event is the
// process's own processor time over the timed loop divided by the events.
Console.WriteLine("| scenario | notifications | CPU µs/event | mean µs | p50 µs | p99 µs | max µs | allocated KB/event |");
Console.WriteLine("|---|---|---|---|---|---|---|---|");
Run("plain message", bench.PlainMessage);
Run("mention + keyword", bench.MentionAndKeyword);

void Run(string name, Func<int> evaluate)
{
    for (var i = 0; i < 500; i++) evaluate();
    var samples = new double[iterations];
    var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
    var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
    var count = 0;
    for (var i = 0; i < iterations; i++)
    {
        var start = Stopwatch.GetTimestamp();
        count = evaluate();
        samples[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
    }
    var cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalMicroseconds / iterations;
    var allocated = (GC.GetAllocatedBytesForCurrentThread() - allocatedBefore) / 1024.0 / iterations;
    Array.Sort(samples);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"| {name} | {count} | {cpu:F0} | {samples.Average():F0} | {samples[iterations / 2]:F0} | {samples[(int)(iterations * 0.99)]:F0} | {samples[^1]:F0} | {allocated:F1} |"));
}

/// <summary>
/// Push rule evaluation of one event for every member of a room, as the room grain does before each append: the event
/// flattened once, then each member's compiled rules (the spec's defaults, a few with keyword rules) until one matches.
/// </summary>
public class PushEvaluationBenchmarks
{
    private Dictionary<string, CompiledRuleSet> _rules = null!;
    private Dictionary<string, string> _displayNames = null!;
    private PushRoomFacts _facts = null!;
    private JsonElement _message;
    private JsonElement _mention;

    public int Members { get; set; }

    public void Setup()
    {
        var members = Enumerable.Range(0, Members).Select(i => $"@member{i}:bench.example").ToList();
        _displayNames = members.ToDictionary(u => u, u => "Member " + u[7..u.IndexOf(':')]);
        _rules = members.ToDictionary(u => u, u =>
        {
            var global = PushRuleSets.Merge(u, null);
            // One member in ten has a keyword rule of their own, as a user who follows a topic would.
            if (u.GetHashCode() % 10 == 0)
                global["content"]!.AsArray().Insert(0, System.Text.Json.Nodes.JsonNode.Parse("""{"rule_id":"k","enabled":true,"pattern":"deploy*","actions":["notify",{"set_tweak":"highlight"}]}"""));
            return CompiledRuleSet.Compile(global);
        });
        _facts = new PushRoomFacts(members.Skip(1).ToList(), Members, u => _displayNames.GetValueOrDefault(u), 0, _ => 50);
        _message = JsonDocument.Parse("""
            {"type":"m.room.message","sender":"@member0:bench.example","room_id":"!room:bench.example","event_id":"$e",
             "content":{"msgtype":"m.text","body":"Has anyone looked at the release notes for tomorrow? I think we are nearly there."}}
            """).RootElement.Clone();
        _mention = JsonDocument.Parse("""
            {"type":"m.room.message","sender":"@member0:bench.example","room_id":"!room:bench.example","event_id":"$e",
             "content":{"msgtype":"m.text","body":"Member 17: can you check the deploy?","m.mentions":{"user_ids":["@member17:bench.example"]}}}
            """).RootElement.Clone();
    }

    public int PlainMessage() => PushEvaluator.Evaluate(_message, _facts, u => _rules[u]).Count;

    public int MentionAndKeyword() => PushEvaluator.Evaluate(_mention, _facts, u => _rules[u]).Count;
}
