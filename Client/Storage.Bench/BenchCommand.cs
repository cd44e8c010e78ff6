using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Spectre.Console;
using Storage.Bench.Drivers;
using Storage.Client;

namespace Storage.Bench;

/// <summary>
/// The <c>bench</c> verb: runs one YCSB-style workload against this store or a peer (etcd, one PostgreSQL table, the
/// plain Orleans way) through <see cref="BenchRunner"/>, shows live progress on stderr, prints a plain table on
/// stdout and optionally writes the result as JSON; <c>bench compare</c> puts saved results side by side.
/// Exit codes follow the <c>storage</c> CLI: 0 ok, 1 error (or no operation succeeded), 2 usage, 5 cluster unavailable.
/// </summary>
public static class BenchCommand
{
    public const int ExitOk = 0;
    public const int ExitError = 1;
    public const int ExitUsage = 2;
    public const int ExitUnavailable = 5;

    /// <summary>The environment variable that sets the default of <c>--etcd-endpoints</c>.</summary>
    public const string EtcdEndpointsVariable = "STORAGE_BENCH_ETCD_ENDPOINTS";

    /// <summary>The environment variable that sets the default of <c>--pg-connection-string</c>.</summary>
    public const string PostgresConnectionStringVariable = "STORAGE_BENCH_PG_CONNECTION_STRING";

    /// <summary>
    /// The <c>bench</c> command for the <c>storage</c> CLI. The CLI keeps its global connection options
    /// (<c>--connection-string</c>, <c>--gateway</c>, ids, timeout); <paramref name="clientOptions"/> turns a parse
    /// result into client options and is called only for the drivers that connect to the cluster (store, orleans),
    /// so etcd and postgres runs need no cluster.
    /// </summary>
    /// <param name="stdout">Where the result table (and compare output) goes.</param>
    /// <param name="stderr">Where progress and the one-line error go.</param>
    /// <param name="clientOptions">Builds the cluster connection from the CLI's global options; may throw <see cref="ArgumentException"/> for a usage error.</param>
    /// <param name="environment">Looks up environment variables (defaults for the etcd endpoints and the PostgreSQL connection string); null for the process environment.</param>
    /// <returns>The command, ready to add to the root command.</returns>
    public static Command Create(TextWriter stdout, TextWriter stderr, Func<ParseResult, StorageClientOptions> clientOptions, Func<string, string?>? environment = null)
    {
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        ArgumentNullException.ThrowIfNull(clientOptions);
        environment ??= Environment.GetEnvironmentVariable;
        var defaults = new BenchOptions();

        var driver = Choice("--driver", "Which system to drive: store (this store), etcd, postgres (one table) or orleans (one grain per key, AdoNet grain storage)", "store", "store", "etcd", "postgres", "orleans");
        driver.Aliases.Add("-d");
        var workload = Choice("--workload", "write (writes only), a (50/50 read/write), b (95/5), c (reads only)", "a", "write", "a", "b", "c");
        workload.Aliases.Add("-w");
        var concurrency = new Option<int>("--concurrency") { Description = "Concurrent clients, each running one operation at a time", HelpName = "n", DefaultValueFactory = _ => defaults.Concurrency };
        var duration = new Option<double>("--duration") { Description = "Seconds to measure, after the warm-up (ignored with --ops)", HelpName = "seconds", DefaultValueFactory = _ => defaults.Duration.TotalSeconds };
        var ops = new Option<long?>("--ops") { Description = "Measure this many operations instead of a duration", HelpName = "count" };
        var keys = new Option<int>("--keys") { Description = "Distinct keys; each operation picks one uniformly", HelpName = "n", DefaultValueFactory = _ => defaults.Keys };
        var valueSize = new Option<int>("--value-size") { Description = "Bytes per written value", HelpName = "bytes", DefaultValueFactory = _ => defaults.ValueSize };
        var consistency = Choice("--consistency", "Reads: linearizable (store: ReadIndex/lease at the leader; etcd: linearizable range) or eventual (store: any replica; etcd: serializable)", "linearizable", "linearizable", "eventual");
        var warmup = new Option<double>("--warmup") { Description = "Seconds of load before measuring (not counted)", HelpName = "seconds", DefaultValueFactory = _ => defaults.Warmup.TotalSeconds };
        var preload = Choice("--preload", "Write every key once before the warm-up: auto (when the workload reads), always or never", "auto", "auto", "always", "never");
        var json = new Option<FileInfo?>("--json") { Description = "Also write the result as JSON to this file (for bench compare)", HelpName = "file" };
        var label = new Option<string?>("--label") { Description = "Name this run in its result (bench compare groups by it), e.g. write-256", HelpName = "name" };
        var seed = new Option<int?>("--seed") { Description = "Seed of the random key and operation choices", HelpName = "n" };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "No progress display" };
        var etcd = new Option<string?>("--etcd-endpoints")
        {
            Description = $"etcd client URLs, comma-separated [env: {EtcdEndpointsVariable}; default: {defaults.EtcdEndpoints}]",
            HelpName = "urls",
        };
        var pg = new Option<string?>("--pg-connection-string")
        {
            Description = $"PostgreSQL for --driver postgres (table bench_kv; the database is created if missing) [env: {PostgresConnectionStringVariable}]",
            HelpName = "connection-string",
        };

        var command = new Command("bench", "Benchmark a YCSB-style workload against this store or a peer (etcd, PostgreSQL, plain Orleans grains): throughput and latency percentiles")
        {
            driver, workload, concurrency, duration, ops, keys, valueSize, consistency, warmup, preload, json, label, seed, quiet, etcd, pg,
        };

        command.SetAction(async (parse, ct) =>
        {
            BenchOptions options;
            try
            {
                options = new BenchOptions
                {
                    Driver = BenchNames.ParseDriver(parse.GetValue(driver)!),
                    Workload = BenchNames.ParseWorkload(parse.GetValue(workload)!),
                    Concurrency = parse.GetValue(concurrency),
                    Duration = Seconds(parse.GetValue(duration), "--duration"),
                    Operations = parse.GetValue(ops),
                    Keys = parse.GetValue(keys),
                    ValueSize = parse.GetValue(valueSize),
                    Consistency = BenchNames.ParseConsistency(parse.GetValue(consistency)!),
                    Warmup = Seconds(parse.GetValue(warmup), "--warmup"),
                    Preload = parse.GetValue(preload) switch { "always" => true, "never" => false, _ => null },
                    Label = parse.GetValue(label),
                    Seed = parse.GetValue(seed),
                    EtcdEndpoints = FirstNonEmpty(parse.GetValue(etcd), environment(EtcdEndpointsVariable)) ?? defaults.EtcdEndpoints,
                    PostgresConnectionString = FirstNonEmpty(parse.GetValue(pg), environment(PostgresConnectionStringVariable)),
                };
            }
            catch (ArgumentException e)
            {
                return Fail(stderr, ExitUsage, e.Message);
            }

            var problems = options.Validate();
            if (problems.Count > 0)
            {
                return Fail(stderr, ExitUsage, problems[0]);
            }

            IBenchDriver benchDriver;
            try
            {
                benchDriver = BenchDrivers.Create(options, () => clientOptions(parse));
            }
            catch (ArgumentException e)
            {
                return Fail(stderr, ExitUsage, e.Message);
            }

            BenchResult result;
            await using (benchDriver.ConfigureAwait(false))
            {
                try
                {
                    var title = $"{options.Driver.Name()} {options.Workload.Name()} ×{options.Concurrency}";
                    result = await RunWithProgressAsync(new BenchRunner(options, benchDriver), title, stderr, parse.GetValue(quiet), ct).ConfigureAwait(false);
                }
                catch (Exception e)
                {
                    var (code, message) = Classify(e, options.Driver);
                    return Fail(stderr, code, message);
                }
            }

            await stdout.WriteAsync(BenchReport.Format(result)).ConfigureAwait(false);
            if (parse.GetValue(json) is { } file)
            {
                try
                {
                    await BenchResultJson.WriteAsync(file.FullName, result, ct).ConfigureAwait(false);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    return Fail(stderr, ExitError, $"cannot write {file.FullName}: {e.Message}");
                }
            }

            return result.Ops > 0
                ? ExitOk
                : Fail(stderr, ExitError, $"no operation succeeded ({result.Errors} failed)");
        });

        command.Subcommands.Add(Compare(stdout, stderr));
        return command;
    }

    /// <summary>
    /// A root command with the <c>bench</c> verb and the <c>storage</c> CLI's connection options, for running the
    /// benchmark without the CLI (the <c>storage-bench</c> program; command lines are the same as with <c>storage</c>).
    /// </summary>
    /// <param name="stdout">Where results go.</param>
    /// <param name="stderr">Where progress and errors go.</param>
    /// <param name="environment">Looks up environment variables; null for the process environment.</param>
    /// <returns>The root command.</returns>
    public static RootCommand CreateStandaloneRoot(TextWriter stdout, TextWriter stderr, Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        var globals = new Storage.Cli.GlobalOptions();
        var root = new RootCommand("storage-bench: the `storage bench` verb on its own (same options as `storage bench`).");
        globals.AddTo(root);
        root.Subcommands.Add(Create(stdout, stderr, parse => globals.ToClientOptions(parse, environment), environment));
        return root;
    }

    /// <summary>Runs <see cref="CreateStandaloneRoot"/> on <paramref name="args"/>; parse errors are one <c>error:</c> line and exit code 2.</summary>
    /// <param name="args">The arguments after the program name.</param>
    /// <param name="stdout">Where results go.</param>
    /// <param name="stderr">Where progress and errors go.</param>
    /// <param name="ct">Cancels the run.</param>
    /// <returns>The exit code.</returns>
    public static async Task<int> RunStandaloneAsync(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        var parse = CreateStandaloneRoot(stdout, stderr).Parse(args);
        if (parse.Action is System.CommandLine.Invocation.ParseErrorAction)
        {
            var first = parse.Errors.Select(e => e.Message).FirstOrDefault() ?? "invalid command line";
            return Fail(stderr, ExitUsage, $"{first} (see 'storage-bench bench --help')");
        }

        return await parse.InvokeAsync(new InvocationConfiguration { Output = stdout, Error = stderr }, ct).ConfigureAwait(false);
    }

    private static Command Compare(TextWriter stdout, TextWriter stderr)
    {
        var paths = new Argument<string[]>("paths") { Description = "Result files (--json of earlier runs), or folders of them", Arity = ArgumentArity.OneOrMore };
        var noTargets = new Option<bool>("--no-targets") { Description = "Only the table: do not check the store's targets against etcd and the Orleans baseline" };
        var command = new Command("compare", "Print saved results side by side, grouped by label, with ratios against etcd and the plain Orleans way, and check the store's targets") { paths, noTargets };
        command.SetAction(async (parse, ct) =>
        {
            var results = new List<BenchResult>();
            foreach (var path in parse.GetValue(paths) ?? [])
            {
                IEnumerable<string> files = System.IO.Directory.Exists(path)
                    ? System.IO.Directory.EnumerateFiles(path, "*.json").Order(StringComparer.Ordinal)
                    : [path];
                foreach (var file in files)
                {
                    try
                    {
                        results.Add(await BenchResultJson.ReadAsync(file, ct).ConfigureAwait(false));
                    }
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
                    {
                        return Fail(stderr, ExitError, $"cannot read result {file}: {e.Message}");
                    }
                }
            }

            if (results.Count == 0)
            {
                return Fail(stderr, ExitError, "no results found");
            }

            await stdout.WriteAsync(BenchComparison.Format(results, parse.GetValue(noTargets) ? null : BenchComparison.IssueTargets)).ConfigureAwait(false);
            return ExitOk;
        });
        return command;
    }

    private static async Task<BenchResult> RunWithProgressAsync(BenchRunner runner, string title, TextWriter stderr, bool quiet, CancellationToken ct)
    {
        if (quiet)
        {
            return await runner.RunAsync(null, ct).ConfigureAwait(false);
        }

        var output = new AnsiConsoleOutput(stderr);
        if (!output.IsTerminal)
        {
            // A log, not a screen: one line when the phase changes and every few seconds while it lasts.
            var last = DateTime.MinValue;
            var lastPhase = (BenchPhase)(-1);
            return await runner.RunAsync(
                p =>
                {
                    var now = DateTime.UtcNow;
                    if (p.Phase != lastPhase || now - last >= TimeSpan.FromSeconds(2))
                    {
                        stderr.WriteLine($"{title}: {Describe(p)}");
                        last = now;
                        lastPhase = p.Phase;
                    }
                },
                ct).ConfigureAwait(false);
        }

        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = output,
            Ansi = AnsiSupport.Detect,
            ColorSystem = ColorSystemSupport.Detect,
            Interactive = InteractionSupport.Yes,
        });
        return await console.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new SpinnerColumn())
            .StartAsync(async context =>
            {
                var task = context.AddTask(Markup.Escape($"{title}: starting"), maxValue: 100);
                var result = await runner.RunAsync(
                    p =>
                    {
                        task.Description = Markup.Escape($"{title}: {Describe(p)}");
                        task.Value = Math.Clamp(p.Fraction, 0, 1) * 100;
                    },
                    ct).ConfigureAwait(false);
                task.StopTask();
                return result;
            }).ConfigureAwait(false);
    }

    private static string Describe(BenchProgress p)
    {
        var inv = CultureInfo.InvariantCulture;
        return p.Phase switch
        {
            BenchPhase.Preparing => "connecting",
            BenchPhase.Preloading => string.Create(inv, $"preloading {p.Ops} keys written, {p.Errors} failed ({p.OpsPerSecond:0} keys/s)"),
            BenchPhase.WarmingUp => string.Create(inv, $"warming up {p.Elapsed.TotalSeconds:0.0} s"),
            BenchPhase.Done => string.Create(inv, $"done: {p.Ops} ops, {p.Errors} errors, {p.OpsPerSecond:0} ops/s, p99 {BenchReport.Ms(p.RecentP99Ms)} ms"),
            _ => string.Create(inv, $"{(p.Phase == BenchPhase.Draining ? "draining" : "measuring")} {p.Elapsed.TotalSeconds:0.0} s, {p.Ops} ops, {p.Errors} errors, {p.OpsPerSecond:0} ops/s, p99 {BenchReport.Ms(p.RecentP99Ms)} ms"),
        };
    }

    private static (int Code, string Message) Classify(Exception e, BenchDriverKind driver) => e switch
    {
        StorageConnectionException => (ExitUnavailable, e.Message),
        ArgumentException => (ExitUsage, e.Message),
        OperationCanceledException => (ExitError, "cancelled"),
        _ when BenchDrivers.NeedsCluster(driver) && StorageClient.IsTransient(e) => (ExitUnavailable, $"cluster unavailable: {e.Message}"),
        _ => (ExitError, $"{driver.Name()}: {e.GetType().Name}: {e.Message}"),
    };

    private static int Fail(TextWriter stderr, int code, string message)
    {
        var line = string.Join(' ', message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        stderr.WriteLine($"error: {line}");
        return code;
    }

    private static Option<string> Choice(string name, string description, string defaultValue, params string[] values)
    {
        var option = new Option<string>(name) { Description = description, DefaultValueFactory = _ => defaultValue };
        option.AcceptOnlyFromAmong(values);
        return option;
    }

    private static TimeSpan Seconds(double value, string option) =>
        value >= 0 && !double.IsInfinity(value) && !double.IsNaN(value)
            ? TimeSpan.FromSeconds(value)
            : throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"{option} must be a non-negative number of seconds, not {value}"));

    private static string? FirstNonEmpty(params string?[] values) => values.FirstOrDefault(v => !string.IsNullOrWhiteSpace(v));
}
