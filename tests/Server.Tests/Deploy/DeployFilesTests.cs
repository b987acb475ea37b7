using System.Diagnostics;
using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;
using IOPath = System.IO.Path;

namespace HomeServer.Server.Tests.Deploy;

/// <summary>Checks the files under deploy/ against each other and against the README's configuration table.</summary>
public sealed partial class DeployFilesTests
{
    private static readonly string RepoRoot = FindRepoRoot();
    private static readonly string DeployDir = IOPath.Combine(RepoRoot, "deploy");

    // Variables of the scripts themselves (scripts/postgres.sh and deploy/local), not server options.
    private static readonly HashSet<string> ScriptVariables =
        ["HOMESERVER_TEST_POSTGRES", "HOMESERVER_PG_STATE", "HOMESERVER_LOCAL_RUN", "HOMESERVER_LOCAL_PORT", "HOMESERVER_LOCAL_SILO_HTTP_PORTS",
         "HOMESERVER_LOCAL_SILO_CLUSTER_PORTS", "HOMESERVER_LOCAL_SILO_GATEWAY_PORTS", "HOMESERVER_LOCAL_GATEWAY_HTTP_PORTS", "HOMESERVER_LOCAL_POSTGRES", "HOMESERVER_LOCAL_DLL"];

    [Fact]
    public void Every_yaml_file_parses()
    {
        var files = YamlFiles();
        Assert.Contains(files, f => f.EndsWith("compose.yaml", StringComparison.Ordinal));
        Assert.True(files.Count(f => f.Contains("kubernetes", StringComparison.Ordinal)) >= 3);
        foreach (var file in files)
            Assert.NotEmpty(Load(file));
    }

    [Fact]
    public void Kubernetes_deployments_roll_one_pod_at_a_time_with_probes_and_a_grace_period_above_the_shutdown_timeout()
    {
        var shutdownSeconds = ShutdownTimeoutSeconds();
        var deployments = KubernetesObjects("Deployment").ToList();
        Assert.Contains(deployments, d => Name(d) == "homeserver-silo");
        Assert.Contains(deployments, d => Name(d) == "homeserver-gateway");

        foreach (var deployment in deployments)
        {
            var rolling = Child(deployment, "spec", "strategy", "rollingUpdate");
            Assert.Equal("0", Scalar(rolling, "maxUnavailable"));
            Assert.Equal("1", Scalar(rolling, "maxSurge"));

            var pod = Child(deployment, "spec", "template", "spec");
            Assert.True(int.Parse(Scalar(pod, "terminationGracePeriodSeconds")) > shutdownSeconds,
                $"{Name(deployment)}: terminationGracePeriodSeconds must exceed ShutdownTimeout ({shutdownSeconds}s)");

            var container = (YamlMappingNode)((YamlSequenceNode)pod["containers"]).Children.Single();
            Assert.Equal("/health/ready", Scalar(Child(container, "readinessProbe", "httpGet"), "path"));
            Assert.Equal("/health/live", Scalar(Child(container, "livenessProbe", "httpGet"), "path"));

            var secretRef = Child(Env(container, "HOMESERVER_Storage__ConnectionString"), "valueFrom", "secretKeyRef");
            AssertSecretHasKey(Scalar(secretRef, "name"), Scalar(secretRef, "key"));
        }
    }

    [Fact]
    public void Kubernetes_silos_advertise_their_pod_ip_and_have_a_disruption_budget()
    {
        var silo = KubernetesObjects("Deployment").Single(d => Name(d) == "homeserver-silo");
        var container = (YamlMappingNode)((YamlSequenceNode)Child(silo, "spec", "template", "spec")["containers"]).Children.Single();
        Assert.Equal("silo", Scalar(Env(container, "HOMESERVER_Cluster__Role"), "value"));
        Assert.Equal("status.podIP",
            Scalar(Child(Env(container, "HOMESERVER_Cluster__SiloHost"), "valueFrom", "fieldRef"), "fieldPath"));

        var podLabels = Child(silo, "spec", "template", "metadata", "labels");
        var budget = KubernetesObjects("PodDisruptionBudget").Single(b => Name(b) == "homeserver-silo");
        var selector = Child(budget, "spec", "selector", "matchLabels");
        foreach (var (key, value) in selector.Children)
            Assert.Equal(((YamlScalarNode)value).Value, Scalar(podLabels, ((YamlScalarNode)key).Value!));
        var spec = Child(budget, "spec");
        Assert.True(spec.Children.ContainsKey("maxUnavailable") || spec.Children.ContainsKey("minAvailable"));
    }

    [Fact]
    public void Compose_silos_advertise_their_static_address_and_stop_after_the_shutdown_timeout()
    {
        var services = Child(Load(IOPath.Combine(DeployDir, "compose.yaml")).Single(), "services");
        var silos = services.Children.Where(s => ((YamlScalarNode)s.Key).Value!.StartsWith("silo", StringComparison.Ordinal)).ToList();
        Assert.Equal(3, silos.Count);
        var gateways = services.Children.Count(s => ((YamlScalarNode)s.Key).Value!.StartsWith("gateway", StringComparison.Ordinal));
        Assert.Equal(2, gateways);

        var hosts = new HashSet<string>();
        foreach (var (_, node) in silos)
        {
            var service = (YamlMappingNode)node;
            var env = (YamlMappingNode)Lookup(service, "environment");
            var host = Scalar(env, "HOMESERVER_Cluster__SiloHost");
            Assert.Equal(host, Scalar(Child(service, "networks", "cluster"), "ipv4_address"));
            Assert.True(hosts.Add(host), $"two silos advertise {host}");

            var shutdown = TimeSpan.Parse(Scalar(env, "HOMESERVER_ShutdownTimeout"));
            var grace = ((YamlScalarNode)Lookup(service, "stop_grace_period")).Value!;
            Assert.True(int.Parse(grace.TrimEnd('s')) > shutdown.TotalSeconds, "stop_grace_period must exceed ShutdownTimeout");
        }
    }

    [Fact]
    public void Nginx_retries_the_other_gateway_and_waits_for_long_polls()
    {
        var conf = File.ReadAllText(IOPath.Combine(DeployDir, "nginx", "nginx.conf"));
        Assert.Contains("proxy_next_upstream error timeout http_502 http_503;", conf);
        Assert.Contains("proxy_next_upstream_tries", conf);
        Assert.Contains("server gateway1:8008", conf);
        Assert.Contains("server gateway2:8008", conf);
        var readTimeout = Regex.Match(conf, @"proxy_read_timeout (\d+)s;");
        Assert.True(readTimeout.Success && int.Parse(readTimeout.Groups[1].Value) > 300, "a /sync long-poll lasts up to 300s");
    }

    [Fact]
    public void Every_configuration_key_used_under_deploy_is_in_the_readme_table()
    {
        var documented = DocumentedKeys();
        Assert.Contains("Cluster:SiloHost", documented, StringComparer.OrdinalIgnoreCase);

        var used = new List<(string File, string Key)>();
        foreach (var file in Directory.EnumerateFiles(DeployDir, "*", SearchOption.AllDirectories)
                     .Where(f => !f.EndsWith(".md", StringComparison.Ordinal) && !f.Contains($"{IOPath.DirectorySeparatorChar}.run{IOPath.DirectorySeparatorChar}", StringComparison.Ordinal)))
        {
            var text = File.ReadAllText(file);
            foreach (Match m in EnvironmentVariable().Matches(text))
                if (!ScriptVariables.Contains(m.Value))
                    used.Add((file, m.Groups[1].Value.Replace("__", ":")));
            // Server command lines are in the scripts (and would be in compose `command:` or Kubernetes `args:`);
            // the Dockerfile's --flags belong to Docker.
            if (file.EndsWith(".sh", StringComparison.Ordinal) || file.EndsWith(".yaml", StringComparison.Ordinal))
                foreach (Match m in CommandLineKey().Matches(text))
                    used.Add((file, m.Groups[1].Value));
        }
        Assert.Contains(used, u => u.Key == "Cluster:SiloPort" && u.File.EndsWith(".sh", StringComparison.Ordinal));
        Assert.Contains(used, u => u.Key == "Cluster:SiloHost" && u.File.EndsWith(".yaml", StringComparison.Ordinal));

        var unknown = used.Where(u => !documented.Contains(StripIndexes(u.Key), StringComparer.OrdinalIgnoreCase))
            .Select(u => $"{IOPath.GetRelativePath(RepoRoot, u.File)}: {u.Key}").Distinct().ToList();
        Assert.True(unknown.Count == 0, "not in the README's configuration table:\n" + string.Join("\n", unknown));
    }

    [Fact]
    public void Shell_scripts_have_valid_syntax()
    {
        var scripts = Directory.EnumerateFiles(DeployDir, "*.sh", SearchOption.AllDirectories).ToList();
        Assert.True(scripts.Count >= 4);
        foreach (var script in scripts)
        {
            using var process = Process.Start(new ProcessStartInfo("bash", ["-n", script]) { RedirectStandardError = true })!;
            var errors = process.StandardError.ReadToEnd();
            process.WaitForExit();
            Assert.True(process.ExitCode == 0, $"{script}: {errors}");
        }
    }

    [GeneratedRegex(@"\bHOMESERVER_([A-Za-z][A-Za-z0-9_]*)")]
    private static partial Regex EnvironmentVariable();

    // --Key=Value or --Section:Key=Value as the server's command line takes them.
    [GeneratedRegex(@"(?<![\w-])--([A-Za-z][A-Za-z0-9]*(?::[A-Za-z0-9]+)*)=")]
    private static partial Regex CommandLineKey();

    private static string StripIndexes(string key) => Regex.Replace(key, @"(:\d+)+$", "");

    private static List<string> DocumentedKeys()
    {
        var readme = File.ReadAllLines(IOPath.Combine(RepoRoot, "README.md"));
        var start = Array.FindIndex(readme, l => l.StartsWith("## Configuration", StringComparison.Ordinal));
        Assert.True(start >= 0, "README.md has no Configuration section");
        return readme.Skip(start + 1).TakeWhile(l => !l.StartsWith("## ", StringComparison.Ordinal))
            .Select(l => Regex.Match(l, @"^\|\s*`([^`]+)`\s*\|"))
            .Where(m => m.Success).Select(m => m.Groups[1].Value).ToList();
    }

    private static double ShutdownTimeoutSeconds()
    {
        var configMap = KubernetesObjects("ConfigMap").Single(c => Name(c) == "homeserver");
        return TimeSpan.Parse(Scalar(Child(configMap, "data"), "HOMESERVER_ShutdownTimeout")).TotalSeconds;
    }

    private static void AssertSecretHasKey(string name, string key)
    {
        var secret = KubernetesObjects("Secret").SingleOrDefault(s => Name(s) == name);
        Assert.True(secret is not null, $"no Secret named {name}");
        var data = secret.Children.ContainsKey("stringData") ? Child(secret, "stringData") : Child(secret, "data");
        Assert.True(data.Children.ContainsKey(key), $"Secret {name} has no key {key}");
    }

    private static YamlMappingNode Env(YamlMappingNode container, string name) =>
        ((YamlSequenceNode)container["env"]).Children.Cast<YamlMappingNode>().Single(e => Scalar(e, "name") == name);

    private static IEnumerable<YamlMappingNode> KubernetesObjects(string kind) =>
        YamlFiles().Where(f => f.Contains($"{IOPath.DirectorySeparatorChar}kubernetes{IOPath.DirectorySeparatorChar}", StringComparison.Ordinal))
            .SelectMany(Load).Where(d => d.Children.ContainsKey("kind") && Scalar(d, "kind") == kind);

    private static string Name(YamlMappingNode obj) => Scalar(Child(obj, "metadata"), "name");

    private static string Scalar(YamlMappingNode node, string key) => ((YamlScalarNode)Lookup(node, key)).Value!;

    private static YamlMappingNode Child(YamlMappingNode node, params string[] keys) =>
        keys.Aggregate(node, (current, key) => (YamlMappingNode)Lookup(current, key));

    // Follows compose's merge keys (`<<: *anchor`), which YamlDotNet's representation model keeps as plain keys.
    private static YamlNode Lookup(YamlMappingNode node, string key)
    {
        if (node.Children.TryGetValue(new YamlScalarNode(key), out var value)) return value;
        if (node.Children.TryGetValue(new YamlScalarNode("<<"), out var merged) && merged is YamlMappingNode parent)
            return Lookup(parent, key);
        throw new KeyNotFoundException($"no '{key}' at line {node.Start.Line}");
    }

    private static List<YamlMappingNode> Load(string file)
    {
        var stream = new YamlStream();
        using var reader = new StreamReader(file);
        stream.Load(reader);
        return stream.Documents.Select(d => (YamlMappingNode)d.RootNode).ToList();
    }

    private static List<string> YamlFiles() =>
        Directory.EnumerateFiles(DeployDir, "*.*", SearchOption.AllDirectories)
            .Where(f => f.EndsWith(".yaml", StringComparison.Ordinal) || f.EndsWith(".yml", StringComparison.Ordinal))
            .Where(f => !f.Contains($"{IOPath.DirectorySeparatorChar}.run{IOPath.DirectorySeparatorChar}", StringComparison.Ordinal))
            .ToList();

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(IOPath.Combine(dir.FullName, "Orleans.HomeServer.sln")))
                return dir.FullName;
        throw new InvalidOperationException("Orleans.HomeServer.sln not found above " + AppContext.BaseDirectory);
    }
}
