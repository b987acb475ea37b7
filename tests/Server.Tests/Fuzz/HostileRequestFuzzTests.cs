using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using HomeServer.Server.Tests.Accounts;
using HomeServer.Server.Tests.Infrastructure;
using Xunit.Abstractions;
using AuthKind = HomeServer.Server.Tests.Fuzz.HostileInput.AuthKind;

namespace HomeServer.Server.Tests.Fuzz;

/// <summary>
/// Sends every route of the server, with every HTTP method, seeded random malformed requests, signed in and not, and
/// checks each answer: never a 5xx, never a stack trace or exception name, a Matrix error body for every 4xx,
/// <c>nosniff</c> on everything the server itself answers, and the store unchanged by every refused request.
/// <c>HOMESERVER_FUZZ_SEED</c> and <c>HOMESERVER_FUZZ_ROUNDS</c> override the seed and the requests per route, method
/// and kind of authentication; <c>HOMESERVER_FUZZ_TRACE</c> names a file that gets every request before it is sent.
/// </summary>
public sealed partial class HostileRequestFuzzTests(ITestOutputHelper output)
{
    private const int DefaultSeed = 20_261_203;
    private const int DefaultRounds = 12;

    [Fact]
    public async Task Every_route_answers_hostile_requests_with_matrix_errors_and_leaves_the_store_unchanged()
    {
        var seed = EnvironmentInt("HOMESERVER_FUZZ_SEED", DefaultSeed);
        var rounds = EnvironmentInt("HOMESERVER_FUZZ_ROUNDS", DefaultRounds);
        await using var server = await RunningServer.StartAsync(AccountsServerFixture.TestArguments);
        using var run = await FuzzRun.StartAsync(server, seed);

        var routes = RouteCatalog.Read(server.App.Services);
        var clock = Stopwatch.StartNew();
        foreach (var route in routes)
        {
            foreach (var method in route.Methods)
                foreach (var auth in Enum.GetValues<AuthKind>())
                    for (var i = 0; i < rounds; i++) await run.SendAsync(route, method, auth);
            foreach (var method in HostileInput.Methods.Except(route.Methods, StringComparer.OrdinalIgnoreCase))
            {
                await run.SendAsync(route, method, AuthKind.Valid);
                await run.SendAsync(route, method, AuthKind.None);
            }
        }

        output.WriteLine($"seed {seed} (HOMESERVER_FUZZ_SEED), {rounds} rounds (HOMESERVER_FUZZ_ROUNDS): {routes.Count} routes, "
            + $"{run.Requests} requests, {run.DistinctCases} distinct cases, {run.Refused} refused with 4xx, {run.Accepted} accepted, "
            + $"{run.ProtocolLevel} refused by Kestrel itself, {run.Unsendable} not sendable, in {clock.Elapsed.TotalSeconds:F1} s");
        foreach (var (status, count) in run.Statuses.OrderBy(pair => pair.Key)) output.WriteLine($"  {status}: {count}");
        Assert.True(run.Failures.Count == 0,
            $"seed {seed}: {run.Failures.Count} distinct failures:\n" + string.Join("\n", run.Failures.Values.Take(150)));
    }

    private static int EnvironmentInt(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), CultureInfo.InvariantCulture, out var value) ? value : fallback;

    /// <summary>One fuzzing session against a server: the generator, the signed-in user and the bookkeeping.</summary>
    private sealed partial class FuzzRun : IDisposable
    {
        private readonly RunningServer _server;
        private readonly HostileInput _input;
        private readonly StoreSnapshot _store;
        private readonly HashSet<string> _cases = [];
        private HttpClient _client;
        private TestUser _user;
        private IReadOnlyDictionary<string, (long Rows, int Hash)> _before;
        private int _devices;

        // HOMESERVER_FUZZ_TRACE=file writes each request before it is sent: the last line names the one that killed the process.
        private readonly StreamWriter? _trace = Environment.GetEnvironmentVariable("HOMESERVER_FUZZ_TRACE") is { Length: > 0 } tracePath
            ? new StreamWriter(tracePath) { AutoFlush = true }
            : null;

        private FuzzRun(RunningServer server, HostileInput input, TestUser user)
        {
            _server = server;
            _input = input;
            _user = user;
            _client = new HttpClient { BaseAddress = server.Client.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
            _store = new StoreSnapshot(Path.Combine(server.DataDirectory, "homeserver.db"));
            _before = _store.Take();
        }

        public int Requests { get; private set; }
        public int Refused { get; private set; }
        public int Accepted { get; private set; }
        public int Unsendable { get; private set; }
        public int ProtocolLevel { get; private set; }
        public int DistinctCases => _cases.Count;
        public SortedDictionary<int, int> Statuses { get; } = [];

        /// <summary>Problem kind and route → a reproducible description of the first request that showed it.</summary>
        public Dictionary<string, string> Failures { get; } = [];

        public static async Task<FuzzRun> StartAsync(RunningServer server, int seed)
        {
            var user = await TestUsers.CreateAsync(server, "fuzz");
            var client = server.Client;
            using var create = new HttpRequestMessage(HttpMethod.Post, "/_matrix/client/v3/createRoom") { Content = JsonContent.Create(new { name = "fuzz" }) };
            create.Headers.Authorization = new AuthenticationHeaderValue("Bearer", user.AccessToken);
            using var created = await client.SendAsync(create);
            var roomId = (await created.ReadJsonAsync()).GetProperty("room_id").GetString()!;
            using var send = new HttpRequestMessage(HttpMethod.Put, $"/_matrix/client/v3/rooms/{Uri.EscapeDataString(roomId)}/send/m.room.message/t0")
            {
                Content = JsonContent.Create(new { msgtype = "m.text", body = "hello" }),
            };
            send.Headers.Authorization = new AuthenticationHeaderValue("Bearer", user.AccessToken);
            using var sent = await client.SendAsync(send);
            var eventId = (await sent.ReadJsonAsync()).GetProperty("event_id").GetString()!;
            var serverName = user.UserId[(user.UserId.IndexOf(':') + 1)..];
            return new FuzzRun(server, new HostileInput(seed, new FuzzTargets(user.UserId, user.DeviceId, roomId, eventId, serverName)), user);
        }

        public async Task SendAsync(FuzzRoute route, string method, AuthKind auth)
        {
            var path = RouteCatalog.Path(route, parameter => _input.PathValue(parameter.Name));
            var query = LongPollsAtMostAFewSeconds(route, _input.Query());
            var (header, queryToken) = _input.Auth(auth, _user.AccessToken);
            if (queryToken is not null) query += (query.Length == 0 ? "?" : "&") + "access_token=" + queryToken;
            var (body, contentType) = method is "GET" or "HEAD" && !_input.Chance(0.1) ? (null, null) : _input.Body();

            // Uri would resolve '..' segments and unescape some characters; the server must see them as sent.
            using var request = new HttpRequestMessage(new HttpMethod(method),
                new Uri(_client.BaseAddress!.GetLeftPart(UriPartial.Authority) + path + query, new UriCreationOptions { DangerousDisablePathAndQueryCanonicalization = true }));
            if (header is not null) request.Headers.TryAddWithoutValidation("Authorization", header);
            if (body is not null)
            {
                request.Content = new ByteArrayContent(body);
                if (contentType is not null) request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
            }
            var described = Describe(method, path + query, auth, header, body, contentType);
            _cases.Add(described);
            _trace?.WriteLine(described);

            Requests++;
            HttpResponseMessage response;
            string text;
            try
            {
                (response, text) = await SendOnceAsync(request, body, contentType, header);
            }
            catch (HttpRequestException exception) when (exception.InnerException is FormatException or InvalidOperationException)
            {
                Unsendable++;
                return;
            }
            catch (TaskCanceledException)
            {
                Fail("no answer within 30 s", route, method, described);
                return;
            }
            catch (HttpRequestException exception)
            {
                // Kestrel may answer a too-large body early and close the connection while the client still writes it.
                if (body is not { Length: > 1024 * 1024 }) Fail($"connection failed ({exception.Message})", route, method, described);
                else Unsendable++;
                RenewClient();
                return;
            }

            using (response)
            {
                var status = (int)response.StatusCode;
                Statuses[status] = Statuses.GetValueOrDefault(status) + 1;
                var connectionClose = response.Headers.ConnectionClose == true;
                if (ResponseRules.Check(method, status, response.Content.Headers.ContentType?.MediaType, text, connectionClose) is { } problem)
                    Fail(problem, route, method, described + $"\n    answer: {Truncate(text, 300)}");
                if (ResponseRules.IsProtocolLevel(status, connectionClose, text)) ProtocolLevel++;
                else if (!response.Headers.TryGetValues("X-Content-Type-Options", out var sniff) || !sniff.Contains("nosniff"))
                    Fail($"{status} without X-Content-Type-Options: nosniff", route, method, described);
                // The server closed the connection; a pooled one must not be reused for the next request.
                if (connectionClose) RenewClient();

                var after = _store.Take();
                if (status is >= 400 and < 500)
                {
                    Refused++;
                    var changed = StoreSnapshot.Changed(_before, after);
                    if (changed.Count > 0) Fail($"{status} refused but wrote to {string.Join(", ", changed)}", route, method, described);
                }
                else if (status is >= 200 and < 300)
                {
                    Accepted++;
                    if (method is not ("GET" or "HEAD" or "OPTIONS")) await KeepSignedInAsync();
                    after = _store.Take();
                }
                _before = after;
            }
        }

        /// <summary>
        /// Sends the request; when the connection fails (the server may have closed it after answering the previous
        /// request early), once more on a new connection.
        /// </summary>
        /// <summary>
        /// A long-poll route with a valid, large timeout rightly waits that long (up to 5 minutes) when nothing happens:
        /// such a timeout (1 s up to what a long holds) is cut to 1 s, so the run waits little and every other hostile value,
        /// overflowing numbers included, still reaches the server.
        /// </summary>
        private static string LongPollsAtMostAFewSeconds(FuzzRoute route, string query) =>
            route.Template.EndsWith("/sync", StringComparison.Ordinal) || route.Template.EndsWith("/events", StringComparison.Ordinal)
                ? LargeTimeout().Replace(query, "${name}1000")
                : query;

        [System.Text.RegularExpressions.GeneratedRegex(@"(?<name>(?:^|[?&])timeout=)(?:\+|%2B)?0*[1-9][0-9]{3,17}(?=&|$)")]
        private static partial System.Text.RegularExpressions.Regex LargeTimeout();

        private async Task<(HttpResponseMessage, string)> SendOnceAsync(HttpRequestMessage request, byte[]? body, string? contentType, string? header)
        {
            try
            {
                var response = await _client.SendAsync(request);
                return (response, await response.Content.ReadAsStringAsync());
            }
            catch (HttpRequestException exception) when (exception.InnerException is not (FormatException or InvalidOperationException))
            {
                RenewClient();
                using var again = new HttpRequestMessage(request.Method, request.RequestUri);
                if (header is not null) again.Headers.TryAddWithoutValidation("Authorization", header);
                if (body is not null)
                {
                    again.Content = new ByteArrayContent(body);
                    if (contentType is not null) again.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
                }
                var response = await _client.SendAsync(again);
                return (response, await response.Content.ReadAsStringAsync());
            }
        }

        private void RenewClient()
        {
            var address = _client.BaseAddress;
            _client.Dispose();
            _client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) };
        }

        /// <summary>An accepted request may have logged the fuzzing device out; the next requests then get a new one.</summary>
        private async Task KeepSignedInAsync()
        {
            using var whoAmI = new HttpRequestMessage(HttpMethod.Get, "/_matrix/client/v3/account/whoami");
            whoAmI.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _user.AccessToken);
            using var response = await _client.SendAsync(whoAmI);
            if (response.IsSuccessStatusCode) return;
            _user = await TestUsers.AddDeviceAsync(_server, _user, $"FUZZ{++_devices}");
        }

        private void Fail(string problem, FuzzRoute route, string method, string described)
        {
            // One example per kind of problem and route keeps the report readable.
            var key = $"{method} {route.Template}: {problem.Split('(')[0]}";
            Failures.TryAdd(key, $"{key}\n    {described}");
        }

        private static string Describe(string method, string pathAndQuery, AuthKind auth, string? header, byte[]? body, string? contentType)
        {
            var bodyText = body is null ? "no body" : $"{body.Length} bytes {contentType}: {Truncate(Encoding.UTF8.GetString(body), 200)}";
            return $"{method} {Truncate(pathAndQuery, 300)} [{auth}{(header is null ? "" : " " + Truncate(header, 40))}] {bodyText}";
        }

        private static string Truncate(string text, int length) => text.Length <= length ? text : text[..length] + $"…({text.Length})";

        public void Dispose()
        {
            _store.Dispose();
            _client.Dispose();
            _trace?.Dispose();
        }
    }
}
