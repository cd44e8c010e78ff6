using System.CommandLine;
using System.CommandLine.Invocation;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Spectre.Console;
using Storage.Client;

namespace Storage.Cli;

/// <summary>
/// The <c>storage</c> command: <c>put</c>, <c>get</c>, <c>delete</c>, <c>cas</c>, <c>scan</c>, <c>status</c> and the
/// operator verbs <c>drain</c>, <c>undrain</c>, <c>split</c> and <c>replace</c> against a cluster found through its PostgreSQL membership table or a list of gateways. Runs in-process with
/// any writers so that tests drive it exactly as a shell does. Errors are one line on stderr starting with
/// <c>error: </c>; exit codes are in <see cref="ExitCodes"/>.
/// </summary>
public static class StorageCli
{
    // Values are printed for people and scripts reading UTF-8, not embedded in HTML: keep non-ASCII text readable.
    private static readonly JsonWriterOptions JsonOptions = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Runs the command line <paramref name="args"/> and returns its exit code.</summary>
    /// <param name="args">The arguments after the program name.</param>
    /// <param name="stdout">Where results (and help) go.</param>
    /// <param name="stderr">Where the one-line error goes.</param>
    /// <param name="environment">Looks up environment variables (defaults to the process environment); tests pass their own.</param>
    /// <param name="configureClient">Adjusts the client options built from the command line just before connecting (logging, or a test transport); null for none.</param>
    /// <param name="ct">Cancels the running verb.</param>
    /// <returns>An exit code from <see cref="ExitCodes"/>.</returns>
    public static async Task<int> RunAsync(
        string[] args,
        TextWriter stdout,
        TextWriter stderr,
        Func<string, string?>? environment = null,
        Action<StorageClientOptions>? configureClient = null,
        CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        var context = new CliContext(stdout, stderr, environment ?? Environment.GetEnvironmentVariable, new GlobalOptions(), configureClient);
        var root = BuildRoot(context);
        var parse = root.Parse(args);
        if (parse.Action is ParseErrorAction)
        {
            // System.CommandLine would print every error plus the full help; one line is easier to read in a script's log.
            // An unknown verb also yields "Required command was not provided" first; the unknown token is the real news.
            var first = parse.Errors
                .OrderByDescending(e => parse.UnmatchedTokens.Any(t => e.Message.Contains($"'{t}'", StringComparison.Ordinal)))
                .Select(e => e.Message)
                .FirstOrDefault() ?? "invalid command line";
            return Fail(context, ExitCodes.Usage, $"{first} (see 'storage --help')");
        }

        var invocation = new InvocationConfiguration
        {
            Output = stdout,
            Error = stderr,
            // Verbs map their own exceptions to exit codes; anything that escapes is a bug worth a stack trace.
            EnableDefaultExceptionHandler = true,
        };
        return await parse.InvokeAsync(invocation, ct).ConfigureAwait(false);
    }

    private static RootCommand BuildRoot(CliContext context)
    {
        var root = new RootCommand(
            "storage: the command line of the Storage key-value store.\n" +
            "Exit codes: 0 ok, 1 error, 2 usage, 3 version conflict, 4 not found (get), 5 cluster or shard unavailable.");
        context.Globals.AddTo(root);
        root.Subcommands.Add(Put(context));
        root.Subcommands.Add(Get(context));
        root.Subcommands.Add(Delete(context));
        root.Subcommands.Add(Cas(context));
        root.Subcommands.Add(Scan(context));
        root.Subcommands.Add(Status(context));
        root.Subcommands.Add(Drain(context));
        root.Subcommands.Add(Undrain(context));
        root.Subcommands.Add(Split(context));
        root.Subcommands.Add(Replace(context));
        root.Subcommands.Add(Storage.Bench.BenchCommand.Create(context.Out, context.Err, parse =>
        {
            var options = context.Globals.ToClientOptions(parse, context.Environment);
            context.ConfigureClient?.Invoke(options);
            return options;
        }, context.Environment));
        return root;
    }

    private static Command Put(CliContext context)
    {
        var key = new Argument<string>("key") { Description = "The key" };
        var value = new Argument<string?>("value") { Description = "The value, stored as UTF-8 (or use --file)", Arity = ArgumentArity.ZeroOrOne };
        var file = FileOption();
        var command = new Command("put", "Write a key; prints the new version") { key, value, file };
        command.Validators.Add(r => RequireOneValue(r, value, file));
        command.SetAction(async (parse, ct) =>
        {
            var bytes = await ReadValueAsync(context, parse, value, file, ct).ConfigureAwait(false);
            return bytes is null ? ExitCodes.Error : await ExecuteAsync(parse, context, ct, async client =>
            {
                var result = await client.PutAsync(parse.GetValue(key)!, bytes, ct).ConfigureAwait(false);
                context.Out.WriteLine(Version(result.Version));
                return ExitCodes.Ok;
            }).ConfigureAwait(false);
        });
        return command;
    }

    private static Command Get(CliContext context)
    {
        var key = new Argument<string>("key") { Description = "The key" };
        var consistency = ConsistencyOption();
        var json = new Option<bool>("--json") { Description = "Print {\"key\",\"found\",\"version\",\"value\"} (or \"valueBase64\" for a value that is not UTF-8)" };
        var command = new Command("get", "Read a key; prints its value (UTF-8) and version") { key, consistency, json };
        command.SetAction((parse, ct) => ExecuteAsync(parse, context, ct, async client =>
        {
            var name = parse.GetValue(key)!;
            var result = await client.GetAsync(name, ParseConsistency(parse.GetValue(consistency)), ct).ConfigureAwait(false);
            if (parse.GetValue(json))
            {
                context.Out.WriteLine(GetJson(name, result));
                return result.Found ? ExitCodes.Ok : ExitCodes.NotFound;
            }

            if (!result.Found)
            {
                return Fail(context, ExitCodes.NotFound, $"key '{name}' not found");
            }

            context.Out.WriteLine(Encoding.UTF8.GetString(result.Value ?? Array.Empty<byte>()));
            context.Out.WriteLine(Version(result.Version));
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Delete(CliContext context)
    {
        var key = new Argument<string>("key") { Description = "The key" };
        var command = new Command("delete", "Delete a key (a missing key is not an error); prints the new version, 0") { key };
        command.SetAction((parse, ct) => ExecuteAsync(parse, context, ct, async client =>
        {
            var result = await client.DeleteAsync(parse.GetValue(key)!, ct).ConfigureAwait(false);
            context.Out.WriteLine($"{Version(result.Version)} ({(result.Existed ? "deleted" : "did not exist")})");
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Cas(CliContext context)
    {
        var key = new Argument<string>("key") { Description = "The key" };
        var expected = new Argument<long>("expected-version") { Description = "The version the key must have now; 0 = it must not exist" };
        var value = new Argument<string?>("value") { Description = "The new value, stored as UTF-8 (or use --file)", Arity = ArgumentArity.ZeroOrOne };
        var file = FileOption();
        var command = new Command("cas", "Write a key only if it has the expected version; prints the new version (exit 3 on a conflict)") { key, expected, value, file };
        command.Validators.Add(r => RequireOneValue(r, value, file));
        command.SetAction(async (parse, ct) =>
        {
            var bytes = await ReadValueAsync(context, parse, value, file, ct).ConfigureAwait(false);
            return bytes is null ? ExitCodes.Error : await ExecuteAsync(parse, context, ct, async client =>
            {
                var result = await client.CompareAndSwapAsync(parse.GetValue(key)!, parse.GetValue(expected), bytes, ct).ConfigureAwait(false);
                context.Out.WriteLine(Version(result.Version));
                return ExitCodes.Ok;
            }).ConfigureAwait(false);
        });
        return command;
    }

    private static Command Scan(CliContext context)
    {
        var prefix = new Argument<string>("prefix") { Description = "Key prefix (omit or \"\" for every key)", Arity = ArgumentArity.ZeroOrOne, DefaultValueFactory = _ => string.Empty };
        var limit = new Option<int>("--limit", "-n") { Description = "Most keys to print; with --all, keys per round trip", DefaultValueFactory = _ => 100 };
        var all = new Option<bool>("--all") { Description = "Print every matching key, page after page" };
        var after = new Option<string?>("--after") { Description = "Start after this key (from the previous page)", HelpName = "key" };
        var consistency = ConsistencyOption();
        var command = new Command("scan", "List keys with a prefix in key order: key, version and value, tab-separated") { prefix, limit, all, after, consistency };
        limit.Validators.Add(r =>
        {
            // An option validator: a command validator sees 0, not the default, when --limit is absent.
            if (r.GetValueOrDefault<int>() < 1)
            {
                r.AddError("--limit must be at least 1");
            }
        });
        command.SetAction((parse, ct) => ExecuteAsync(parse, context, ct, async client =>
        {
            var p = parse.GetValue(prefix) ?? string.Empty;
            var n = parse.GetValue(limit);
            var level = ParseConsistency(parse.GetValue(consistency));
            string? next = parse.GetValue(after);
            do
            {
                var page = await client.ScanAsync(p, next, n, level, ct).ConfigureAwait(false);
                foreach (var item in page.Items)
                {
                    context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{item.Key}\t{item.Version}\t{Encoding.UTF8.GetString(item.Value)}"));
                }

                next = page.ContinueAfter;
                if (!parse.GetValue(all) && next is not null)
                {
                    // Not an error: a hint for humans, kept off stdout so that scripts see only data there.
                    context.Err.WriteLine($"more: keys continue after '{next}' (use --after '{next}' or --all)");
                    break;
                }
            }
            while (next is not null);

            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Status(CliContext context)
    {
        var dead = new Option<bool>("--dead") { Description = "Also list dead silos (Orleans keeps their membership rows for days)" };
        var json = new Option<bool>("--json") { Description = "Print the status as one JSON object (every silo, dead ones too; see docs/client-usage.md for its shape)" };
        var command = new Command("status", "Show the shard map version, the silos (address, name, region, zone, state, replica and leader counts), the replica moves in flight, the drained silos and every shard's leader and replicas with commit index, applied index and apply lag") { dead, json };
        command.SetAction((parse, ct) => ExecuteAsync(parse, context, ct, async client =>
        {
            var status = await client.GetStatusAsync(ct).ConfigureAwait(false);
            if (parse.GetValue(json))
            {
                context.Out.WriteLine(StatusJson.Write(status, JsonOptions));
            }
            else
            {
                StatusView.Render(ConsoleFor(context.Out), status, parse.GetValue(dead));
            }

            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Drain(CliContext context)
    {
        var silo = SiloArgument();
        var command = new Command("drain", "Move every replica and leader off a silo (by name), e.g. before removing it; returns once the drain is recorded, the moves follow (watch 'storage status')") { silo };
        command.SetAction((parse, ct) => ExecuteAsync(parse, context, ct, async client =>
        {
            var name = parse.GetValue(silo)!;
            await client.DrainAsync(name, ct).ConfigureAwait(false);
            context.Out.WriteLine($"draining {name}: its replicas and leaders move off in steps and it gets nothing new until 'storage undrain {name}' (watch 'storage status')");
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Undrain(CliContext context)
    {
        var silo = SiloArgument();
        var command = new Command("undrain", "End a drain: the silo takes replicas again and is filled gradually") { silo };
        command.SetAction((parse, ct) => ExecuteAsync(parse, context, ct, async client =>
        {
            var name = parse.GetValue(silo)!;
            await client.UndrainAsync(name, ct).ConfigureAwait(false);
            context.Out.WriteLine($"{name} is not drained: it takes replicas again and is filled gradually");
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Split(CliContext context)
    {
        var shard = new Argument<int>("shard") { Description = "The id of the shard to split (see 'storage status')" };
        var at = new Option<string?>("--at") { Description = "The first key hash of the new shard, 64-bit hexadecimal (e.g. 8000000000000000); default: the hash that halves the shard's keys", HelpName = "hash" };
        at.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<string?>() is { } text && ParseHash(text) is null)
            {
                r.AddError($"--at must be a 64-bit hash in hexadecimal (1 to 16 digits, optional 0x), not '{text}'");
            }
        });
        var command = new Command("split", "Split a shard in two at a key hash; prints the shard map version that has the new shard. Not retried: after an unknown outcome (exit 5) check 'storage status' before asking again") { shard, at };
        command.SetAction((parse, ct) => ExecuteAsync(parse, context, ct, async client =>
        {
            var id = parse.GetValue(shard);
            var splitAt = parse.GetValue(at) is { } text ? ParseHash(text) : null;
            var version = await client.SplitAsync(id, splitAt, ct).ConfigureAwait(false);
            context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"split shard {id}{(splitAt is { } h ? $" at {h:x16}" : "")}: shard map version {version}"));
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Replace(CliContext context)
    {
        var shard = new Argument<int>("shard") { Description = "The shard (see 'storage status')" };
        var replica = new Argument<long>("replica") { Description = "The id of the replica to replace" };
        var silo = SiloArgument();
        silo.Description = "The name of the silo for the new replica";
        var command = new Command("replace", "Replace a replica with a new one on another silo through Raft membership changes (learner, catch up, promote, then the old one is removed); prints the new replica's id, the steps follow (watch 'storage status')") { shard, replica, silo };
        command.SetAction((parse, ct) => ExecuteAsync(parse, context, ct, async client =>
        {
            var (id, old, name) = (parse.GetValue(shard), parse.GetValue(replica), parse.GetValue(silo)!);
            var created = await client.ReplaceReplicaAsync(id, old, name, ct).ConfigureAwait(false);
            context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"replacing replica {old} of shard {id} with replica {created} on {name}: it joins as a learner, catches up and is promoted, then {old} is removed (watch 'storage status')"));
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Argument<string> SiloArgument()
    {
        var silo = new Argument<string>("silo") { Description = "The silo's name (Storage:SiloName; the name column of 'storage status')" };
        silo.Validators.Add(r =>
        {
            if (string.IsNullOrWhiteSpace(r.GetValueOrDefault<string>()))
            {
                r.AddError("the silo name must not be empty");
            }
        });
        return silo;
    }

    /// <summary>A 64-bit hash written in hexadecimal (as <c>storage status</c> and the logs print them), or null.</summary>
    private static ulong? ParseHash(string text)
    {
        var digits = text.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? text[2..] : text;
        return digits.Length is >= 1 and <= 16 && ulong.TryParse(digits, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var hash)
            ? hash
            : null;
    }

    /// <summary>Builds the client options, connects, runs the verb and turns every failure into one stderr line and an exit code.</summary>
    private static async Task<int> ExecuteAsync(ParseResult parse, CliContext context, CancellationToken ct, Func<StorageClient, Task<int>> verb)
    {
        StorageClientOptions options;
        try
        {
            options = context.Globals.ToClientOptions(parse, context.Environment);
            context.ConfigureClient?.Invoke(options);
        }
        catch (ArgumentException e)
        {
            return Fail(context, ExitCodes.Usage, e.Message);
        }

        try
        {
            await using var client = await StorageClient.ConnectAsync(options, ct).ConfigureAwait(false);
            return await verb(client).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            var (code, message) = Classify(e);
            return Fail(context, code, message);
        }
    }

    private static (int Code, string Message) Classify(Exception e) => e switch
    {
        VersionConflictException => (ExitCodes.VersionConflict, e.Message),
        StorageConnectionException => (ExitCodes.Unavailable, e.Message),
        ShardUnavailableException => (ExitCodes.Unavailable, e.Message),
        _ when StorageClient.IsTransient(e) => (ExitCodes.Unavailable, $"cluster unavailable: {e.Message}"),
        StorageException => (ExitCodes.Error, e.Message),
        OperationCanceledException => (ExitCodes.Error, "cancelled"),
        IOException or UnauthorizedAccessException => (ExitCodes.Error, e.Message),
        _ => (ExitCodes.Error, $"{e.GetType().Name}: {e.Message}"),
    };

    private static int Fail(CliContext context, int code, string message)
    {
        // One line, whatever the exception text held: scripts grep for "error: ".
        var line = string.Join(' ', message.Split(new[] { '\r', '\n' }, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        context.Err.WriteLine($"error: {line}");
        return code;
    }

    private static Option<FileInfo?> FileOption() => new("--file", "-f")
    {
        Description = "Read the value from this file (bytes as they are) instead of the value argument",
        HelpName = "path",
    };

    private static Option<string> ConsistencyOption()
    {
        var option = new Option<string>("--consistency")
        {
            Description = "linearizable (default: reflects every acknowledged write) or eventual (any replica, may be stale)",
            DefaultValueFactory = _ => "linearizable",
        };
        option.AcceptOnlyFromAmong("linearizable", "eventual");
        return option;
    }

    private static ReadConsistency ParseConsistency(string? value) =>
        string.Equals(value, "eventual", StringComparison.OrdinalIgnoreCase) ? ReadConsistency.Eventual : ReadConsistency.Linearizable;

    private static void RequireOneValue(System.CommandLine.Parsing.CommandResult result, Argument<string?> value, Option<FileInfo?> file)
    {
        var hasValue = result.GetValue(value) is not null;
        var hasFile = result.GetValue(file) is not null;
        if (hasValue == hasFile)
        {
            result.AddError(hasValue ? "give either a value or --file, not both" : "give a value or --file");
        }
    }

    /// <summary>The value to write, read before connecting so that a bad --file fails fast; null (error printed) if unreadable.</summary>
    private static async Task<byte[]?> ReadValueAsync(CliContext context, ParseResult parse, Argument<string?> value, Option<FileInfo?> file, CancellationToken ct)
    {
        if (parse.GetValue(file) is not { } path)
        {
            return Encoding.UTF8.GetBytes(parse.GetValue(value)!);
        }

        try
        {
            return await File.ReadAllBytesAsync(path.FullName, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Fail(context, ExitCodes.Error, $"cannot read --file '{path.FullName}': {e.Message}");
            return null;
        }
    }

    private static string Version(long version) => string.Create(CultureInfo.InvariantCulture, $"version {version}");

    private static string GetJson(string key, GetResult result)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, JsonOptions))
        {
            json.WriteStartObject();
            json.WriteString("key", key);
            json.WriteBoolean("found", result.Found);
            json.WriteNumber("version", result.Version);
            if (result.Value is { } bytes)
            {
                if (TryUtf8(bytes, out var text))
                {
                    json.WriteString("value", text);
                }
                else
                {
                    json.WriteBase64String("valueBase64", bytes);
                }
            }

            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static bool TryUtf8(byte[] bytes, out string text)
    {
        try
        {
            text = StrictUtf8.GetString(bytes);
            return true;
        }
        catch (DecoderFallbackException)
        {
            text = string.Empty;
            return false;
        }
    }

    private static IAnsiConsole ConsoleFor(TextWriter writer)
    {
        var output = new AnsiConsoleOutput(writer);
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = output,
            Ansi = output.IsTerminal ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = output.IsTerminal ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
        });
        if (!output.IsTerminal)
        {
            // Redirected or captured: no terminal width to respect, and wrapped table cells are hard to read or grep.
            console.Profile.Width = 160;
        }

        return console;
    }

    private sealed record CliContext(TextWriter Out, TextWriter Err, Func<string, string?> Environment, GlobalOptions Globals, Action<StorageClientOptions>? ConfigureClient);
}
