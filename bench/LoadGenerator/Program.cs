using System.CommandLine;
using HomeServer.LoadGenerator.Http;
using HomeServer.LoadGenerator.Measurement;
using HomeServer.LoadGenerator.Output;
using HomeServer.LoadGenerator.Scenarios;

namespace HomeServer.LoadGenerator;

public static class Program
{
    private static readonly Option<string> Url = new("--url") { Description = "Base URL of the server under test (required by every scenario)" };
    private static readonly Option<string?> SharedSecret = new("--shared-secret") { Description = "The server's Registration:SharedSecret; needed for the admin that reads the counters" };
    private static readonly Option<int?> ServerPid = new("--server-pid") { Description = "Pid of the server process on this machine, to sample its CPU seconds and RSS from /proc" };
    private static readonly Option<int?> PostgresPid = new("--postgres-pid") { Description = "Pid of the server's PostgreSQL postmaster on this machine, to count the CPU seconds of all its processes" };
    private static readonly Option<string> Output = new("--output") { Description = "Directory for <scenario>-<time>.json/.md/.svg", DefaultValueFactory = _ => "results" };
    private static readonly Option<string?> Label = new("--label") { Description = "Appended to the scenario name in the results (e.g. the server's delivery mode)" };
    private static readonly Option<string?> SeedFixture = new("--fixture") { Description = "File with the seeded users and rooms: created when missing, reused when present (same database)" };
    private static readonly Option<int> SeedConcurrency = new("--seed-concurrency") { Description = "Parallel requests while seeding users and joins (not measured)", DefaultValueFactory = _ => 32 };

    public static Task<int> Main(string[] args)
    {
        var root = new RootCommand("Drives the homeserver's HTTP API with many simulated clients and writes JSON, Markdown and SVG results.")
        {
            FanoutCommand(), HerdCommand(), ThroughputCommand(), DrainCommand(), ToDeviceCommand(), ThumbnailCommand(), SearchCommand(),
            OverloadCommand(), CurveCommand(),
        };
        foreach (var option in new Option[] { Url, SharedSecret, ServerPid, PostgresPid, Output, Label, SeedFixture, SeedConcurrency })
        {
            option.Recursive = true;
            root.Options.Add(option);
        }
        // Every command but curve (which reads result files) drives a server.
        foreach (var scenario in root.Subcommands.Where(command => command.Name != "curve"))
            scenario.Validators.Add(result => { if (result.GetResult(Url) is null) result.AddError("Option '--url' is required."); });
        return root.Parse(args).InvokeAsync();
    }

    private static Command FanoutCommand()
    {
        var clients = new Option<int>("--clients") { Description = "Members long-polling the room", DefaultValueFactory = _ => 100 };
        var rate = new Option<double>("--rate") { Description = "Messages per second from the one sender", DefaultValueFactory = _ => 10 };
        var duration = new Option<int>("--duration") { Description = "Seconds of sending", DefaultValueFactory = _ => 60 };
        var runs = new Option<int>("--runs") { Description = "Measured runs after one seeding (each sends new messages); 0 only seeds", DefaultValueFactory = _ => 1 };
        var grace = new Option<int>("--grace") { Description = "Seconds to wait for the last deliveries after the last send", DefaultValueFactory = _ => 10 };
        var pollTimeout = new Option<int>("--poll-timeout") { Description = "The long-poll timeout clients ask for, ms", DefaultValueFactory = _ => 30000 };
        var command = new Command("fanout", "One room, N long-polling members, one sender at a fixed rate: send-to-receive latency") { clients, rate, duration, grace, pollTimeout, runs };
        command.SetAction((parse, ct) => RunAsync(parse, ct, bench => FanoutScenario.RunAsync(bench,
            new FanoutOptions(parse.GetValue(clients), parse.GetValue(rate), parse.GetValue(duration), parse.GetValue(grace), parse.GetValue(pollTimeout), parse.GetValue(runs), parse.GetValue(SeedFixture)), ct)));
        return command;
    }

    private static Command HerdCommand()
    {
        var members = new Option<int>("--members") { Description = "Members of the room", DefaultValueFactory = _ => 5000 };
        var stateEvents = new Option<int>("--state-events") { Description = "Other state events in the room", DefaultValueFactory = _ => 1000 };
        var clients = new Option<int>("--clients") { Description = "Members doing an initial sync at the same moment", DefaultValueFactory = _ => 1000 };
        var seedOnly = new Option<bool>("--seed-only") { Description = "Seed (or check) the fixture and exit without measuring" };
        var command = new Command("herd", "A big room; one unusual state event, then N clients do an initial sync at once") { members, stateEvents, clients, seedOnly };
        command.SetAction((parse, ct) => RunAsync(parse, ct, bench => HerdScenario.RunAsync(bench,
            new HerdOptions(parse.GetValue(members), parse.GetValue(stateEvents), parse.GetValue(clients), parse.GetValue(SeedFixture) ?? throw new ArgumentException("herd needs --fixture"), parse.GetValue(seedOnly)), ct)));
        return command;
    }

    private static Command ThroughputCommand()
    {
        var rooms = new Option<int>("--rooms") { Description = "Rooms", DefaultValueFactory = _ => 100 };
        var members = new Option<int>("--members") { Description = "Members per room", DefaultValueFactory = _ => 10 };
        var senders = new Option<int>("--senders-per-room") { Description = "Members of each room sending in a closed loop", DefaultValueFactory = _ => 1 };
        var warmup = new Option<int>("--warmup") { Description = "Seconds of sending before the measured window", DefaultValueFactory = _ => 5 };
        var duration = new Option<int>("--duration") { Description = "Seconds measured", DefaultValueFactory = _ => 30 };
        var runs = new Option<int>("--runs") { Description = "Measured runs after one seeding; 0 only seeds", DefaultValueFactory = _ => 1 };
        var command = new Command("throughput", "Rooms with a few members each, senders as fast as the server accepts: persisted events/s and send latency") { rooms, members, senders, warmup, duration, runs };
        command.SetAction((parse, ct) => RunAsync(parse, ct, bench => ThroughputScenario.RunAsync(bench,
            new ThroughputOptions(parse.GetValue(rooms), parse.GetValue(members), parse.GetValue(senders), parse.GetValue(warmup), parse.GetValue(duration), parse.GetValue(runs), parse.GetValue(SeedFixture)), ct)));
        return command;
    }

    private static Command DrainCommand()
    {
        var clients = new Option<int>("--clients") { Description = "Members long-polling the room", DefaultValueFactory = _ => 100 };
        var rate = new Option<double>("--rate") { Description = "Messages per second from the sender", DefaultValueFactory = _ => 10 };
        var drainCommand = new Option<string>("--drain-command") { Description = "Command that drains and restarts silo {n} (e.g. \"deploy/local/drain-silo.sh {n}\")", Required = true };
        var silos = new Option<int>("--silos") { Description = "Silos drained one after the other", DefaultValueFactory = _ => 3 };
        var settle = new Option<int>("--settle") { Description = "Seconds of load before the first drain, between drains and after the last", DefaultValueFactory = _ => 10 };
        var command = new Command("drain", "Fan-out load while each silo of a running cluster is drained and restarted: a latency timeline") { clients, rate, drainCommand, silos, settle };
        command.SetAction((parse, ct) => RunAsync(parse, ct, bench => DrainScenario.RunAsync(bench,
            new DrainOptions(parse.GetValue(clients), parse.GetValue(rate), parse.GetValue(drainCommand)!, parse.GetValue(silos), parse.GetValue(settle)), ct)));
        return command;
    }

    private static Command ToDeviceCommand()
    {
        var devices = new Option<int>("--devices") { Description = "Devices in the encrypted room, each long-polling /sync", DefaultValueFactory = _ => 200 };
        var devicesPerUser = new Option<int>("--devices-per-user") { Description = "Devices of each member (--devices must be a multiple)", DefaultValueFactory = _ => 1 };
        var rotations = new Option<int>("--rotations") { Description = "Megolm session rotations per run: one PUT /sendToDevice to every device, then a room message", DefaultValueFactory = _ => 50 };
        var rate = new Option<double>("--rate") { Description = "Rotations per second (open loop)", DefaultValueFactory = _ => 2 };
        var ciphertext = new Option<int>("--ciphertext-bytes") { Description = "Length of each to-device message's base64 ciphertext", DefaultValueFactory = _ => 1500 };
        var grace = new Option<int>("--grace") { Description = "Seconds to wait for the last deliveries after the last send", DefaultValueFactory = _ => 10 };
        var pollTimeout = new Option<int>("--poll-timeout") { Description = "The long-poll timeout devices ask for, ms", DefaultValueFactory = _ => 30000 };
        var runs = new Option<int>("--runs") { Description = "Measured runs after one seeding; 0 only seeds", DefaultValueFactory = _ => 1 };
        var command = new Command("todevice", "An encrypted room of N devices; one sender rotates its megolm session (one to-device message per device per rotation): to-device messages/s and send-to-/sync latency")
            { devices, devicesPerUser, rotations, rate, ciphertext, grace, pollTimeout, runs };
        command.SetAction((parse, ct) => RunAsync(parse, ct, bench => ToDeviceScenario.RunAsync(bench,
            new ToDeviceOptions(parse.GetValue(devices), parse.GetValue(devicesPerUser), parse.GetValue(rotations), parse.GetValue(rate),
                parse.GetValue(ciphertext), parse.GetValue(grace), parse.GetValue(pollTimeout), parse.GetValue(runs)), ct)));
        return command;
    }

    private static Command ThumbnailCommand()
    {
        var images = new Option<int>("--images") { Description = "Distinct JPEGs uploaded and thumbnailed", DefaultValueFactory = _ => 5 };
        var width = new Option<int>("--width") { Description = "Width of each JPEG", DefaultValueFactory = _ => 4000 };
        var height = new Option<int>("--height") { Description = "Height of each JPEG", DefaultValueFactory = _ => 3000 };
        var cached = new Option<int>("--cached-requests") { Description = "Requests per image and size after the first (served from the cache)", DefaultValueFactory = _ => 20 };
        var command = new Command("thumbnail", "Large JPEGs: the first thumbnail request (generated) and later ones (cached)") { images, width, height, cached };
        command.SetAction((parse, ct) => RunAsync(parse, ct, bench => ThumbnailScenario.RunAsync(bench,
            new ThumbnailOptions(parse.GetValue(images), parse.GetValue(width), parse.GetValue(height), parse.GetValue(cached)), ct)));
        return command;
    }

    private static Command SearchCommand()
    {
        var messages = new Option<int>("--messages") { Description = "Messages seeded", DefaultValueFactory = _ => 100_000 };
        var rooms = new Option<int>("--rooms") { Description = "Rooms the messages are spread over, all the searcher's", DefaultValueFactory = _ => 10 };
        var vocabulary = new Option<int>("--vocabulary") { Description = "Made-up words the messages are drawn from", DefaultValueFactory = _ => 5_000 };
        var queries = new Option<int>("--queries") { Description = "Searches per run, one at a time", DefaultValueFactory = _ => 200 };
        var runs = new Option<int>("--runs") { Description = "Measured runs after one seeding; 0 only seeds", DefaultValueFactory = _ => 1 };
        var command = new Command("search", "One user's rooms with many messages; POST /search latency in rank and recent order") { messages, rooms, vocabulary, queries, runs };
        command.SetAction((parse, ct) => RunAsync(parse, ct, bench => SearchScenario.RunAsync(bench,
            new SearchOptions(parse.GetValue(messages), parse.GetValue(rooms), parse.GetValue(vocabulary), parse.GetValue(queries), parse.GetValue(runs), parse.GetValue(SeedFixture)), ct)));
        return command;
    }

    private static Command CurveCommand()
    {
        var files = new Argument<string[]>("result-files") { Description = "The .json results of a fanout or throughput scenario at several --clients or --rooms", Arity = ArgumentArity.OneOrMore };
        var command = new Command("curve", "Scale curve from earlier results: per point (clients, rooms) the medians of its runs' latency, events/s, CPU per event and peak RSS; writes curve-<scenario>-<time>.json/.md/.svg") { files };
        command.SetAction(parse => CurveWriter.Write(parse.GetValue(Output)!, parse.GetValue(files)!, MachineInfo.Current()));
        return command;
    }

    private static Command OverloadCommand()
    {
        var senders = new Option<int>("--senders") { Description = "Senders, each with a room of its own", DefaultValueFactory = _ => 100 };
        var rate = new Option<double?>("--rate") { Description = "The sustainable send rate, sends/s; without it, measured first with every sender in a closed loop" };
        var probe = new Option<int>("--probe") { Description = "Seconds the sustainable rate is measured (after 2 s of warm-up)", DefaultValueFactory = _ => 10 };
        var probeConcurrency = new Option<int>("--probe-concurrency") { Description = "Closed loops (one send outstanding each, spread over the senders) that measure the sustainable rate", DefaultValueFactory = _ => 100 };
        var factor = new Option<double>("--factor") { Description = "The open-loop rate as a multiple of the sustainable one", DefaultValueFactory = _ => 3 };
        var duration = new Option<int>("--duration") { Description = "Seconds of open-loop sending", DefaultValueFactory = _ => 20 };
        var runs = new Option<int>("--runs") { Description = "Measured runs after one seeding; 0 only seeds", DefaultValueFactory = _ => 1 };
        var command = new Command("overload", "Sends at a multiple of the sustainable rate, open loop: latency of admitted sends, sheds (429) and 5xx") { senders, rate, probe, probeConcurrency, factor, duration, runs };
        command.SetAction((parse, ct) => RunAsync(parse, ct, bench => OverloadScenario.RunAsync(bench,
            new OverloadOptions(parse.GetValue(senders), parse.GetValue(rate), parse.GetValue(probe), parse.GetValue(probeConcurrency), parse.GetValue(factor), parse.GetValue(duration), parse.GetValue(runs), parse.GetValue(SeedFixture)), ct)));
        return command;
    }

    private static async Task<int> RunAsync(ParseResult parse, CancellationToken ct, Func<BenchContext, Task<IReadOnlyList<RunResult>>> scenario)
    {
        var machine = MachineInfo.Current();
        using var http = MatrixApi.CreateHttpClient(new Uri(parse.GetValue(Url)!));
        await using var server = new ServerProcessSampler(parse.GetValue(ServerPid), TimeSpan.FromMilliseconds(50), parse.GetValue(PostgresPid));
        var bench = new BenchContext(new MatrixApi(http, parse.GetValue(SharedSecret)), server, parse.GetValue(SeedConcurrency));
        var label = parse.GetValue(Label);
        foreach (var result in await scenario(bench))
            ResultWriter.Write(parse.GetValue(Output)!, string.IsNullOrEmpty(label) ? result : result with { Scenario = $"{result.Scenario}-{label}" }, machine);
        return 0;
    }
}
